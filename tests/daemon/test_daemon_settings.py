"""`reconcile serve` settings: durations, --listen, flags over DATACONTROLS_* over defaults, and CLI errors."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest
from daemon_support import ADMIN_KEY, DESIRED_STATE
from pydantic import ValidationError
from typer.testing import CliRunner

from datacontrols.cli import app
from datacontrols.daemon.settings import DaemonSettings, parse_duration, parse_listen
from datacontrols.redaction import redact


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30s", 30.0),
        ("5m", 300.0),
        ("1h", 3600.0),
        ("1h30m", 5400.0),
        ("2m30s", 150.0),
        ("250ms", 0.25),
        ("90", 90.0),
        ("0.5", 0.5),
        (" 2S ", 2.0),
        ("1d", 86400.0),
        (45, 45.0),
        (2.5, 2.5),
    ],
)
def test_durations(text: Any, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "5x", "m5", "5 minutes", "-1s", "1h-5m", True, None, "s"])
def test_bad_durations(text: Any) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0.0.0.0:8080", ("0.0.0.0", 8080)),
        (":9090", ("0.0.0.0", 9090)),
        ("[::1]:8080", ("::1", 8080)),
        ("localhost:0", ("localhost", 0)),
    ],
)
def test_listen(text: str, expected: tuple[str, int]) -> None:
    assert parse_listen(text) == expected


@pytest.mark.parametrize("text", ["8080", "host:", "host:http", "host:70000"])
def test_bad_listen(text: str) -> None:
    with pytest.raises(ValueError, match="listen"):
        parse_listen(text)


def test_defaults_match_the_manifests_expectations(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("INTERVAL", "MODE", "LISTEN", "GRACE_PERIOD", "JITTER", "WEBHOOK"):
        monkeypatch.delenv(f"DATACONTROLS_{name}", raising=False)
    settings = DaemonSettings()
    assert settings.mode == "report"  # never writes unless told to
    assert settings.interval == 300.0
    assert settings.grace_period == 30.0
    assert settings.host_port == ("0.0.0.0", 8080)
    assert settings.effective_jitter == 30.0  # a tenth of 5m, capped at 30 s
    assert DaemonSettings(interval="2s").effective_jitter == pytest.approx(0.2)
    assert DaemonSettings(interval="2s", jitter="0").effective_jitter == 0.0


def test_environment_fills_what_flags_leave_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATACONTROLS_INTERVAL", "2m")
    monkeypatch.setenv("DATACONTROLS_MODE", "enforce")
    monkeypatch.setenv("DATACONTROLS_LISTEN", "127.0.0.1:9999")
    settings = DaemonSettings(mode="report")  # a flag wins over the environment
    assert (settings.interval, settings.mode, settings.listen) == (120.0, "report", "127.0.0.1:9999")


@pytest.mark.parametrize(
    "values",
    [
        {"mode": "apply"},
        {"interval": "0s"},
        {"interval": "soon"},
        {"grace_period": "0"},
        {"listen": "8080"},
        {"webhook_format": "teams"},
        {"webhook": "ftp://example.com/hook"},
        {"log_level": "loud"},
        {"leader_election_lease": "My_Lease"},
        {"leader_election_namespace": "-ns"},
    ],
)
def test_bad_settings_are_refused(values: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        DaemonSettings(**values)


def test_the_webhook_url_is_a_secret() -> None:
    url = "https://hooks.slack.com/services/T000/B000/abcdefghijklmnop"
    settings = DaemonSettings(webhook=url)
    assert url not in repr(settings) and url not in str(settings.model_dump())
    assert settings.webhook is not None and settings.webhook.get_secret_value() == url
    assert url not in redact(f"posting to {url}")


# --- the command line ----------------------------------------------------------------------------------


def _invoke(*args: str, env: dict[str, str] | None = None) -> Any:
    return CliRunner().invoke(app, ["serve", *args], env={"OPENAI_ADMIN_KEY": "", **(env or {})})


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--mode", "apply"), "--mode"),
        (("--interval", "5x"), "--interval"),
        (("--listen", "nowhere"), "--listen"),
        (("--leader-election-lease", "Not A Name"), "--leader-election-lease: 'Not A Name' is not a Kubernetes name"),
    ],
)
def test_bad_flags_exit_1_with_one_line_each(args: tuple[str, ...], message: str) -> None:
    result = _invoke(*args)
    assert result.exit_code == 1
    assert f"error: {message}" in result.output


def test_no_key_exits_1_before_listening() -> None:
    result = _invoke("--desired-state", str(DESIRED_STATE), "--listen", "127.0.0.1:0")
    assert result.exit_code == 1
    assert "no admin key" in result.output


def test_a_taken_port_exits_1_and_says_so(tmp_path: Path) -> None:
    key_file = tmp_path / "admin-key"
    key_file.write_text(ADMIN_KEY + "\n")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = _invoke(
            "--desired-state", str(DESIRED_STATE), "--admin-key-file", str(key_file), "--listen", f"127.0.0.1:{port}"
        )
    assert result.exit_code == 1
    assert "cannot listen there" in result.output
    assert ADMIN_KEY not in result.output


def test_a_lease_without_kubernetes_credentials_exits_1_with_one_line(tmp_path: Path) -> None:
    broken = tmp_path / "kubeconfig"
    broken.write_text("clusters: [\n")
    for kubeconfig in (tmp_path / "missing", broken):
        result = _invoke(
            "--desired-state",
            str(DESIRED_STATE),
            "--listen",
            "127.0.0.1:0",
            "--leader-election-lease",
            "dc-leader",
            env={"OPENAI_ADMIN_KEY": "sk-admin-settings-tests-0123456789", "KUBECONFIG": str(kubeconfig)},
        )
        assert result.exit_code == 1, result.output
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: --leader-election-lease dc-leader: no Kubernetes")
        assert "Traceback" not in result.output
