"""A dry run fails (exit 1) when apply would refuse the plan, so a pull request fails before the merge: a
broken guard, a threshold crossed, a weakening change without approval. In every format, and with and without
`--detailed-exitcode`; the plan is still printed, and nothing is written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cli_support import run_cli, served_emulator

SEED: dict[str, Any] = {
    "users": [
        {"id": "user-alice", "email": "alice@example.com", "name": "Alice", "role": "owner"},
        {"id": "user-bob", "email": "bob@example.com", "name": "Bob"},
        {"id": "user-carol", "email": "carol@example.com", "name": "Carol"},
    ],
    "projects": [
        {
            "id": "proj_refusals00000000000001",
            "name": "P",
            "users": [
                {"user": "alice@example.com", "role": "owner"},
                {"user": "bob@example.com", "role": "owner"},
                {"user": "carol@example.com", "role": "member"},
            ],
        }
    ],
}


def lockout(tmp_path: Path) -> Path:
    """A desired state whose authoritative member list drops both owners of P."""
    desired = tmp_path / "desired"
    (desired / "projects").mkdir(parents=True)
    (desired / "organization.yaml").write_text("{}\n")
    (desired / "projects" / "p.yaml").write_text(
        "name: P\nmembers:\n  mode: authoritative\n  users:\n    carol@example.com: member\n"
    )
    return desired


@pytest.mark.parametrize("detailed", [False, True], ids=["plain", "detailed-exitcode"])
@pytest.mark.parametrize("fmt", ["text", "json", "markdown"])
def test_a_dry_run_of_a_plan_a_guard_refuses_exits_1_and_says_why(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fmt: str, detailed: bool
) -> None:
    desired = lockout(tmp_path)
    args = ["--dry-run", "--format", fmt, "--desired-state", str(desired)]
    with served_emulator(SEED) as served:
        dry = run_cli(
            capsys,
            monkeypatch,
            [*args, *(["--detailed-exitcode"] if detailed else [])],
            DATACONTROLS_BASE_URL=served.base_url,
        )
        writes = served.emulator.requests.writes()
    assert dry.code == 1, dry.stderr
    assert writes == []
    assert "error: applying this plan will be refused: project 'P' would be left without an owner" in dry.stderr
    assert "change the files" in dry.stderr and "--allow-unsafe" not in dry.stderr, "no approval passes a guard"
    assert "Traceback" not in dry.stderr
    if fmt == "json":
        refused = json.loads(dry.stdout)["refused"]
        assert refused["guards"] and "would be left without an owner" in refused["reasons"][0]
        assert refused["approve_with"] is None
    elif fmt == "markdown":
        assert "> **Safety:** applying this plan will be refused" in dry.stdout
    else:
        assert "Apply would be refused:\n  ! project 'P' would be left without an owner" in dry.stdout


def test_apply_of_the_same_plan_is_refused_as_the_dry_run_said(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    desired = lockout(tmp_path)
    with served_emulator(SEED) as served:
        applied = run_cli(
            capsys,
            monkeypatch,
            ["--auto-approve", "--desired-state", str(desired)],
            DATACONTROLS_BASE_URL=served.base_url,
        )
        writes = served.emulator.requests.writes()
    assert applied.code == 1 and writes == []
    assert (
        "error: refusing to apply the plan, nothing was written: project 'P' would be left without an owner"
        in applied.stderr
    )
