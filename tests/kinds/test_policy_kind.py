"""The organization policy against live values, as pure functions: what is read, what is a finding."""

from __future__ import annotations

from typing import Any

from datacontrols.adminapi.api_keys import KeyOwner, KeyOwnerServiceAccount, KeyOwnerUser, ProjectApiKey
from datacontrols.adminapi.permissions import ModelPermissions
from datacontrols.adminapi.projects import Project
from datacontrols.adminapi.spend import SpendLimit
from datacontrols.desired.schema import DesiredState, OrganizationFile, ProjectFile
from datacontrols.kinds.api_keys import ObservedKeys
from datacontrols.kinds.base import DesiredProject
from datacontrols.kinds.policy import PolicyFacts, live_standing, policy_findings, policy_reads

NOW = 1_800_000_000
DAY = 86_400
LIVE = Project(id="proj_live", name="Live", residency="EU_STORAGE_PROCESSING")


def desired(policy: dict[str, Any], **organization: Any) -> DesiredState:
    return DesiredState(organization=OrganizationFile.model_validate({"policy": policy, **organization}))


def managed(state: DesiredState, **file: Any) -> DesiredProject:
    project = ProjectFile.model_validate({"name": "Live", **file})
    return DesiredProject(file=project, settings=state.effective(project), source="projects/live.yaml")


def key(key_id: str, *, age_days: int, user: bool) -> ProjectApiKey:
    owner = (
        KeyOwner(type="user", user=KeyOwnerUser(id="u", email="a@example.com"))
        if user
        else KeyOwner(type="service_account", service_account=KeyOwnerServiceAccount(id="sa", name="bot"))
    )
    return ProjectApiKey(id=key_id, redacted_value=f"sk-...{key_id[-2:]}", created_at=NOW - age_days * DAY, owner=owner)


def test_reads_only_what_the_file_leaves_undeclared() -> None:
    state = desired(
        {"data_retention": ["zero_data_retention"], "forbidden_hosted_tools": ["mcp"], "keys": {"max_age_days": 9}}
    )
    everything = {"project_data_retention", "project_hosted_tools", "project_api_key"}
    assert policy_reads(state, None, None) == everything
    project = managed(state, data_retention="zero_data_retention", keys={"max_age_days": 5})
    assert policy_reads(state, project.file, project.settings) == {"project_hosted_tools"}
    quiet = managed(state, data_retention="zero_data_retention", hosted_tools={"mcp": False}, keys={})
    assert policy_reads(state, quiet.file, quiet.settings) == set()
    # Residency costs no request: the project list carries it.
    assert policy_reads(desired({"allowed_residencies": ["GLOBAL"]}), None, None) == set()
    ignored = desired({"keys": {"max_age_days": 9}}, enforcement={"keys": "ignore"})
    assert policy_reads(ignored, None, None) == set()


def test_only_the_forbidden_tools_the_file_does_not_name_are_the_policy_s() -> None:
    state = desired({"forbidden_hosted_tools": ["web_search", "mcp"]})
    project = managed(state, hosted_tools={"mcp": False})
    values = {"project_hosted_tools": {"web_search": True, "mcp": True}}  # mcp: the kind plans it off
    [finding] = policy_findings(state, LIVE, values, None, project=project)
    assert finding.reason == (
        "breaks the organization policy: web_search enabled; the policy forbids it; "
        "not changed: projects/live.yaml does not declare it"
    )
    assert isinstance(finding.facts, PolicyFacts) and finding.facts.project_id == "proj_live"


def test_organization_default_resolves_to_the_live_organization_retention() -> None:
    state = desired({"data_retention": ["zero_data_retention"]})
    values = {"project_data_retention": "organization_default"}
    assert policy_findings(state, LIVE, values, "zero_data_retention") == []
    [weak] = policy_findings(state, LIVE, values, "modified_abuse_monitoring")
    assert "resolves to the organization's 'modified_abuse_monitoring'" in weak.reason
    [unread] = policy_findings(state, LIVE, values, None)
    assert "could not be read" in unread.reason


def test_model_policies_spend_limits_and_residency() -> None:
    state = desired(
        {
            "allowed_models": ["gpt-4.1", "o3"],
            "max_spend_limit": {"amount_usd": 100},
            "allowed_residencies": ["EU_STORAGE_PROCESSING"],
        }
    )
    within = {
        "project_model_permissions": ModelPermissions(mode="allow_list", model_ids=["o3"]),
        "spend_limit": SpendLimit(threshold_amount=10000),
    }
    assert [(s.rule, s.met) for s in live_standing(state.organization.policy, LIVE, within, None)] == [  # type: ignore[arg-type]
        ("allowed_models", True),
        ("allowed_residencies", True),
        ("max_spend_limit", True),
    ]
    outside = {
        "project_model_permissions": ModelPermissions(mode="deny_list", model_ids=["o1"]),
        "spend_limit": SpendLimit(threshold_amount=10001),
    }
    found = policy_findings(state, Project(id="proj_us", name="US", residency="US_STORAGE_PROCESSING"), outside, None)
    assert {c.kind: c.reason.split("; not changed")[0] for c in found} == {
        "project_model_permissions": "breaks the organization policy: a deny_list allows every model it does not name "
        "(allowed: an allow_list within gpt-4.1, o3)",
        "spend_limit": "breaks the organization policy: 100.01 USD is above the policy's 100.00 USD",
        "project": "breaks the organization policy: US_STORAGE_PROCESSING is not allowed (allowed: "
        "EU_STORAGE_PROCESSING)",
    }
    no_limit = policy_findings(state, LIVE, {"spend_limit": None}, None)
    assert [c.reason.split(";")[0] for c in no_limit] == [
        "breaks the organization policy: no hard spend limit (allowed: at most 100.00 USD)"
    ]


def test_key_rules_flag_old_and_user_owned_keys_only() -> None:
    state = desired({"keys": {"max_age_days": 90, "user_keys": "forbidden"}})
    keys = ObservedKeys(
        keys=(
            key("key_ok", age_days=10, user=False),
            key("key_old", age_days=100, user=False),
            key("key_user", age_days=1, user=True),
        ),
        now=NOW,
    )
    [finding] = policy_findings(state, LIVE, {"project_api_key": keys}, None)
    assert finding.kind == "project_api_key" and finding.severity == "critical"
    assert "2 key(s) break it" in finding.reason
    assert "key_old" in finding.reason and "key_user" in finding.reason and "key_ok" not in finding.reason
    assert policy_findings(desired({"keys": {"max_age_days": 200}}), LIVE, {"project_api_key": keys}, None) == []


def test_a_control_not_read_is_no_finding_and_unknown_in_the_standing() -> None:
    state = desired({"data_retention": ["zero_data_retention"]})
    assert policy_findings(state, LIVE, {}, None) == []
    [standing] = live_standing(state.organization.policy, LIVE, {}, None)  # type: ignore[arg-type]
    assert (standing.met, standing.detail) == (None, "not read")
