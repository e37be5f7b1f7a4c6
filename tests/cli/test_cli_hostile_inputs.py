"""Inputs that used to end in a traceback, a hang or a cleartext key: each is now one line and exit 1."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from cli_support import ADMIN_KEY, DESIRED, run_cli

from datacontrols.credentials import check_base_url
from datacontrols.errors import ConfigError

UNREACHABLE = "http://127.0.0.1:9/v1"  # loopback, nothing listens: a request would fail, not hang


def one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert "Traceback" not in stderr
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: ")
    return lines[0]


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://[::1/v1", "is not a URL"),
        ("ftp://api.example.com/v1", "must be https"),
        ("https://user:pw@api.example.com/v1", "no user, password"),
        ("http://api.example.com/v1", "cleartext"),
        ("not a url", "must be https"),
    ],
)
def test_a_bad_base_url_is_one_line_before_any_request(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, url: str, says: str
) -> None:
    done = run_cli(capsys, monkeypatch, ["--dry-run", "--desired-state", str(DESIRED), "--base-url", url])
    assert done.code == 1
    line = one_error_line(done.stderr)
    assert says in line
    assert "pw@" not in line or "user:pw" in url  # the URL as given is echoed, nothing else


def test_plain_http_is_allowed_to_this_machine_and_on_explicit_request(monkeypatch: pytest.MonkeyPatch) -> None:
    for url in ("http://127.0.0.1:8089/v1", "http://localhost/v1", "http://[::1]:8089/v1", "https://x.example/v1"):
        assert check_base_url(url) == url
    with pytest.raises(ConfigError, match="cleartext"):
        check_base_url("http://10.0.0.5/v1")
    monkeypatch.setenv("DATACONTROLS_ALLOW_INSECURE_BASE_URL", "1")
    assert check_base_url("http://10.0.0.5/v1") == "http://10.0.0.5/v1"


def test_the_daemon_checks_its_base_url_too(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    done = run_cli(
        capsys, monkeypatch, ["serve", "--desired-state", str(DESIRED)], DATACONTROLS_BASE_URL="http://a.example"
    )
    assert done.code == 1
    assert "cleartext" in one_error_line(done.stderr)


@pytest.mark.parametrize("key", ["sk-admin-caf\u00e9", "sk-admin-\u200bzero-width", "sk-admin-\x07bell"])
def test_a_key_that_no_header_can_carry_is_one_line_and_not_echoed(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, key: str
) -> None:
    key_file = tmp_path / "key"
    key_file.write_text(key, encoding="utf-8")
    args = ["--dry-run", "--desired-state", str(DESIRED), "--admin-key-file", str(key_file), "--base-url", UNREACHABLE]
    done = run_cli(capsys, monkeypatch, args)
    assert done.code == 1
    line = one_error_line(done.stderr)
    assert "not printable ASCII" in line
    assert key not in done.stderr + done.stdout and "admin-caf" not in done.stderr


def test_a_device_or_a_fifo_as_key_file_is_refused_at_once(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fifo = tmp_path / "key"
    os.mkfifo(fifo)
    for path in ("/dev/zero", str(fifo)):
        done = run_cli(capsys, monkeypatch, ["--dry-run", "--desired-state", str(DESIRED), "--admin-key-file", path])
        assert done.code == 1
        assert "not a regular file" in one_error_line(done.stderr)


def test_a_key_file_far_larger_than_a_key_is_refused(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    big = tmp_path / "key"
    big.write_text("sk-admin-" + "a" * 100_000, encoding="utf-8")
    done = run_cli(capsys, monkeypatch, ["--dry-run", "--desired-state", str(DESIRED), "--admin-key-file", str(big)])
    assert done.code == 1
    assert "larger than" in one_error_line(done.stderr)


@pytest.mark.parametrize(
    ("content", "says"),
    [("[" * 100_000, "nested too deeply"), ('{"x": ' + "9" * 5000 + "}", "number too long")],
)
def test_a_plan_file_that_breaks_the_json_parser_is_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, content: str, says: str
) -> None:
    plan = tmp_path / "plan.json"
    plan.write_text(content, encoding="utf-8")
    done = run_cli(capsys, monkeypatch, ["apply", str(plan)], DATACONTROLS_BASE_URL=UNREACHABLE)
    assert done.code == 1
    assert says in one_error_line(done.stderr)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--log-level", "trace", "validate"], "--log-level must be one of"),
        (["--log-format", "xml", "validate"], "--log-format must be one of"),
    ],
)
def test_an_unknown_logging_option_is_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, args: list[str], says: str
) -> None:
    done = run_cli(capsys, monkeypatch, args)
    assert done.code == 1
    assert says in one_error_line(done.stderr)


@pytest.mark.parametrize("budget", ["nan", "-1", "inf"])
def test_a_retry_budget_that_never_ends_or_is_negative_is_refused(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, budget: str
) -> None:
    for command in (["--dry-run"], ["export", "--out", "x"], ["apply", "plan.json"]):
        done = run_cli(capsys, monkeypatch, [*command, "--retry-budget", budget], DATACONTROLS_BASE_URL=UNREACHABLE)
        assert done.code == 1, (command, done)
        assert "--retry-budget" in done.stderr and "Traceback" not in done.stderr
        assert ADMIN_KEY not in done.stderr
