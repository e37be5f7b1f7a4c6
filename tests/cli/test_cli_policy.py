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


# The policy exactly as the issue that asked for it writes it.
ISSUE_POLICY = """\
policy:
  data_retention: [zero_data_retention, enhanced_zero_data_retention]   # allowed values for every project
  forbidden_hosted_tools: [web_search, mcp]
  allowed_models: [gpt-4.1, gpt-4.1-mini]     # every allow list must be a subset; deny lists must cover the rest
  allowed_residencies: [EU_STORAGE_PROCESSING]
  max_spend_limit_usd: 5000
  keys: {max_age_days: 90, user_keys: forbidden}
"""


def test_validate_with_the_whole_policy_names_the_file_and_both_rules(capsys, monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    project = "data_retention: none\nhosted_tools: {web_search: true}\n"
    root = one_project_desired(tmp_path / "ds", ISSUE_POLICY, project)
    outcome = run_cli(capsys, monkeypatch, ["validate", "--desired-state", str(root)], OPENAI_ADMIN_KEY=None)
    assert outcome.code == 1 and outcome.stdout == ""
    breaches = [line for line in outcome.stderr.splitlines() if "projects/payments.yaml" in line]
    assert [line.split(": ")[1] for line in breaches] == ["policy.data_retention", "policy.forbidden_hosted_tools"]
    assert "organization.yaml" not in outcome.stderr, "the policy itself loads as written"
    assert "Traceback" not in outcome.stderr


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
