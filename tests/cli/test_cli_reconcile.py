"""`reconcile --dry-run` and `reconcile --auto-approve` against a served emulator: the pipeline contract."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import httpx
import pytest
from cli_support import ADMIN_KEY, DESIRED, approval_digest, approved_demo_seed, run_approved, run_cli, served_emulator

from datacontrols.demo import demo_seed_path
from datacontrols.emulator.seed import read_document


def dry_run(capsys, monkeypatch, base_url: str, *extra: str):  # type: ignore[no-untyped-def]
    args = ["--dry-run", "--format", "json", "--detailed-exitcode", "--desired-state", str(DESIRED), *extra]
    return run_cli(capsys, monkeypatch, args, DATACONTROLS_BASE_URL=base_url)


def test_dry_run_reports_drift_with_exit_2_and_sends_only_reads(capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    with served_emulator(approved_demo_seed()) as served:
        outcome = dry_run(capsys, monkeypatch, served.base_url)
        methods = served.emulator.requests.methods()
    assert outcome.code == 2, outcome.stderr
    plan = json.loads(outcome.stdout)
    assert plan["format_version"] == 1
    assert plan["summary"]["archive"] == 1
    assert {c["kind"] for c in plan["changes"]} >= {"organization_data_retention", "project", "project_hosted_tools"}
    assert methods == {"GET"}, "a dry run must never send anything but GET"


def test_apply_then_dry_run_is_clean_and_drift_made_through_the_api_is_listed_exactly(capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    with served_emulator() as served:
        applied = run_approved(
            capsys,
            monkeypatch,
            ["--auto-approve", "--desired-state", str(DESIRED)],
            DATACONTROLS_BASE_URL=served.base_url,
        )
        assert applied.code == 0, applied.stderr
        assert "Apply complete" in applied.stdout
        assert dry_run(capsys, monkeypatch, served.base_url).code == 0

        # Someone changes two settings by hand, through the API.
        with httpx.Client(base_url=served.base_url, headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as http:
            projects = http.get("/organization/projects").json()["data"]
            support = next(p for p in projects if p["name"] == "Support Bot")
            http.post(
                f"/organization/projects/{support['id']}/hosted_tool_permissions",
                json={"web_search": {"enabled": True}},
            ).raise_for_status()
            http.post(
                "/organization/data_retention", json={"retention_type": "modified_abuse_monitoring"}
            ).raise_for_status()

        drifted = dry_run(capsys, monkeypatch, served.base_url)
        assert drifted.code == 2
        # Findings (`report`) are not drift; only the two hand-made changes may show up as changes.
        changes = [c for c in json.loads(drifted.stdout)["changes"] if c["action"] != "report"]
        assert [(c["kind"], c["project"], c["fields"]) for c in changes] == [
            (
                "organization_data_retention",
                None,
                {"type": {"before": "modified_abuse_monitoring", "after": "zero_data_retention"}},
            ),
            ("project_hosted_tools", "Support Bot", {"web_search": {"before": True, "after": False}}),
        ]
        # Restoring them is ordinary work (normal; high for a tool some requests may use), but what the hand
        # changes exposed makes the drift critical for an alert.
        assert [c["severity"] for c in changes] == ["normal", "high"]
        assert all(c["exposes"] for c in changes)

        assert (
            run_cli(
                capsys,
                monkeypatch,
                ["--auto-approve", "--desired-state", str(DESIRED)],
                DATACONTROLS_BASE_URL=served.base_url,
            ).code
            == 0
        )
        assert dry_run(capsys, monkeypatch, served.base_url).code == 0


def test_residency_mismatch_is_uncorrectable_and_never_fixed(capsys, monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    seed = dict(read_document(demo_seed_path()))
    projects = [dict(p) for p in seed["projects"]]
    for project in projects:
        if project["name"] == "Support Bot":
            project["residency"] = "US_STORAGE_PROCESSING"
    seed["projects"] = projects
    with served_emulator(seed) as served:
        apply_run = run_approved(
            capsys,
            monkeypatch,
            ["--auto-approve", "--desired-state", str(DESIRED)],
            DATACONTROLS_BASE_URL=served.base_url,
        )
        assert apply_run.code == 0, apply_run.stderr
        support_id = next(p.id for p in served.emulator.state.projects.values() if p.name == "Support Bot")
        writes = [e for e in served.emulator.requests.writes() if support_id in e.path]
        after = dry_run(capsys, monkeypatch, served.base_url)
    uncorrectable = [c for c in json.loads(after.stdout)["changes"] if c["action"] == "uncorrectable"]
    assert uncorrectable == [
        {
            "action": "uncorrectable",
            "kind": "project",
            "project": "Support Bot",
            "fields": {"residency": {"before": "US_STORAGE_PROCESSING", "after": "EU_STORAGE_PROCESSING"}},
            "severity": "critical",
            "reason": uncorrectable[0]["reason"],
        }
    ]
    assert after.code == 2
    assert not any(e.path.endswith("/archive") for e in writes), "residency is never 'fixed' by archiving"
    assert sum(1 for p in served.emulator.state.projects.values() if p.name == "Support Bot") == 1


def test_one_failing_project_does_not_stop_the_others(capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    seed = dict(read_document(demo_seed_path()))
    seed["organization"] = {**seed["organization"], "approved_residencies": ["GLOBAL", "EU_STORAGE_PROCESSING"]}
    with served_emulator(seed) as served:
        outcome = run_approved(
            capsys,
            monkeypatch,
            ["--auto-approve", "--desired-state", str(DESIRED)],
            DATACONTROLS_BASE_URL=served.base_url,
        )
        names = {p.name for p in served.emulator.state.projects.values()}
        legacy = next(p for p in served.emulator.state.projects.values() if p.name == "Legacy Chatbot")
    assert outcome.code == 1
    assert "Analytics" in outcome.stderr and "project create" in outcome.stderr
    assert "Traceback" not in outcome.stderr
    assert "Analytics" not in names
    assert legacy.archived, "the other projects were still reconciled"


def test_apply_without_a_terminal_refuses_and_writes_nothing(capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    with served_emulator() as served:
        # The demo plan weakens some controls: the ratchet refuses it first, then (approved) the missing terminal.
        refused = run_cli(capsys, monkeypatch, ["--desired-state", str(DESIRED)], DATACONTROLS_BASE_URL=served.base_url)
        assert refused.code == 1 and "needs a person's approval" in refused.stderr
        digest = approval_digest(refused.stderr)
        outcome = run_cli(
            capsys,
            monkeypatch,
            ["--desired-state", str(DESIRED), "--allow-unsafe", digest],
            DATACONTROLS_BASE_URL=served.base_url,
        )
        writes = served.emulator.requests.writes()
    assert outcome.code == 1
    assert "--auto-approve" in outcome.stderr
    assert writes == []


@pytest.mark.parametrize(
    ("env", "extra", "expected"),
    [
        ({"OPENAI_ADMIN_KEY": None}, [], "no admin key"),
        ({"OPENAI_ADMIN_KEY": "sk-admin-wrongwrongwrongwrong"}, [], "HTTP 401"),
    ],
)
def test_key_problems_are_one_line_and_exit_1(capsys, monkeypatch, env, extra, expected) -> None:  # type: ignore[no-untyped-def]
    with served_emulator() as served:
        outcome = run_cli(
            capsys,
            monkeypatch,
            ["--dry-run", "--desired-state", str(DESIRED), *extra],
            DATACONTROLS_BASE_URL=served.base_url,
            **env,
        )
    assert outcome.code == 1
    assert expected in outcome.stderr
    assert outcome.stderr.count("\n") == 1 and outcome.stderr.startswith("error: ")
    assert "Traceback" not in outcome.stderr and outcome.stdout == ""
    assert "wrongwrongwrong" not in outcome.stderr


def test_admin_key_file(capsys, monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    key_file = tmp_path / "admin-key"
    key_file.write_text(ADMIN_KEY + "\n")
    with served_emulator(approved_demo_seed()) as served:
        outcome = run_cli(
            capsys,
            monkeypatch,
            ["--dry-run", "--admin-key-file", str(key_file), "--desired-state", str(DESIRED)],
            DATACONTROLS_BASE_URL=served.base_url,
            OPENAI_ADMIN_KEY=None,
        )
    assert outcome.code == 0, outcome.stderr
    missing = run_cli(
        capsys,
        monkeypatch,
        ["--dry-run", "--admin-key-file", str(tmp_path / "nope"), "--desired-state", str(DESIRED)],
        OPENAI_ADMIN_KEY=None,
    )
    assert missing.code == 1 and "no such file" in missing.stderr


def test_unreachable_api_is_one_line_exit_1(capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    outcome = run_cli(
        capsys,
        monkeypatch,
        ["--dry-run", "--retry-budget", "0.2", "--desired-state", str(DESIRED)],
        DATACONTROLS_BASE_URL="http://127.0.0.1:9/v1",
    )
    assert outcome.code == 1
    assert outcome.stderr.startswith("error: GET /organization/projects")
    assert "Traceback" not in outcome.stderr and outcome.stderr.count("\n") == 1


def test_usage_errors_exit_1_not_2(capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    assert run_cli(capsys, monkeypatch, ["--no-such-flag"]).code == 1
    assert run_cli(capsys, monkeypatch, ["--format", "yaml"]).code == 1


def test_broken_desired_state_lists_every_problem_and_sends_nothing(capsys, monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    broken = tmp_path / "desired"
    shutil.copytree(DESIRED, broken)
    (broken / "projects" / "support-bot.yaml").write_text(
        "name: Support Bot\nresidency: EU_STORAGE\nhosted_tools: {web_serch: false}\n"
    )
    (broken / "projects" / "dup.yaml").write_text("name: Analytics\n")
    with served_emulator() as served:
        outcome = run_cli(
            capsys, monkeypatch, ["--dry-run", "--desired-state", str(broken)], DATACONTROLS_BASE_URL=served.base_url
        )
        requests = list(served.emulator.requests)
    assert outcome.code == 1
    lines = outcome.stderr.strip().splitlines()
    assert lines[-1].startswith("error: the desired state has 3 problem(s)")
    assert any("support-bot.yaml:2:12: residency:" in line for line in lines), lines
    assert any("support-bot.yaml:3:16: hosted_tools.web_serch:" in line for line in lines), lines
    assert any("dup.yaml:1:7: name:" in line for line in lines), lines
    assert "Traceback" not in outcome.stderr
    assert requests == [], "invalid files must stop the run before any request"


def test_validate_and_schema_work_offline(capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    valid = run_cli(
        capsys,
        monkeypatch,
        ["validate", "--desired-state", str(DESIRED)],
        OPENAI_ADMIN_KEY=None,
        DATACONTROLS_BASE_URL="http://127.0.0.1:9/v1",
    )
    assert valid.code == 0 and "valid" in valid.stdout
    schema = run_cli(capsys, monkeypatch, ["schema"], OPENAI_ADMIN_KEY=None)
    assert schema.code == 0
    assert json.loads(schema.stdout)["$schema"] == "http://json-schema.org/draft-07/schema#"
