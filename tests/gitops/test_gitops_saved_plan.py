"""`reconcile --dry-run --out plan.json` then `reconcile apply plan.json`, against a served emulator."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from gitops_support import ADMIN_KEY, DESIRED, approved_demo_seed, copy_desired, run_cli, served_emulator


def save_plan(capsys, monkeypatch, served, plan: Path, desired: Path = DESIRED, *extra: str):  # type: ignore[no-untyped-def]
    args = ["--dry-run", "--desired-state", str(desired), "--out", str(plan), *extra]
    return run_cli(capsys, monkeypatch, args, DATACONTROLS_BASE_URL=served.base_url)


def apply_plan(capsys, monkeypatch, served, plan: Path, desired: Path = DESIRED, *extra: str):  # type: ignore[no-untyped-def]
    args = ["apply", str(plan), "--desired-state", str(desired), *extra]
    return run_cli(capsys, monkeypatch, args, DATACONTROLS_BASE_URL=served.base_url)


def test_a_saved_plan_applies_when_nothing_moved(capsys, monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    plan = tmp_path / "plan.json"
    with served_emulator(approved_demo_seed()) as served:  # nothing here needs the ratchet's approval
        saved = save_plan(capsys, monkeypatch, served, plan)
        assert saved.code == 0, saved.stderr
        assert served.emulator.requests.writes() == [], "saving a plan is a dry run"
        applied = apply_plan(capsys, monkeypatch, served, plan)
        assert applied.code == 0, applied.stderr
        assert "Apply complete" in applied.stdout
        legacy = served.emulator.state.projects[served.project_id("Legacy Chatbot")]
        clean = run_cli(
            capsys,
            monkeypatch,
            ["--dry-run", "--detailed-exitcode", "--desired-state", str(DESIRED)],
            DATACONTROLS_BASE_URL=served.base_url,
        )
    assert legacy.archived
    assert clean.code == 0, clean.stdout

    assert ADMIN_KEY not in plan.read_text()
    document = json.loads(plan.read_text())
    assert document["kind"] == "openai-datacontrols.saved-plan"
    assert document["plan"]["format_version"] == 1 and document["plan"]["summary"]["archive"] == 1
    assert len(document["plan_digest"]) == len(document["desired_digest"]) == len(document["observed_digest"]) == 64
    assert "project/Support Bot" in document["desired_index"]
    assert any(key.endswith("/project_hosted_tools") for key in document["observed_index"])


def test_a_saved_plan_is_refused_when_live_state_changed_behind_it(capsys, monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    plan = tmp_path / "plan.json"
    with served_emulator(approved_demo_seed()) as served:
        assert save_plan(capsys, monkeypatch, served, plan).code == 0
        support = served.project_id("Support Bot")
        with served.http() as http:  # someone changes a setting by hand after the review
            http.post(
                f"/organization/projects/{support}/hosted_tool_permissions", json={"mcp": {"enabled": True}}
            ).raise_for_status()
        writes_before = len(served.emulator.requests.writes())
        refused = apply_plan(capsys, monkeypatch, served, plan)
        writes_after = len(served.emulator.requests.writes())
    assert refused.code == 1
    assert writes_after == writes_before, "a stale plan writes nothing"
    lines = refused.stderr.strip().splitlines()
    assert (
        f"error: saved plan is stale: live state: project_hosted_tools of project 'Support Bot' ({support}) changed"
        in lines
    )
    assert lines[-1].startswith(f"error: refusing to apply {plan}: 1 thing(s) moved")
    assert refused.stdout == "", "nothing is printed as if it were going to be applied"


def test_a_saved_plan_is_refused_when_the_desired_files_changed(capsys, monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    desired = copy_desired(tmp_path)
    plan = tmp_path / "plan.json"
    with served_emulator(approved_demo_seed()) as served:
        assert save_plan(capsys, monkeypatch, served, plan, desired).code == 0
        analytics = desired / "projects" / "analytics.yaml"
        analytics.write_text(analytics.read_text().replace("o1-pro", "o1"))
        refused = apply_plan(capsys, monkeypatch, served, plan, desired)
        writes = served.emulator.requests.writes()
    assert refused.code == 1 and writes == []
    assert "error: saved plan is stale: desired state: project 'Analytics' changed (projects/analytics.yaml)" in (
        refused.stderr
    )


def test_renaming_or_reordering_files_is_not_a_change(capsys, monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    desired = copy_desired(tmp_path)
    plan = tmp_path / "plan.json"
    with served_emulator(approved_demo_seed()) as served:  # nothing here needs the ratchet's approval
        assert save_plan(capsys, monkeypatch, served, plan, desired).code == 0
        (desired / "projects" / "analytics.yaml").rename(desired / "projects" / "zz-analytics.yml")
        monkeypatch.chdir(tmp_path)  # another working directory, relative paths
        applied = apply_plan(capsys, monkeypatch, served, Path("plan.json"), Path("desired"))
    assert applied.code == 0, applied.stderr


def test_a_plan_older_than_max_plan_age_is_refused(capsys, monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    plan = tmp_path / "plan.json"
    with served_emulator(approved_demo_seed()) as served:  # nothing here needs the ratchet's approval
        assert save_plan(capsys, monkeypatch, served, plan).code == 0
        document = json.loads(plan.read_text())
        two_hours_ago = datetime.now(UTC) - timedelta(hours=2, minutes=5)
        document["created_at"] = two_hours_ago.isoformat().replace("+00:00", "Z")
        plan.write_text(json.dumps(document))
        stale = apply_plan(capsys, monkeypatch, served, plan)
        assert served.emulator.requests.writes() == []
        longer = apply_plan(capsys, monkeypatch, served, plan, DESIRED, "--max-plan-age", "3h")
    assert stale.code == 1
    assert "the plan is 2h5m old, older than --max-plan-age 1h" in stale.stderr
    assert longer.code == 0, longer.stderr


def test_a_plan_made_against_another_api_is_refused(capsys, monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    plan = tmp_path / "plan.json"
    with served_emulator(approved_demo_seed()) as served:
        assert save_plan(capsys, monkeypatch, served, plan).code == 0
        document = json.loads(plan.read_text())
        document["base_url"] = "https://api.openai.com/v1"
        plan.write_text(json.dumps(document))
        refused = apply_plan(capsys, monkeypatch, served, plan)
    assert refused.code == 1
    assert "the plan was made against https://api.openai.com/v1; this run uses" in refused.stderr


def test_no_removals_is_replayed_from_the_saved_plan(capsys, monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    plan = tmp_path / "plan.json"
    with served_emulator(approved_demo_seed()) as served:  # nothing here needs the ratchet's approval
        saved = save_plan(capsys, monkeypatch, served, plan, DESIRED, "--no-removals")
        assert saved.code == 0
        assert "(not applied: --no-removals)" in saved.stdout
        applied = apply_plan(capsys, monkeypatch, served, plan)
        legacy = served.emulator.state.projects[served.project_id("Legacy Chatbot")]
    assert applied.code == 0, applied.stderr
    assert not legacy.archived, "the archive was only reported"
    options = json.loads(plan.read_text())["options"]
    assert options == {"no_removals": True, "target": {"projects": None, "organization": True, "why": ""}}


def test_out_needs_dry_run_and_a_bad_plan_file_is_one_line(capsys, monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with served_emulator() as served:
        without = run_cli(
            capsys,
            monkeypatch,
            ["--auto-approve", "--desired-state", str(DESIRED), "--out", str(tmp_path / "p.json")],
            DATACONTROLS_BASE_URL=served.base_url,
        )
        garbage = tmp_path / "garbage.json"
        garbage.write_text('{"kind": "something else"}')
        bad = apply_plan(capsys, monkeypatch, served, garbage)
        missing = apply_plan(capsys, monkeypatch, served, tmp_path / "nope.json")
        requests = list(served.emulator.requests)
    assert without.code == 1 and "use it with --dry-run" in without.stderr
    assert bad.code == 1 and bad.stderr.startswith("error: plan file") and bad.stderr.count("\n") == 1
    assert missing.code == 1 and "no such file" in missing.stderr
    assert requests == [], "flag and file problems stop the run before any request"


def test_bad_max_plan_age_is_a_usage_error(capsys, monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    outcome = run_cli(capsys, monkeypatch, ["apply", str(tmp_path / "p.json"), "--max-plan-age", "soon"])
    assert outcome.code == 1
    assert "'soon' is not a duration" in outcome.stderr
