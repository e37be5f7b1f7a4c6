"""The organization pin: a desired state names its organization, and another organization's key is refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gitops_support import run_cli, served_emulator

from datacontrols.adminapi.projects import Project
from datacontrols.identity import default_project_id


def organization(letter: str) -> dict[str, Any]:
    """An emulated organization with a default project and one more, all ids distinct per organization."""
    return {
        "organization": {"data_retention": "zero_data_retention"},
        "projects": [
            {"id": f"proj_{letter}Default00000000000001", "name": "Default project", "created_at": 1700000000},
            {"id": f"proj_{letter}Support00000000000001", "name": "Support Bot", "created_at": 1767225600},
        ],
    }


def export_of(capsys, monkeypatch, tmp_path: Path, letter: str) -> Path:  # type: ignore[no-untyped-def]
    out = tmp_path / f"exported-{letter}"
    with served_emulator(organization(letter)) as served:
        exported = run_cli(capsys, monkeypatch, ["export", "--out", str(out)], DATACONTROLS_BASE_URL=served.base_url)
    assert exported.code == 0, exported.stderr
    return out


def test_export_writes_the_pin_and_the_same_organization_plans_nothing(capsys, monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = export_of(capsys, monkeypatch, tmp_path, "A")
    organization_yaml = (out / "organization.yaml").read_text()
    assert "identity:\n  default_project_id: proj_ADefault00000000000001\n" in organization_yaml
    with served_emulator(organization("A")) as served:
        plan = run_cli(
            capsys,
            monkeypatch,
            ["--dry-run", "--detailed-exitcode", "--desired-state", str(out)],
            DATACONTROLS_BASE_URL=served.base_url,
        )
    assert plan.code == 0, plan.stderr
    assert "warning:" not in plan.stderr


def test_another_organizations_key_is_refused_before_any_write(capsys, monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = export_of(capsys, monkeypatch, tmp_path, "A")
    (out / "projects" / "new-project.yaml").write_text("name: New Project\n")  # a plan with a create to make
    for args in (["--auto-approve"], ["--dry-run"]):
        with served_emulator(organization("B")) as served:
            result = run_cli(
                capsys, monkeypatch, [*args, "--desired-state", str(out)], DATACONTROLS_BASE_URL=served.base_url
            )
            writes = served.emulator.requests.writes()
        assert result.code == 1, args
        assert writes == [], "nothing is written to the other organization"
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert lines[0].startswith("error: organization.yaml is pinned to the organization whose default project is ")
        assert "proj_ADefault00000000000001" in lines[0] and "proj_BDefault00000000000001" in lines[0]
        assert "Traceback" not in result.stderr + result.stdout


def test_an_unpinned_desired_state_still_applies_with_a_warning(capsys, monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    desired = tmp_path / "desired"
    (desired / "projects").mkdir(parents=True)
    (desired / "organization.yaml").write_text("unmanaged_projects: report\n")
    (desired / "projects" / "new.yaml").write_text("name: New Project\n")
    with served_emulator(organization("B")) as served:
        dry = run_cli(
            capsys, monkeypatch, ["--dry-run", "--desired-state", str(desired)], DATACONTROLS_BASE_URL=served.base_url
        )
        applied = run_cli(
            capsys,
            monkeypatch,
            ["--auto-approve", "--desired-state", str(desired)],
            DATACONTROLS_BASE_URL=served.base_url,
        )
        names = {p.name for p in served.emulator.state.projects.values()}
    assert dry.code == 0 and "warning:" not in dry.stderr, "a dry run writes nothing: no warning to give"
    assert applied.code == 0, applied.stderr
    assert "New Project" in names
    warning = [line for line in applied.stderr.splitlines() if line.startswith("warning:")]
    assert warning == [
        "warning: organization.yaml does not name its organization, so any organization's admin key would be "
        "accepted: add identity: {default_project_id: proj_BDefault00000000000001} to it (reconcile export writes it)"
    ]


def test_the_default_project_is_the_oldest_active_one() -> None:
    def project(pid: str, created: int, status: str = "active") -> Project:
        return Project.model_validate({"id": pid, "name": pid, "created_at": created, "status": status})

    assert default_project_id([]) is None
    assert default_project_id([project("proj_b", 2), project("proj_a", 2), project("proj_c", 3)]) == "proj_a"
    assert default_project_id([project("proj_old", 1, "archived"), project("proj_x", 5)]) == "proj_x"
