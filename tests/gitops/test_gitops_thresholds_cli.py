"""Thresholds, --no-removals and protected projects through the CLI, against a served emulator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gitops_support import DESIRED, DIGEST, approved_demo_seed, copy_desired, run_cli, served_emulator

NAMES = ("Alpha", "Beta", "Gamma", "Delta")


def four_projects() -> dict[str, Any]:
    return {
        "organization": {"data_retention": "zero_data_retention"},
        "projects": [
            {"id": f"proj_{name}000000000000000001", "name": name, "status": "active", "created_at": 1767225600}
            for name in NAMES
        ],
    }


def archiving(tmp_path: Path, archived: tuple[str, ...], *, protected: tuple[str, ...] = ()) -> Path:
    desired = tmp_path / "desired"
    (desired / "projects").mkdir(parents=True)
    (desired / "organization.yaml").write_text("unmanaged_projects: report\n")
    for name in NAMES:
        lines = [f"name: {name}"]
        if name in archived:
            lines.append("status: archived")
        if name in protected:
            lines.append("protected: true")
        (desired / "projects" / f"{name.lower()}.yaml").write_text("\n".join(lines) + "\n")
    return desired


def archived_names(served) -> set[str]:  # type: ignore[no-untyped-def]
    return {p.name for p in served.emulator.state.projects.values() if p.archived}


def test_archiving_3_of_4_projects_is_refused_then_applies_with_its_digest(capsys, monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    desired = archiving(tmp_path, ("Alpha", "Beta", "Gamma"))
    args = ["--auto-approve", "--desired-state", str(desired)]
    with served_emulator(four_projects()) as served:
        refused = run_cli(capsys, monkeypatch, args, DATACONTROLS_BASE_URL=served.base_url)
        writes = served.emulator.requests.writes()
        assert refused.code == 1
        assert writes == [], "the threshold is checked before any write"
        message = refused.stderr.strip()
        assert message.startswith("error: refusing to apply: the plan exceeds a safety threshold: ")
        assert "archives: 3 projects archived of 4 live active projects, 75%," in message
        assert "more than safety.archives.max_percent 25%" in message
        match = DIGEST.search(message)
        assert match is not None, message

        unconfirmed = run_cli(capsys, monkeypatch, args[1:], DATACONTROLS_BASE_URL=served.base_url)
        assert unconfirmed.code == 1
        assert "the plan exceeds a safety threshold" in unconfirmed.stderr, "refused before asking to confirm"

        other = "0" * 64
        wrong = run_cli(capsys, monkeypatch, [*args, "--allow-unsafe", other], DATACONTROLS_BASE_URL=served.base_url)
        assert wrong.code == 1 and "which is not this plan" in wrong.stderr
        assert served.emulator.requests.writes() == []

        allowed = run_cli(
            capsys, monkeypatch, [*args, "--allow-unsafe", match.group(1)], DATACONTROLS_BASE_URL=served.base_url
        )
        assert allowed.code == 0, allowed.stderr
        assert archived_names(served) == {"Alpha", "Beta", "Gamma"}


def test_the_dry_run_warns_that_apply_will_be_refused(capsys, monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    desired = archiving(tmp_path, ("Alpha", "Beta", "Gamma"))
    with served_emulator(four_projects()) as served:
        dry = run_cli(
            capsys,
            monkeypatch,
            ["--dry-run", "--format", "markdown", "--desired-state", str(desired)],
            DATACONTROLS_BASE_URL=served.base_url,
        )
    assert dry.code == 1, "a dry run fails when apply would refuse the plan"
    assert "error: applying this plan will be refused: exceeds a threshold: archives: 3 projects archived" in dry.stderr
    assert "> **Safety:** applying this plan will be refused" in dry.stdout
    assert DIGEST.search(dry.stderr) is not None


def test_thresholds_come_from_organization_yaml(capsys, monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    desired = archiving(tmp_path, ("Alpha", "Beta", "Gamma"))
    (desired / "organization.yaml").write_text("safety:\n  archives: {max_percent: 80}\n")
    with served_emulator(four_projects()) as served:
        outcome = run_cli(
            capsys,
            monkeypatch,
            ["--auto-approve", "--desired-state", str(desired)],
            DATACONTROLS_BASE_URL=served.base_url,
        )
        assert outcome.code == 0, outcome.stderr
        assert archived_names(served) == {"Alpha", "Beta", "Gamma"}


def test_one_archive_of_four_is_not_refused(capsys, monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    desired = archiving(tmp_path, ("Alpha",))
    with served_emulator(four_projects()) as served:
        outcome = run_cli(
            capsys,
            monkeypatch,
            ["--auto-approve", "--desired-state", str(desired)],
            DATACONTROLS_BASE_URL=served.base_url,
        )
        assert outcome.code == 0, outcome.stderr
        assert archived_names(served) == {"Alpha"}


def test_the_demo_organization_needs_approval_for_its_weakening_changes_only(capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    with served_emulator() as served:
        args = ["--auto-approve", "--desired-state", str(DESIRED)]
        refused = run_cli(capsys, monkeypatch, args, DATACONTROLS_BASE_URL=served.base_url)
        writes = served.emulator.requests.writes()
        match = DIGEST.search(refused.stderr)
        assert match is not None, refused.stderr
        approved = run_cli(
            capsys, monkeypatch, [*args, "--allow-unsafe", match.group(1)], DATACONTROLS_BASE_URL=served.base_url
        )
    assert refused.code == 1 and writes == []
    assert "the plan weakens data controls" in refused.stderr and "threshold" not in refused.stderr
    assert approved.code == 0, approved.stderr


def test_protected_projects_are_never_archived(capsys, monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    desired = archiving(tmp_path, ("Alpha", "Beta"), protected=("Beta",))
    with served_emulator(four_projects()) as served:
        outcome = run_cli(
            capsys,
            monkeypatch,
            ["--auto-approve", "--desired-state", str(desired)],
            DATACONTROLS_BASE_URL=served.base_url,
        )
        assert outcome.code == 0, outcome.stderr
        assert archived_names(served) == {"Alpha"}
        assert "(not applied: the project is protected)" in outcome.stdout


def test_no_removals_reports_deletes_and_archives(capsys, monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with served_emulator(approved_demo_seed()) as served:
        outcome = run_cli(
            capsys,
            monkeypatch,
            ["--auto-approve", "--no-removals", "--desired-state", str(DESIRED)],
            DATACONTROLS_BASE_URL=served.base_url,
        )
        deletes = [e for e in served.emulator.requests.writes() if e.method == "DELETE" or e.path.endswith("/archive")]
        legacy_archived = "Legacy Chatbot" in archived_names(served)
    assert outcome.code == 0, outcome.stderr
    assert deletes == []
    assert not legacy_archived
    assert outcome.stdout.count("(not applied: --no-removals)") >= 2


def test_a_protected_demo_project_keeps_its_owner(capsys, monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    desired = copy_desired(tmp_path)
    support = desired / "projects" / "support-bot.yaml"
    support.write_text(support.read_text() + "protected: true\n")
    with served_emulator() as served:
        dry = run_cli(
            capsys,
            monkeypatch,
            ["--dry-run", "--format", "json", "--desired-state", str(desired)],
            DATACONTROLS_BASE_URL=served.base_url,
        )
    demotions = [
        c
        for c in dry.json()["changes"]
        if c["kind"] == "project_user"
        and c["project"] == "Support Bot"
        and c["fields"].get("role", {}).get("before") == "owner"
    ]
    assert demotions, "the demo demotes an owner of Support Bot"
    assert all(c["reason"].endswith("(not applied: the project is protected)") for c in demotions)
