"""The organization policy from the command line: validate refuses a breaking file, a dry run reports live
breaches as critical findings, explain shows each project's standing."""

from __future__ import annotations

from pathlib import Path

from cli_support import one_project_desired, one_project_seed, run_cli, served_emulator

POLICY = """\
organization: {data_retention: zero_data_retention}
policy:
  data_retention: [zero_data_retention]
  forbidden_hosted_tools: [web_search]
"""


def test_validate_refuses_every_breach_at_its_line_and_sends_nothing(capsys, monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root = one_project_desired(tmp_path / "ds", POLICY, "data_retention: none\nhosted_tools: {web_search: true}\n")
    outcome = run_cli(capsys, monkeypatch, ["validate", "--desired-state", str(root)], OPENAI_ADMIN_KEY=None)
    assert outcome.code == 1 and outcome.stdout == ""
    lines = outcome.stderr.splitlines()
    assert lines[0].endswith(
        "projects/payments.yaml:2:17: policy.data_retention: data_retention: 'none' is not allowed "
        "(allowed: zero_data_retention)"
    )
    assert lines[1].endswith(
        "projects/payments.yaml:3:28: policy.forbidden_hosted_tools: hosted_tools.web_search: web_search is "
        "enabled; the policy forbids it"
    )
    assert "Traceback" not in outcome.stderr and len(lines) == 3


def test_dry_run_and_explain_show_the_live_breach(capsys, monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root = one_project_desired(tmp_path / "ds", POLICY, "data_retention: zero_data_retention\n")
    seed = one_project_seed(data_retention="zero_data_retention", hosted_tools={"web_search": True})
    with served_emulator(seed) as served:
        env = {"DATACONTROLS_BASE_URL": served.base_url}
        plan = run_cli(capsys, monkeypatch, ["--dry-run", "--desired-state", str(root), "--format", "json"], **env)
        explained = run_cli(capsys, monkeypatch, ["explain", "--desired-state", str(root), "--format", "json"], **env)
        assert served.emulator.requests.methods() == {"GET"}
    assert plan.code == 0, plan.stderr  # a report: nothing to change, so no "changes pending"
    [finding] = [c for c in plan.json()["changes"] if c.get("subject") == "policy: forbidden_hosted_tools"]
    assert (finding["action"], finding["kind"], finding["severity"]) == ("report", "project_hosted_tools", "critical")
    [project] = explained.json()["projects"]
    assert project["policy"] == [
        {"rule": "data_retention", "met": True, "detail": "zero_data_retention"},
        {"rule": "forbidden_hosted_tools", "met": False, "detail": "web_search enabled; the policy forbids it"},
    ]
