"""End to end: `reconcile --secret-sink DIR` creates a service account whose key lands in the sink and nowhere else.

The whole CLI runs against an emulator served on loopback, with debug logging in JSON. Everything a person or
a machine could see is collected (stdout and stderr of every run, which carry the logs of the CLI, the client
and the in-process server; the plan in every format; the emulator's request log, audit events and state, also
as served over HTTP) and the key is looked for in all of it.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import httpx
import pytest
from cli_support import ADMIN_KEY, approval_digest, run_cli, served_emulator

SEED = {
    "users": [{"id": "user-alice", "email": "alice@example.com", "name": "Alice", "role": "owner"}],
    "projects": [
        {
            "id": "proj_sinktest000000000000001",
            "name": "Support Bot",
            "users": [{"user": "alice@example.com", "role": "owner"}],
        }
    ],
}


def desired_state(root: Path) -> Path:
    (root / "projects").mkdir(parents=True)
    (root / "organization.yaml").write_text("unmanaged_projects: ignore\n")
    (root / "projects" / "support-bot.yaml").write_text(
        "name: Support Bot\n"
        "members:\n"
        "  users: {alice@example.com: owner}\n"
        "  service_accounts: {support-bot-prod: owner}\n"
        "keys: {max_age_days: 90}\n"
    )
    return root


def test_a_created_key_is_written_to_the_sink_and_appears_nowhere_else(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    desired = desired_state(tmp_path / "desired")
    sink = tmp_path / "sink"
    seen: list[str] = []
    with served_emulator(SEED) as served:

        def cli(*args: str) -> int:
            outcome = run_cli(
                capsys,
                monkeypatch,
                ["--desired-state", str(desired), "--log-level", "debug", "--log-format", "json", *args],
                DATACONTROLS_BASE_URL=served.base_url,
            )
            seen.extend([outcome.stdout, outcome.stderr])
            return outcome.code

        assert cli("--dry-run", "--secret-sink", str(sink)) == 1, "apply would refuse it: the dry run says so"
        assert not sink.exists(), "a dry run creates nothing, not even the sink"
        # A new key in an existing project gives access: the ratchet wants the exact plan approved.
        assert cli("--auto-approve", "--secret-sink", str(sink)) == 1, seen[-1]
        # The sink is checked (created, empty) before any request; a refused plan puts nothing in it.
        assert "needs a person's approval" in seen[-1] and not any(sink.iterdir())
        digest = approval_digest(seen[-1])
        assert cli("--auto-approve", "--secret-sink", str(sink), "--allow-unsafe", digest) == 0, seen[-1]
        for fmt in ("text", "json", "markdown"):
            assert cli("--dry-run", "--detailed-exitcode", "--format", fmt) == 0, seen[-1]
        with httpx.Client(base_url=served.base_url, headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as http:
            seen.append(http.get(f"{served.base_url.removesuffix('/v1')}/_emulator/state").text)
            seen.append(http.get("/organization/audit_logs").text)
            seen.append(
                http.get("/organization/projects/proj_sinktest000000000000001/api_keys?owner_project_access=any").text
            )
        emulator = served.emulator
        seen += [repr(list(emulator.requests)), repr(emulator.events), json.dumps(emulator.dump_state())]

    (written,) = sink.iterdir()
    assert written.name == "Support_Bot__support-bot-prod.key"
    assert stat.S_IMODE(os.stat(written).st_mode) == 0o600
    key = written.read_text().strip()
    assert key.startswith("sk-svcacct-") and len(key) > 40

    everything = "\n".join(seen)
    assert "change_applied" in everything and "request_served" in everything, "the debug logs were collected"
    assert str(written) in everything, "the plan says where the key goes"
    assert key not in everything
    assert key[11:35] not in everything, "not even a long piece of it"
    accounts = [a for p in emulator.state.projects.values() for a in p.service_accounts.values()]
    assert [(a.name, a.role) for a in accounts] == [("support-bot-prod", "owner")]


def test_a_managed_account_without_a_key_in_the_sink_is_reported_every_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The account exists (its creation answer was lost, or it predates the sink): no plan would change, so the
    run says it, naming the file it looked for, and stops saying it once a key file is there."""
    desired = desired_state(tmp_path / "desired")
    sink = tmp_path / "sink"
    sink.mkdir(mode=0o700)
    seed = {
        **SEED,
        "projects": [{**SEED["projects"][0], "service_accounts": [{"name": "support-bot-prod", "role": "owner"}]}],
    }
    with served_emulator(seed) as served:
        args = ["--dry-run", "--desired-state", str(desired), "--secret-sink", str(sink)]
        missing = run_cli(capsys, monkeypatch, args, DATACONTROLS_BASE_URL=served.base_url)
        (sink / "Support_Bot__support-bot-prod.key").write_text("sk-proj-held-elsewhere\n")
        held = run_cli(capsys, monkeypatch, args, DATACONTROLS_BASE_URL=served.base_url)
        writes = served.emulator.requests.writes()
    warnings = [line for line in missing.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1, missing.stderr
    assert "'support-bot-prod' of project 'Support Bot' exists" in warnings[0]
    assert "Support_Bot__support-bot-prod.key" in warnings[0]
    assert "warning:" not in held.stderr
    assert writes == []
