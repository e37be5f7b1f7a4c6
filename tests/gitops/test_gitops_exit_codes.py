"""Exit codes a pipeline can trust: a refused plan, a stale saved plan and a failed apply are exit 1, never 0."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from gitops_support import DESIRED, approved_demo_seed, run_cli, served_emulator


def seed_without_us_residency() -> dict[str, object]:
    """The demo organization (its weakening changes approved), not approved for US residency: creating
    `Analytics` fails, at apply time only."""
    seed = approved_demo_seed()
    seed["organization"] = {**seed["organization"], "approved_residencies": ["GLOBAL", "EU_STORAGE_PROCESSING"]}
    return seed


@pytest.mark.parametrize("command", ["root", "saved"])
def test_a_failed_apply_exits_1(capsys, monkeypatch, tmp_path: Path, command: str) -> None:  # type: ignore[no-untyped-def]
    plan = tmp_path / "plan.json"
    with served_emulator(seed_without_us_residency()) as served:
        env = {"DATACONTROLS_BASE_URL": served.base_url}
        if command == "root":
            outcome = run_cli(capsys, monkeypatch, ["--auto-approve", "--desired-state", str(DESIRED)], **env)
        else:
            saved = run_cli(
                capsys, monkeypatch, ["--dry-run", "--desired-state", str(DESIRED), "--out", str(plan)], **env
            )
            assert saved.code == 0, saved.stderr
            outcome = run_cli(capsys, monkeypatch, ["apply", str(plan), "--desired-state", str(DESIRED)], **env)
    assert outcome.code == 1
    assert "Apply incomplete" in outcome.stdout
    assert "project create for project 'Analytics' failed" in outcome.stderr


def test_a_refused_plan_exits_1_for_the_saved_plan_path_too(capsys, monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    seed = {"projects": [{"id": f"proj_{n}0000000000000001", "name": n, "status": "active"} for n in "ABCD"]}
    desired = tmp_path / "desired"
    (desired / "projects").mkdir(parents=True)
    for name in "ABCD":
        status = "active" if name == "D" else "archived"
        (desired / "projects" / f"{name}.yaml").write_text(f"name: {name}\nstatus: {status}\n")
    plan = tmp_path / "plan.json"
    with served_emulator(seed) as served:
        env = {"DATACONTROLS_BASE_URL": served.base_url}
        saved = run_cli(capsys, monkeypatch, ["--dry-run", "--desired-state", str(desired), "--out", str(plan)], **env)
        refused = run_cli(capsys, monkeypatch, ["apply", str(plan), "--desired-state", str(desired)], **env)
        writes = served.emulator.requests.writes()
        digest = json.loads(plan.read_text())["plan_digest"]
        allowed = run_cli(
            capsys,
            monkeypatch,
            ["apply", str(plan), "--desired-state", str(desired), "--allow-unsafe", digest],
            **env,
        )
    # The dry run saves the plan for a person to approve, and already fails: apply would refuse it.
    assert saved.code == 1 and "error: applying this plan will be refused" in saved.stderr
    assert plan.is_file()
    assert refused.code == 1 and writes == []
    assert f"--allow-unsafe {digest}" in refused.stderr
    assert allowed.code == 0, allowed.stderr


def test_a_stale_saved_plan_exits_1(capsys, monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    plan = tmp_path / "plan.json"
    with served_emulator(approved_demo_seed()) as served:
        env = {"DATACONTROLS_BASE_URL": served.base_url}
        assert (
            run_cli(capsys, monkeypatch, ["--dry-run", "--desired-state", str(DESIRED), "--out", str(plan)], **env).code
            == 0
        )
        with served.http() as http:  # a project appears after the review
            http.post("/organization/projects", json={"name": "Shadow IT"}).raise_for_status()
        stale = run_cli(capsys, monkeypatch, ["apply", str(plan), "--desired-state", str(DESIRED)], **env)
    assert stale.code == 1
    assert "appeared" in stale.stderr and "'Shadow IT'" in stale.stderr


def test_a_plan_with_unreadable_projects_is_not_saved(capsys, monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from datacontrols.emulator import FaultConfig

    plan = tmp_path / "plan.json"
    with served_emulator() as served:
        served.emulator.faults = FaultConfig(
            server_error=1.0, paths=("/organization/projects/{project_id}/hosted_tool_permissions",)
        )
        outcome = run_cli(
            capsys,
            monkeypatch,
            ["--dry-run", "--retry-budget", "0.05", "--desired-state", str(DESIRED), "--out", str(plan)],
            DATACONTROLS_BASE_URL=served.base_url,
        )
    assert outcome.code == 1
    assert "the plan was not saved" in outcome.stderr
    assert not plan.exists()
