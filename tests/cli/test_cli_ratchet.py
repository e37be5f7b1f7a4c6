"""The ratchet, end to end: a plan that weakens a data control is refused before any write unless a person
approves that exact plan; tightening goes through; the dry run says first what needs approval."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_support import approval_digest, one_project_desired, one_project_seed, run_cli, served_emulator

ZDR_ORGANIZATION = one_project_seed(
    data_retention="zero_data_retention", hosted_tools={"web_search": False, "file_search": False}
)
desired_state = one_project_desired


WEAKENINGS = {
    "retention": (
        "organization:\n  data_retention: modified_abuse_monitoring\n",
        "",
        "organization: weakens zero data retention (zero_data_retention -> modified_abuse_monitoring)",
    ),
    "hosted tool": (
        "{}\n",
        "hosted_tools: {web_search: true}\n",
        "project 'Payments': enables hosted tools: web_search",
    ),
}


@pytest.mark.parametrize("case", sorted(WEAKENINGS))
def test_a_weakening_plan_is_refused_unattended_and_applies_once_approved(  # type: ignore[no-untyped-def]
    capsys, monkeypatch, tmp_path: Path, case: str
) -> None:
    organization, project, said = WEAKENINGS[case]
    desired = desired_state(tmp_path / "desired", organization, project)
    args = ["--auto-approve", "--desired-state", str(desired)]
    with served_emulator(ZDR_ORGANIZATION) as served:
        env = {"DATACONTROLS_BASE_URL": served.base_url}
        dry = run_cli(capsys, monkeypatch, ["--dry-run", "--desired-state", str(desired)], **env)
        refused = run_cli(capsys, monkeypatch, args, **env)
        writes = served.emulator.requests.writes()
        digest = approval_digest(refused.stderr)
        wrong = run_cli(capsys, monkeypatch, [*args, "--allow-unsafe", "0" * 64], **env)
        writes_after_wrong = served.emulator.requests.writes()
        approved = run_cli(capsys, monkeypatch, [*args, "--allow-unsafe", digest], **env)
        clean = run_cli(
            capsys, monkeypatch, ["--dry-run", "--detailed-exitcode", "--desired-state", str(desired)], **env
        )

    # The dry run shows what needs approval before anything else, and fails as apply will: exit 1.
    assert dry.code == 1, dry.stderr
    assert dry.stdout.startswith("Needs approval: these changes weaken data controls")
    assert said.split(": ", 1)[1] in dry.stdout.splitlines()[1]
    assert "error: applying this plan will be refused: needs approval: " in dry.stderr
    assert "Apply would be refused:" in dry.stdout and f"--allow-unsafe {digest}" in dry.stdout
    # Unattended: exit 1, one line saying what it weakens, nothing written.
    assert refused.code == 1 and writes == []
    assert refused.stderr.count("\n") == 1 and "Traceback" not in refused.stderr
    assert said in refused.stderr and "Nothing was written" in refused.stderr
    # An approval of another plan approves nothing.
    assert wrong.code == 1 and writes_after_wrong == [] and "which is not this plan" in wrong.stderr
    # A person's approval of exactly this plan applies it.
    assert approved.code == 0, approved.stderr
    assert clean.code == 0, clean.stdout


def test_tightening_needs_no_approval(capsys, monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    seed = json.loads(json.dumps(ZDR_ORGANIZATION))
    seed["organization"]["data_retention"] = "modified_abuse_monitoring"
    seed["projects"][0]["hosted_tools"] = {"web_search": True, "file_search": False}
    desired = desired_state(
        tmp_path / "desired",
        "organization:\n  data_retention: zero_data_retention\n",
        "hosted_tools: {web_search: false}\n",
    )
    with served_emulator(seed) as served:
        outcome = run_cli(
            capsys,
            monkeypatch,
            ["--auto-approve", "--desired-state", str(desired)],
            DATACONTROLS_BASE_URL=served.base_url,
        )
        retention = served.emulator.state.organization.data_retention
    assert outcome.code == 0, outcome.stderr
    assert "Needs approval" not in outcome.stdout
    assert retention == "zero_data_retention"


def test_the_pull_request_comment_lists_what_needs_approval_first(capsys, monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    organization, project, said = WEAKENINGS["retention"]
    desired = desired_state(tmp_path / "desired", organization, project)
    with served_emulator(ZDR_ORGANIZATION) as served:
        comment = run_cli(
            capsys,
            monkeypatch,
            ["--dry-run", "--format", "markdown", "--desired-state", str(desired)],
            DATACONTROLS_BASE_URL=served.base_url,
        )
        plan = run_cli(
            capsys,
            monkeypatch,
            ["--dry-run", "--format", "json", "--desired-state", str(desired)],
            DATACONTROLS_BASE_URL=served.base_url,
        )
    body = comment.stdout
    assert "**Needs approval: these changes weaken data controls" in body
    assert body.index("Needs approval") < body.index("organization_data_retention")
    assert "weakens zero data retention" in body
    [change] = [c for c in plan.json()["changes"] if c["kind"] == "organization_data_retention"]
    assert change["weakens"] == said.split(": ", 1)[1]
