"""Pipeline output: GitHub annotations and step summary, GitLab's Terraform report."""

from __future__ import annotations

import json
from pathlib import Path

from gitops_support import DESIRED, approved_demo_seed, copy_desired, run_cli, served_emulator

from datacontrols.cioutput import (
    STEP_SUMMARY_LIMIT,
    append_step_summary,
    github_annotation,
    github_annotations,
    gitlab_report,
)
from datacontrols.errors import Problem
from datacontrols.plan import Change, Plan


def test_annotation_escapes_data_and_properties() -> None:
    problem = Problem("desired_state/projects/a,b:c.yaml", 7, 16, "hosted_tools.web", "100% wrong\r\nsecond line")
    assert github_annotation(problem) == (
        "::error file=desired_state/projects/a%2Cb%3Ac.yaml,line=7,col=16,title=desired state"
        "::hosted_tools.web: 100%25 wrong%0D%0Asecond line"
    )
    no_field = Problem("desired_state/organization.yaml", 1, 1, "", "empty file")
    assert github_annotation(no_field).endswith("::empty file")


def test_annotations_only_under_github_actions() -> None:
    problems = [Problem("o.yaml", 1, 2, "f", "m")]
    assert github_annotations(problems, {}) == []
    assert github_annotations(problems, {"GITHUB_ACTIONS": "false"}) == []
    assert github_annotations(problems, {"GITHUB_ACTIONS": "true"}) == [
        "::error file=o.yaml,line=1,col=2,title=desired state::f: m"
    ]


def test_step_summary_appends_and_respects_the_cap(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    assert append_step_summary("x", {}) is False
    summary.write_text("earlier step\n")
    assert append_step_summary("### plan\nline", {"GITHUB_STEP_SUMMARY": str(summary)})
    assert summary.read_text() == "earlier step\n### plan\nline\n"

    summary.write_bytes(b"." * (STEP_SUMMARY_LIMIT - 300))
    big = "\n".join(f"line {i} é" for i in range(200))
    append_step_summary(big, {"GITHUB_STEP_SUMMARY": str(summary)})
    data = summary.read_bytes()
    assert len(data) <= STEP_SUMMARY_LIMIT
    text = data.decode("utf-8")  # never cut inside a character
    assert text.endswith("_The plan was cut here: a step summary is limited to 1 MiB. See the job log._\n")

    full = tmp_path / "full.md"
    full.write_bytes(b"." * STEP_SUMMARY_LIMIT)
    append_step_summary(big, {"GITHUB_STEP_SUMMARY": str(full)})
    assert full.stat().st_size == STEP_SUMMARY_LIMIT, "nothing fits: nothing is written"


def test_gitlab_report_counts_what_an_apply_would_do() -> None:
    plan = Plan.of(
        [
            Change(action="create", kind="project", project="A"),
            Change(action="update", kind="project_hosted_tools", project="B"),
            Change(action="update", kind="project_data_retention", project="B"),
            Change(action="delete", kind="project_user", project="B", subject="x@example.com"),
            Change(action="archive", kind="project", project="C"),
            Change(action="delete", kind="project_user", project="B", subject="y@example.com", enforcement="report"),
            Change(action="uncorrectable", kind="project", project="D"),
            Change(action="report", kind="project", project="E"),
        ]
    )
    assert gitlab_report(plan) == {"create": 1, "update": 2, "delete": 2}


def test_dry_run_writes_the_gitlab_report_and_the_step_summary(capsys, monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    report = tmp_path / "gl-plan.json"
    summary = tmp_path / "summary.md"
    with served_emulator(approved_demo_seed()) as served:
        outcome = run_cli(
            capsys,
            monkeypatch,
            ["--dry-run", "--format", "markdown", "--desired-state", str(DESIRED), "--gitlab-report", str(report)],
            DATACONTROLS_BASE_URL=served.base_url,
            GITHUB_STEP_SUMMARY=str(summary),
        )
        as_json = run_cli(
            capsys,
            monkeypatch,
            ["--dry-run", "--format", "json", "--desired-state", str(DESIRED)],
            DATACONTROLS_BASE_URL=served.base_url,
        )
    assert outcome.code == 0, outcome.stderr
    assert summary.read_text() == outcome.stdout
    counts = json.loads(report.read_text())
    summary_counts = as_json.json()["summary"]
    assert counts == {
        "create": summary_counts["create"],
        "update": summary_counts["update"],
        "delete": summary_counts["delete"] + summary_counts["archive"],
    }


def test_text_output_is_not_put_in_the_step_summary(capsys, monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    summary = tmp_path / "summary.md"
    with served_emulator(approved_demo_seed()) as served:
        outcome = run_cli(
            capsys,
            monkeypatch,
            ["--dry-run", "--desired-state", str(DESIRED)],
            DATACONTROLS_BASE_URL=served.base_url,
            GITHUB_STEP_SUMMARY=str(summary),
        )
    assert outcome.code == 0
    assert not summary.exists()


def test_desired_state_errors_become_annotations_under_github_actions(capsys, monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    broken = copy_desired(tmp_path)
    (broken / "projects" / "support-bot.yaml").write_text("name: Support Bot\nresidency: EU_STORAGE\n")
    monkeypatch.chdir(tmp_path)
    args = ["--dry-run", "--desired-state", "desired"]
    on_github = run_cli(capsys, monkeypatch, args, GITHUB_ACTIONS="true")
    elsewhere = run_cli(capsys, monkeypatch, args)
    assert on_github.code == elsewhere.code == 1
    lines = on_github.stdout.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(
        "::error file=desired/projects/support-bot.yaml,line=2,col=12,title=desired state::residency: "
    )
    assert elsewhere.stdout == ""
    assert on_github.stderr == elsewhere.stderr, "the log keeps every problem either way"
