"""`--format json` is one JSON document on stdout for plan, apply, apply PLAN and explain; the lines a person
reads go to stderr. Every option of the plan/apply command also comes from its DATACONTROLS_* variable."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_support import DESIRED, approved_demo_seed, run_approved, run_cli, served_emulator


def test_an_apply_in_json_prints_one_document_with_the_plan_its_result_and_the_project_ids(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with served_emulator(approved_demo_seed()) as served:
        args = ["--auto-approve", "--format", "json", "--desired-state", str(DESIRED)]
        applied = run_approved(capsys, monkeypatch, args, DATACONTROLS_BASE_URL=served.base_url)
        support = served.project_id("Support Bot")
    assert applied.code == 0, applied.stderr
    document = json.loads(applied.stdout)  # the whole of stdout: one document
    assert document["format_version"] == 1 and document["refused"] is None
    result = document["result"]
    assert result["ok"] is True and not result["failed"] and not result["skipped"]
    assert len(result["applied"]) == len([c for c in document["changes"] if c["action"] != "report"])
    assert {"action", "kind", "project"} <= set(result["applied"][0])
    assert document["project_ids"]["Support Bot"] == support
    assert "Analytics" not in document["project_ids"], "a project still to be created has no id yet"
    assert "Apply complete" in applied.stderr and "  applied " in applied.stderr


def test_a_refused_apply_in_json_prints_the_plan_with_its_refusal_and_no_result(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with served_emulator() as served:  # the demo organization: its plan weakens controls, a person must approve
        args = ["--auto-approve", "--format", "json", "--desired-state", str(DESIRED)]
        refused = run_cli(capsys, monkeypatch, args, DATACONTROLS_BASE_URL=served.base_url)
        writes = [r for r in served.emulator.requests if r.method != "GET"]
    assert refused.code == 1 and not writes
    document = json.loads(refused.stdout)
    assert document["refused"] is not None and "result" not in document


def test_apply_of_a_saved_plan_in_json_prints_one_document_with_its_result(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = tmp_path / "plan.json"
    with served_emulator(approved_demo_seed()) as served:
        env = {"DATACONTROLS_BASE_URL": served.base_url}
        saved = run_cli(capsys, monkeypatch, ["--dry-run", "--desired-state", str(DESIRED), "--out", str(plan)], **env)
        assert saved.code == 0, saved.stderr
        args = ["apply", str(plan), "--format", "json", "--desired-state", str(DESIRED)]
        applied = run_approved(capsys, monkeypatch, args, **env)
    assert applied.code == 0, applied.stderr
    document = json.loads(applied.stdout)
    assert document["result"]["ok"] is True and document["result"]["applied"]
    assert "Apply complete" in applied.stderr


def test_explain_in_json_prints_one_document(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with served_emulator(approved_demo_seed()) as served:
        args = ["explain", "--format", "json", "--desired-state", str(DESIRED)]
        explained = run_cli(capsys, monkeypatch, args, DATACONTROLS_BASE_URL=served.base_url)
    assert explained.code == 0, explained.stderr
    document = json.loads(explained.stdout)
    projects = {p["name"]: p for p in document["projects"]}
    assert projects["Support Bot"]["data_retention"]["setting"] is not None
    assert isinstance(projects["Support Bot"]["zero_data_retention"], bool)
    assert "data_usage" in document["note"]
    refused = run_cli(capsys, monkeypatch, ["explain", "--format", "yaml"])
    assert refused.code == 1 and refused.stderr.startswith("error: --format must be text or json")


def test_options_come_from_their_variables_and_a_flag_wins(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with served_emulator(approved_demo_seed()) as served:
        env = {
            "DATACONTROLS_BASE_URL": served.base_url,
            "DATACONTROLS_DRY_RUN": "1",
            "DATACONTROLS_FORMAT": "json",
            "DATACONTROLS_DESIRED_STATE": str(DESIRED),
            "DATACONTROLS_DETAILED_EXITCODE": "true",
        }
        planned = run_cli(capsys, monkeypatch, ["--auto-approve"], **env)
        as_text = run_cli(capsys, monkeypatch, ["--format", "text"], **env)
        writes = [r for r in served.emulator.requests if r.method != "GET"]
    assert planned.code == 2, planned.stderr  # a dry run from the environment: changes pending, none written
    assert json.loads(planned.stdout)["summary"]
    assert not writes, "DATACONTROLS_DRY_RUN=1 is a dry run, --auto-approve or not"
    assert as_text.code == 2 and not as_text.stdout.lstrip().startswith("{")


def test_a_dry_run_from_the_environment_is_refused_by_the_subcommands_that_write(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = tmp_path / "plan.json"
    plan.write_text("{}")
    for args in (["apply", str(plan)], ["serve", "--listen", "127.0.0.1:0"]):
        refused = run_cli(capsys, monkeypatch, args, DATACONTROLS_DRY_RUN="1")
        assert refused.code == 1, (args, refused.stderr)
        assert refused.stderr.startswith(f"error: DATACONTROLS_DRY_RUN is set, and `reconcile {args[0]}` writes")
    # A variable of an option a read-only subcommand does not have is left to the commands that have it.
    valid = run_cli(
        capsys, monkeypatch, ["validate", "--desired-state", str(DESIRED)], DATACONTROLS_DETAILED_EXITCODE="1"
    )
    assert valid.code == 0, valid.stderr


def test_no_color_wins_over_force_color(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    with served_emulator(approved_demo_seed()) as served:
        args = ["--dry-run", "--desired-state", str(DESIRED)]
        env = {"DATACONTROLS_BASE_URL": served.base_url, "NO_COLOR": None, "FORCE_COLOR": "1"}
        coloured = run_cli(capsys, monkeypatch, args, **env)
        plain = run_cli(capsys, monkeypatch, ["--no-color", *args], **env)
    assert "\x1b[" in coloured.stdout, "FORCE_COLOR colours a plan that is not on a terminal"
    assert "\x1b[" not in plain.stdout and plain.stdout.strip()


def test_fail_on_uncorrectable_fails_a_plan_the_api_cannot_carry_out_without_reading_it(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    seed = approved_demo_seed()  # weakening changes approved by a person: the dry run itself passes
    seed["projects"] = [
        {**p, "residency": "US_STORAGE_PROCESSING"} if p["name"] == "Support Bot" else dict(p) for p in seed["projects"]
    ]
    with served_emulator(seed) as served:
        args = ["--dry-run", "--detailed-exitcode", "--desired-state", str(DESIRED)]
        plain = run_cli(capsys, monkeypatch, args, DATACONTROLS_BASE_URL=served.base_url)
        failing = run_cli(
            capsys, monkeypatch, [*args, "--fail-on-uncorrectable"], DATACONTROLS_BASE_URL=served.base_url
        )
    assert plain.code == 2, "without the flag an uncorrectable difference is one more pending change"
    assert failing.code == 1 and failing.stdout == plain.stdout, "the same plan is printed, then the run fails"
    (line,) = [line for line in failing.stderr.splitlines() if "cannot change" in line]
    assert line.startswith("error: 1 difference(s) the Admin API cannot change (project for project 'Support Bot')")
