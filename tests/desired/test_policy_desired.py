"""The organization policy in desired state: every breach of a project's effective settings, at its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from datacontrols.desired import load_desired_state
from datacontrols.desired.policy import Policy, model_breach, retention_breach, spend_breach
from datacontrols.desired.policy_check import declared_breaches
from datacontrols.desired.schema import DesiredState, OrganizationFile, ProjectFile
from datacontrols.errors import DesiredStateError

POLICY = """\
policy:
  data_retention: [zero_data_retention, enhanced_zero_data_retention]
  forbidden_hosted_tools: [web_search, mcp]
  allowed_models: [gpt-4.1, gpt-4.1-mini]
  allowed_residencies: [EU_STORAGE_PROCESSING]
  max_spend_limit: {amount_usd: 5000}
  keys: {max_age_days: 90, user_keys: forbidden}
"""


def write(root: Path, organization: str, projects: dict[str, str]) -> Path:
    (root / "projects").mkdir(parents=True, exist_ok=True)
    (root / "organization.yaml").write_text(organization)
    for name, text in projects.items():
        (root / "projects" / name).write_text(text)
    return root


def problems(root: Path) -> list[str]:
    with pytest.raises(DesiredStateError) as caught:
        load_desired_state(root)
    return [str(problem) for problem in caught.value.problems]


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return Path("ds")


def test_a_compliant_project_loads(here: Path) -> None:
    project = (
        "name: Good\n"
        "residency: EU_STORAGE_PROCESSING\n"
        "data_retention: zero_data_retention\n"
        "hosted_tools: {web_search: false, mcp: false, file_search: true}\n"
        "model_permissions: {mode: allow_list, model_ids: [gpt-4.1]}\n"
        "spend_limit: {amount_usd: 5000}\n"
        "keys: {max_age_days: 30, user_keys: forbidden}\n"
    )
    state = load_desired_state(write(here, POLICY, {"good.yaml": project}))
    assert state.organization.policy is not None
    assert state.organization.policy.rules() == [
        "data_retention",
        "forbidden_hosted_tools",
        "allowed_models",
        "allowed_residencies",
        "max_spend_limit",
        "keys",
    ]


def test_every_breach_of_every_file_at_its_line_in_one_run(here: Path) -> None:
    bad = (
        "name: Bad\n"  # 1
        "residency: US_STORAGE_PROCESSING\n"  # 2
        "data_retention: none\n"  # 3
        "hosted_tools: {web_search: true, mcp: false}\n"  # 4
        "model_permissions:\n"  # 5
        "  mode: allow_list\n"  # 6
        "  model_ids: [gpt-4.1, o3]\n"  # 7
        "spend_limit: {amount_usd: 9000}\n"  # 8
        "keys: {max_age_days: 365, user_keys: report}\n"  # 9
    )
    worse = "name: Worse\nmodel_permissions: unrestricted\nspend_limit: none\n"
    found = problems(write(here, POLICY, {"bad.yaml": bad, "worse.yaml": worse}))
    assert found == [
        "ds/projects/bad.yaml:2:12: policy.allowed_residencies: residency: US_STORAGE_PROCESSING is not allowed "
        "(allowed: EU_STORAGE_PROCESSING)",
        "ds/projects/bad.yaml:3:17: policy.data_retention: data_retention: 'none' is not allowed "
        "(allowed: zero_data_retention, enhanced_zero_data_retention)",
        "ds/projects/bad.yaml:4:28: policy.forbidden_hosted_tools: hosted_tools.web_search: web_search is enabled; "
        "the policy forbids it",
        "ds/projects/bad.yaml:7:24: policy.allowed_models: model_permissions.model_ids.1: allows o3, outside the "
        "policy (allowed: gpt-4.1, gpt-4.1-mini)",
        "ds/projects/bad.yaml:8:27: policy.max_spend_limit: spend_limit.amount_usd: 9000.00 USD is above the "
        "policy's 5000.00 USD",
        "ds/projects/bad.yaml:9:22: policy.keys: keys.max_age_days: max_age_days 365 is looser than the policy's 90",
        "ds/projects/bad.yaml:9:38: policy.keys: keys.user_keys: user_keys report is looser than the policy's "
        "forbidden",
        "ds/projects/worse.yaml:2:20: policy.allowed_models: model_permissions: unrestricted allows every model "
        "(allowed: an allow_list within gpt-4.1, gpt-4.1-mini)",
        "ds/projects/worse.yaml:3:14: policy.max_spend_limit: spend_limit: no hard spend limit (allowed: at most "
        "5000.00 USD)",
    ]


def test_an_inherited_default_is_reported_once_at_the_default_naming_its_projects(here: Path) -> None:
    organization = (
        POLICY + "project_defaults:\n"  # 8
        "  data_retention: none\n"  # 9
        "  hosted_tools: {mcp: true}\n"  # 10
    )
    projects = {
        "a.yaml": "name: A\n",
        "b.yaml": "name: B\nhosted_tools: {mcp: false}\n",  # overrides one default, inherits the other
        "c.yaml": "name: C\ndata_retention: zero_data_retention\nhosted_tools: {mcp: false}\n",  # complies
    }
    found = problems(write(here, organization, projects))
    assert found == [
        "ds/organization.yaml:9:19: policy.data_retention: project_defaults.data_retention: 'none' is not allowed "
        "(allowed: zero_data_retention, enhanced_zero_data_retention); inherited by 'A', 'B'",
        "ds/organization.yaml:10:23: policy.forbidden_hosted_tools: project_defaults.hosted_tools.mcp: mcp is "
        "enabled; the policy forbids it; inherited by 'A'",
    ]


def test_organization_default_is_checked_as_the_organization_retention(here: Path) -> None:
    projects = {"a.yaml": "name: A\ndata_retention: organization_default\n"}
    unset = problems(write(here, POLICY, projects))
    assert unset == [
        "ds/projects/a.yaml:2:17: policy.data_retention: data_retention: organization_default follows the "
        "organization's data retention, which organization.yaml does not set (allowed: zero_data_retention, "
        "enhanced_zero_data_retention)"
    ]
    weak = POLICY + "organization: {data_retention: modified_abuse_monitoring}\n"
    assert "resolves to organization.yaml's 'modified_abuse_monitoring'" in problems(write(here, weak, projects))[0]
    strong = POLICY + "organization: {data_retention: zero_data_retention}\n"
    assert load_desired_state(write(here, strong, projects)).projects[0].name == "A"


def test_undeclared_settings_and_archived_projects_break_nothing_in_the_files(here: Path) -> None:
    projects = {
        "silent.yaml": "name: Silent\n",
        "old.yaml": "name: Old\nstatus: archived\ndata_retention: none\n",
    }
    assert len(load_desired_state(write(here, POLICY, projects)).projects) == 2


def test_the_policy_own_mistakes_are_schema_errors(here: Path) -> None:
    organization = (
        "policy:\n"  # 1
        "  data_retention: [zero_data_retention, organization_default]\n"  # 2
        "  forbidden_hosted_tools: [web_serch]\n"  # 3
        "  allowed_models: gpt-4.1\n"  # 4
        "  max_spend_limit: {amount_usd: 12.345}\n"  # 5
        "  keys: {max_age_days: 0, user_keys: report}\n"  # 6
        "  retention: [none]\n"  # 7
    )
    found = problems(write(here, organization, {"a.yaml": "name: A\n"}))
    assert found == [
        "ds/organization.yaml:2:19: policy.data_retention: name what projects resolve to, not organization_default: "
        "a project's organization_default is checked as organization.data_retention",
        "ds/organization.yaml:3:28: policy.forbidden_hosted_tools.0: 'web_serch' is not allowed; did you mean "
        "'web_search'? (allowed: 'file_search', 'web_search', 'image_generation', 'mcp', 'code_interpreter')",
        "ds/organization.yaml:4:19: policy.allowed_models: expected a list, got the string 'gpt-4.1'",
        "ds/organization.yaml:5:33: policy.max_spend_limit.amount_usd: 12.345 is not a whole number of cents",
        "ds/organization.yaml:6:24: policy.keys.max_age_days: input should be greater than or equal to 1",
        "ds/organization.yaml:6:38: policy.keys.user_keys: 'report' is not allowed (allowed: 'allowed', 'forbidden')",
        "ds/organization.yaml:7:3: policy.retention: unknown key; did you mean 'data_retention'?",
    ]


def test_model_names_are_not_checked_against_a_catalogue(here: Path) -> None:
    organization = "policy: {allowed_models: [gpt-9-unreleased]}\n"
    project = "name: A\nmodel_permissions: {mode: allow_list, model_ids: [gpt-9-unreleased]}\n"
    assert load_desired_state(write(here, organization, {"a.yaml": project})).projects[0].name == "A"


def test_the_rules_as_pure_functions() -> None:
    policy = Policy.model_validate(
        {"data_retention": ["zero_data_retention"], "allowed_models": ["a"], "max_spend_limit": {"amount_usd": 10}}
    )
    assert retention_breach(policy, "zero_data_retention", None, where="x") is None
    assert retention_breach(policy, "organization_default", "zero_data_retention", where="x") is None
    assert model_breach(policy, "allow_list", ["a"]) is None
    assert model_breach(policy, "deny_list", ["b"]) is not None
    assert spend_breach(policy, 1000) is None
    assert spend_breach(policy, 1001) == "10.01 USD is above the policy's 10.00 USD"
    assert spend_breach(Policy(), None) is None  # no rule, no breach
    project = ProjectFile.model_validate({"name": "P", "hosted_tools": {"web_search": True}})
    state = DesiredState(organization=OrganizationFile(), projects=(project,))
    no_rules = declared_breaches(
        Policy(),
        project,
        state.organization.project_defaults,
        state.effective(project),
        residency=None,
        organization_retention=None,
    )
    assert no_rules == []


def test_a_project_s_key_spend_cap_may_be_lower_than_the_policy_s_never_higher_or_absent(here: Path) -> None:
    policy = "policy:\n  keys: {max_spend_limit_usd: 100}\n"
    files = {
        "high.yaml": "name: High\nkeys: {max_spend_limit_usd: 250}\n",
        "none.yaml": "name: None\nkeys: {max_age_days: 30}\n",
        "low.yaml": "name: Low\nkeys: {max_spend_limit_usd: 20, fix: spend_limit}\n",
    }
    found = problems(write(here, policy, files))
    assert len(found) == 2
    assert found[0].startswith("ds/projects/high.yaml:2:29: policy.keys: keys.max_spend_limit_usd: ")
    assert found[0].endswith("max_spend_limit_usd 250.00 USD is looser than the policy's 100.00 USD")
    assert found[1].startswith("ds/projects/none.yaml:") and "no max_spend_limit_usd is looser" in found[1]


# The policy as issue-style documentation writes it: the spend rule as a plain number of dollars.
POLICY_IN_DOLLARS = POLICY.replace("max_spend_limit: {amount_usd: 5000}", "max_spend_limit_usd: 5000")


def test_the_spend_rule_in_dollars_is_the_same_rule(here: Path) -> None:
    bad = "name: Bad\nresidency: EU_STORAGE_PROCESSING\nspend_limit: {amount_usd: 9000}\n"  # 3
    found = problems(write(here, POLICY_IN_DOLLARS, {"bad.yaml": bad}))
    assert found == [
        "ds/projects/bad.yaml:3:27: policy.max_spend_limit: spend_limit.amount_usd: 9000.00 USD is above the "
        "policy's 5000.00 USD"
    ]
    policy = Policy.model_validate({"max_spend_limit_usd": 5000})
    assert policy.rules() == ["max_spend_limit"] and policy.spend_bound is not None
    assert spend_breach(policy, 500_001) == "5000.01 USD is above the policy's 5000.00 USD"
    assert spend_breach(policy, None) == "no hard spend limit (allowed: at most 5000.00 USD)"
    assert spend_breach(policy, 500_000) is None


def test_the_spend_rule_written_both_ways_or_badly_is_refused_at_its_line(here: Path) -> None:
    both = "policy:\n  max_spend_limit: {amount_usd: 10}\n  max_spend_limit_usd: 10\n"
    [found] = problems(write(here, both, {"a.yaml": "name: A\n"}))
    assert found.startswith("ds/organization.yaml:") and "one rule written two ways; keep one" in found
    bad = "policy:\n  data_retention: [zero_data_retention]\n  max_spend_limit_usd: 12.345\n"
    assert problems(write(here, bad, {"a.yaml": "name: A\n"})) == [
        "ds/organization.yaml:3:24: policy.max_spend_limit_usd: 12.345 is not a whole number of cents"
    ]
