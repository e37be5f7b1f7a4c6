"""Every option of the root command is honoured or refused for every subcommand: none is silently ignored.

`reconcile --dry-run apply PLAN` used to apply the plan. A root option written before a subcommand is now
refused (exit 1, one line, nothing sent), except the logging options, which every subcommand honours.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from cli_support import DESIRED, approved_demo_seed, run_cli, served_emulator

from datacontrols.cli import app

ROOT = typer.main.get_command(app)
SUBCOMMANDS = sorted(ROOT.commands)  # type: ignore[attr-defined]
HONOURED = {
    "log_level",
    "log_format",
    "no_color",
    "version",
    "install_completion",
    "show_completion",
}  # eager or output

# A value each root option accepts (what matters is that it is given, not what it says).
SAMPLE: dict[str, list[str]] = {
    "dry_run": ["--dry-run"],
    "desired_state": ["--desired-state", str(DESIRED)],
    "org": ["--org", "prod"],
    "output_format": ["--format", "json"],
    "detailed_exitcode": ["--detailed-exitcode"],
    "fail_on_uncorrectable": ["--fail-on-uncorrectable"],
    "auto_approve": ["--auto-approve"],
    "admin_key_file": ["--admin-key-file", "key.txt"],
    "base_url": ["--base-url", "http://127.0.0.1:9/v1"],
    "retry_budget": ["--retry-budget", "5"],
    "secret_sink": ["--secret-sink", "sink"],
    "out": ["--out", "plan.json"],
    "base_desired_state": ["--base-desired-state", str(DESIRED)],
    "projects": ["--project", "Support Bot"],
    "exclude_projects": ["--exclude-project", "Support Bot"],
    "no_removals": ["--no-removals"],
    "allow_unsafe": ["--allow-unsafe", "0" * 64],
    "gitlab_report": ["--gitlab-report", "report.json"],
}
# Arguments that make each subcommand otherwise valid, so only the root option can be the problem.
SUBCOMMAND_ARGS: dict[str, list[str]] = {"apply": ["plan.json"], "export": ["--out", "exported"]}

REFUSED = [(param.name, sub) for param in ROOT.params if param.name not in HONOURED for sub in SUBCOMMANDS]


def test_every_root_option_has_a_sample_value() -> None:
    names = {param.name for param in ROOT.params} - HONOURED
    assert names == set(SAMPLE), "a new root option needs a row in this table (honoured or refused?)"


@pytest.mark.parametrize(("option", "subcommand"), REFUSED)
def test_a_root_option_before_a_subcommand_is_refused_and_nothing_is_sent(
    option: str, subcommand: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    with served_emulator() as served:
        outcome = run_cli(
            capsys,
            monkeypatch,
            [*SAMPLE[option], subcommand, *SUBCOMMAND_ARGS.get(subcommand, [])],
            DATACONTROLS_BASE_URL=served.base_url,
        )
        assert outcome.code == 1, outcome
        lines = outcome.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), outcome.stderr
        assert SAMPLE[option][0] in lines[0]
        assert "Traceback" not in outcome.stderr
        assert list(served.emulator.requests) == [], "nothing may be sent"
    assert list(tmp_path.iterdir()) == [], "nothing may be written"


def test_dry_run_before_apply_names_the_conflict_and_writes_nothing(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The case that wrote 27 changes: a saved plan with pending changes, `--dry-run` before `apply`."""
    with served_emulator(approved_demo_seed()) as served:
        plan = tmp_path / "plan.json"
        saved = run_cli(
            capsys,
            monkeypatch,
            ["--dry-run", "--out", str(plan), "--desired-state", str(DESIRED)],
            DATACONTROLS_BASE_URL=served.base_url,
        )
        assert saved.code == 0, saved.stderr
        assert json.loads(plan.read_text())["plan"]["changes"], "the demo organization has changes to make"
        before = served.emulator.dump_state()
        outcome = run_cli(
            capsys,
            monkeypatch,
            ["--dry-run", "apply", str(plan), "--desired-state", str(DESIRED)],
            DATACONTROLS_BASE_URL=served.base_url,
        )
        assert outcome.code == 1
        assert "--dry-run cannot be combined with `reconcile apply`" in outcome.stderr
        assert served.emulator.requests.writes() == []
        assert served.emulator.dump_state() == before


@pytest.mark.parametrize("subcommand", ["validate", "schema"])
def test_logging_options_before_a_subcommand_are_honoured(
    subcommand: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    args = ["--log-level", "debug", "--log-format", "json", subcommand]
    if subcommand == "validate":
        args += ["--desired-state", str(DESIRED)]
    assert run_cli(capsys, monkeypatch, args).code == 0


def test_the_sdks_base_url_never_receives_the_admin_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """OPENAI_BASE_URL belongs to the OpenAI SDK (often an inference proxy): the admin key does not follow it."""
    from datacontrols.adminapi import DEFAULT_BASE_URL
    from datacontrols.gitops import resolve_base_url

    monkeypatch.setenv("OPENAI_BASE_URL", "https://llm-gateway.example.com/v1")
    monkeypatch.delenv("DATACONTROLS_BASE_URL", raising=False)
    assert resolve_base_url(None) == DEFAULT_BASE_URL
    monkeypatch.setenv("DATACONTROLS_BASE_URL", "https://admin-proxy.example.com/v1")
    assert resolve_base_url(None) == "https://admin-proxy.example.com/v1"
    assert resolve_base_url("https://flag.example.com/v1") == "https://flag.example.com/v1", "the flag wins"


def test_the_daemon_ignores_the_sdks_base_url_too(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from datacontrols.daemon.cli import build_daemon
    from datacontrols.daemon.settings import DaemonSettings

    key = tmp_path / "key"
    key.write_text("sk-admin-" + "k" * 40)
    monkeypatch.setenv("OPENAI_BASE_URL", "https://llm-gateway.example.com/v1")
    monkeypatch.delenv("DATACONTROLS_BASE_URL", raising=False)
    daemon = build_daemon(DaemonSettings(admin_key_file=key, desired_state=DESIRED))
    assert daemon.api.transport.base_url == "https://api.openai.com/v1"


def test_dash_h_is_help_and_completion_is_offered(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for args in (["-h"], ["serve", "-h"], ["apply", "-h"]):
        shown = run_cli(capsys, monkeypatch, args)
        assert shown.code == 0 and shown.stdout.startswith("Usage: reconcile"), (args, shown)
    root = run_cli(capsys, monkeypatch, ["--help"])
    assert "--install-completion" in root.stdout and "--show-completion" in root.stdout
    script = run_cli(capsys, monkeypatch, ["--show-completion", "bash"], SHELL="/bin/bash")
    assert script.code == 0 and "_reconcile_completion" in script.stdout, script
