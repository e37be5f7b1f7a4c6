"""`emulator_command`: its options reach `serve` as the right configuration."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import typer
from emulator_support import ADMIN_KEY
from typer.testing import CliRunner

from datacontrols.commands import emulator as emulator_cli
from datacontrols.emulator import FaultConfig, RateLimitConfig
from datacontrols.emulator import server as emulator_server


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    recorded: list[dict[str, Any]] = []

    def fake_serve(host: str, port: int, **options: Any) -> None:
        recorded.append({"host": host, "port": port, **options})

    monkeypatch.setattr(emulator_server, "serve", fake_serve)
    return recorded


def run(*args: str, env: dict[str, str | None] | None = None) -> Any:
    app = typer.Typer()
    app.command()(emulator_cli.emulator_command)
    # Unset the key variable unless the test sets it: the outer environment must not decide the result.
    return CliRunner().invoke(app, list(args), env={"DATACONTROLS_EMULATOR_ADMIN_KEY": None, **(env or {})})


def test_defaults_and_the_key_from_the_environment(calls: list[dict[str, Any]]) -> None:
    result = run(env={"DATACONTROLS_EMULATOR_ADMIN_KEY": ADMIN_KEY})
    assert result.exit_code == 0, result.output
    (call,) = calls
    assert (call["host"], call["port"], call["admin_key"]) == ("127.0.0.1", 8089, ADMIN_KEY)
    assert (call["seed"], call["dump_on_exit"], call["faults"], call["rate_limit"]) == (None, None, None, None)
    assert ADMIN_KEY not in result.output


def test_every_option_is_passed_on(calls: list[dict[str, Any]], tmp_path: Path) -> None:
    seed = tmp_path / "seed.yaml"
    seed.write_text("projects: []\n")
    result = run(
        *("--admin-key", ADMIN_KEY, "--host", "0.0.0.0", "--port", "9000", "--seed", str(seed)),
        *("--dump-on-exit", str(tmp_path / "out.json"), "--latency", "0.25", "--fault-rate", "0.3"),
        *("--rate-limit-per-minute", "8", "--rng-seed", "4"),
        *("--approved-retention", "zero_data_retention", "--approved-retention", "modified_abuse_monitoring"),
    )
    assert result.exit_code == 0, result.output
    (call,) = calls
    assert (call["host"], call["port"], call["seed"], call["rng_seed"]) == ("0.0.0.0", 9000, seed, 4)
    assert call["dump_on_exit"] == tmp_path / "out.json"
    assert call["faults"] == FaultConfig(latency=0.25, rate_limited=0.15, server_error=0.15)
    assert call["rate_limit"] == RateLimitConfig(per_minute=8)
    assert call["approved_retention_types"] == ["zero_data_retention", "modified_abuse_monitoring"]


def test_bad_options_are_refused(calls: list[dict[str, Any]]) -> None:
    assert run().exit_code != 0, "the admin key is required"
    assert run("--admin-key", ADMIN_KEY, "--approved-retention", "forever").exit_code != 0
    assert run("--admin-key", ADMIN_KEY, "--fault-rate", "1.5").exit_code != 0
    assert calls == []
