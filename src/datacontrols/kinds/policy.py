"""The organization policy against live state: critical findings for what the files do not hold to it.

The loader refuses files that break the policy (`desired/policy_check.py`), so a control a project file
declares is planned within it. What remains is live state no file speaks for:

- a live project without a file (unmanaged): every rule is checked against it;
- a managed project's control its effective settings leave undeclared (no `data_retention`, a forbidden tool
  not named under `hosted_tools`, no `model_permissions`, no `residency`, no `spend_limit`, no `keys`, a
  `service_tiers` field left out, no `encryption_key`, no `external_storage`, no authoritative
  `members.users`).

Each breach is a `report` of severity critical on the control's own plan kind, its subject `policy: <rule>`:
shown in every plan format and alerted by the daemon (`PolicyFacts` marks it), never applied: the files
say nothing about the value, so there is nothing to apply. A control whose enforcement group is `ignore` is
not read, so it is not checked either.

What the policy costs in requests: `policy_reads` names the controls to read beyond those the project
manages. A control the project manages is read anyway (no extra request); residency comes with the project
list (never a request).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from datacontrols.adminapi.external_storage import ExternalStorageConfiguration
from datacontrols.adminapi.members import ProjectUser
from datacontrols.adminapi.permissions import ModelPermissions
from datacontrols.adminapi.projects import Project
from datacontrols.adminapi.service_tiers import ServiceTierSettings
from datacontrols.adminapi.spend import SpendLimit
from datacontrols.desired.limits import format_usd
from datacontrols.desired.policy import (
    Policy,
    default_tier_breach,
    email_breach,
    enabled_tiers_breach,
    encryption_breach,
    model_breach,
    retention_breach,
    spend_breach,
    storage_breach,
)
from datacontrols.desired.schema import DesiredState, ProjectFile, ProjectSettings
from datacontrols.kinds.api_keys import PROJECT_API_KEY, ObservedKeys, key_findings
from datacontrols.kinds.base import DesiredProject
from datacontrols.kinds.encryption_key import KIND as ENCRYPTION_KEY
from datacontrols.kinds.encryption_key import KeyBinding, describe_key
from datacontrols.kinds.external_storage import FAILING_STATUSES, describe_storage
from datacontrols.kinds.external_storage import KIND as EXTERNAL_STORAGE
from datacontrols.kinds.membership import PROJECT_USER
from datacontrols.kinds.organization_retention import Unreadable
from datacontrols.kinds.project import KIND as PROJECT
from datacontrols.kinds.project_retention import ProjectDataRetention
from datacontrols.kinds.protection import effective_retention
from datacontrols.plan import Change, Facts, Plan

__all__ = [
    "RULE_KINDS",
    "PolicyFacts",
    "RuleStanding",
    "alerted",
    "live_standing",
    "policy_findings",
    "policy_reads",
]

# The plan kind whose live value each rule is checked against (residency is the project's own field).
RULE_KINDS: Final[Mapping[str, str]] = {
    "data_retention": ProjectDataRetention.name,
    "forbidden_hosted_tools": "project_hosted_tools",
    "allowed_models": "project_model_permissions",
    "allowed_residencies": PROJECT,
    "max_spend_limit": "spend_limit",
    "allowed_service_tiers": "project_service_tiers",
    "encryption_keys": ENCRYPTION_KEY,
    "external_storage_geographies": EXTERNAL_STORAGE,
    "allowed_email_domains": PROJECT_USER,
    "keys": PROJECT_API_KEY,
}
_GROUPS: Final[Mapping[str, str]] = {
    "data_retention": "data_retention",
    "forbidden_hosted_tools": "hosted_tools",
    "allowed_models": "model_permissions",
    "allowed_residencies": "residency",
    "max_spend_limit": "limits",
    "allowed_service_tiers": "service_tiers",
    "encryption_keys": "encryption_key",
    "external_storage_geographies": "external_storage",
    "allowed_email_domains": "members",
    "keys": "keys",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicyFacts(Facts):
    """Marks a policy finding (the daemon alerts on these, though reports are not drift)."""

    rule: str


def alerted(plan: Plan) -> tuple[Change, ...]:
    """What the daemon alerts on and counts as open drift: the plan's drift and its policy findings."""
    return (*plan.drift, *(c for c in plan.changes if isinstance(c.facts, PolicyFacts)))


@dataclass(frozen=True)
class RuleStanding:
    """One rule against one project's live state: `met` None when the value was not read."""

    rule: str
    met: bool | None
    detail: str


def _declares(rule: str, settings: ProjectSettings | None, file: ProjectFile | None, policy: Policy) -> bool:
    """Whether the files hold this control for the project (then the loader has checked it already)."""
    if settings is None or file is None:
        return False
    if rule == "forbidden_hosted_tools":
        named = settings.hosted_tools or {}
        return all(tool in named for tool in policy.forbidden_hosted_tools or ())
    if rule == "allowed_residencies":
        return file.residency is not None
    if rule == "allowed_email_domains":  # only a list that removes whoever it does not name holds them all
        members = file.members
        return members is not None and members.users is not None and members.authoritative
    if rule == "allowed_service_tiers":  # both fields, or the live one left out is the policy's to check
        tiers = settings.service_tiers
        return tiers is not None and tiers.default is not None and tiers.enabled_tiers is not None
    fields = {
        "allowed_models": "model_permissions",
        "max_spend_limit": "spend_limit",
        "encryption_keys": "encryption_key",
        "external_storage_geographies": "external_storage",
    }
    field = fields.get(rule, rule)
    return getattr(settings, field) is not None


def _open_rules(desired: DesiredState, file: ProjectFile | None, settings: ProjectSettings | None) -> list[str]:
    policy = desired.organization.policy
    if policy is None:
        return []
    return [
        rule
        for rule in policy.rules()
        if not _declares(rule, settings, file, policy) and desired.enforcement(_GROUPS[rule], file) != "ignore"
    ]


def policy_reads(desired: DesiredState, file: ProjectFile | None, settings: ProjectSettings | None) -> frozenset[str]:
    """The project kinds to read for the policy's sake (`file` None: a project without a file)."""
    kinds = {RULE_KINDS[rule] for rule in _open_rules(desired, file, settings)}
    return frozenset(kinds - {PROJECT})


def live_standing(
    policy: Policy, live: Project, values: Mapping[str, Any], organization_retention: str | None
) -> list[RuleStanding]:
    """Pure: each rule the policy sets, against the live values read (plan kind name -> observed value)."""
    found = []
    for rule in policy.rules():
        kind = RULE_KINDS[rule]
        if kind == PROJECT:
            value: Any = live.effective_residency or "GLOBAL"
        elif kind in values:
            value = values[kind]
        else:
            found.append(RuleStanding(rule, None, "not read"))
            continue
        problem = _CHECKS[rule](policy, value, organization_retention)
        found.append(RuleStanding(rule, problem is None, problem or _MET[rule](policy, value, organization_retention)))
    return found


def policy_findings(
    desired: DesiredState,
    live: Project,
    values: Mapping[str, Any],
    organization_retention: str | None,
    *,
    project: DesiredProject | None = None,
) -> list[Change]:
    """Pure: a critical report for each rule the live project breaks where no file holds the control
    (`project` None: the live project has no file)."""
    policy = desired.organization.policy
    if policy is None:
        return []
    file, settings = (project.file, project.settings) if project is not None else (None, None)
    open_rules = set(_open_rules(desired, file, settings))
    why = f"{project.source or 'its file'} does not declare it" if project is not None else "the project has no file"
    name = project.name if project is not None else live.name or live.id
    named = (settings.hosted_tools or {}) if settings is not None else {}
    tools = values.get("project_hosted_tools")
    if named and isinstance(tools, Mapping):
        # A tool the file names is planned by its kind (the loader has checked it is off): not the policy's.
        values = {**values, "project_hosted_tools": {t: on for t, on in tools.items() if t not in named}}
    declared_tiers = settings.service_tiers if settings is not None else None
    live_tiers = values.get("project_service_tiers")
    if declared_tiers is not None and isinstance(live_tiers, ServiceTierSettings):
        # Likewise the tier field the file names: its kind plans it, within the policy.
        fields = {"default": declared_tiers.default, "enabled_tiers": declared_tiers.enabled_tiers}
        update = {name: value for name, value in fields.items() if value is not None}
        values = {**values, "project_service_tiers": live_tiers.model_copy(update=update)}
    changes = []
    for standing in live_standing(policy, live, values, organization_retention):
        if standing.rule not in open_rules or standing.met is not False:
            continue
        changes.append(
            Change(
                action="report",
                kind=RULE_KINDS[standing.rule],
                project=name,
                subject=f"policy: {standing.rule}",
                severity="critical",
                reason=f"breaks the organization policy: {standing.detail}; not changed: {why}",
                facts=PolicyFacts(project_id=live.id, rule=standing.rule),
                order=1,  # within the lifecycle (the engine requires it), ahead of the kinds' own changes
            )
        )
    return changes


def _retention(policy: Policy, value: Any, organization: str | None) -> str | None:
    if not isinstance(value, str):
        return "the data retention could not be read"
    if value == "organization_default" and organization is None and policy.data_retention is not None:
        return "organization_default follows the organization's data retention, which could not be read"
    return retention_breach(policy, value, organization, where="the organization")


def _tools(policy: Policy, value: Any, _: str | None) -> str | None:
    enabled = sorted(
        tool for tool in policy.forbidden_hosted_tools or () if isinstance(value, Mapping) and value.get(tool)
    )
    if not enabled:
        return None
    return f"{', '.join(enabled)} enabled; the policy forbids {'them' if len(enabled) > 1 else 'it'}"


def _models(policy: Policy, value: Any, _: str | None) -> str | None:
    if isinstance(value, ModelPermissions):
        return model_breach(policy, value.mode, value.model_ids)
    return model_breach(policy, None, ())


def _residency(policy: Policy, value: Any, _: str | None) -> str | None:
    allowed = policy.allowed_residencies or ()
    return None if value in allowed else f"{value} is not allowed (allowed: {', '.join(allowed)})"


def _tiers(policy: Policy, value: Any, _: str | None) -> str | None:
    if not isinstance(value, ServiceTierSettings):
        return "the service tiers could not be read"
    found = [default_tier_breach(policy, value.default), enabled_tiers_breach(policy, value.enabled_tiers)]
    return "; ".join(f for f in found if f) or None


def _met_tiers(policy: Policy, value: Any, _: str | None) -> str:
    if not isinstance(value, ServiceTierSettings):
        return ""
    enabled = value.enabled_tiers if isinstance(value.enabled_tiers, str) else ", ".join(value.enabled_tiers)
    return f"default {value.default}; enabled: {enabled or 'none (Standard only)'}"


def _encryption(policy: Policy, value: Any, _: str | None) -> str | None:
    if isinstance(value, Unreadable):
        return f"the encryption key could not be read ({value.reason})"
    if not isinstance(value, KeyBinding):
        return "the encryption key could not be read"
    if value.key_id is not None and value.key is None:
        return f"the project is bound to key {value.key_id}, which the organization does not have"
    if value.key is not None and not value.key.encrypts_data:
        return f"{describe_key(value.key)} has purpose {value.key.purpose}, not ekm: it is not a data-encryption key"
    return encryption_breach(policy, value.key.name if value.key is not None else None)


def _met_encryption(policy: Policy, value: Any, _: str | None) -> str:
    return describe_key(value.key) if isinstance(value, KeyBinding) and value.key is not None else ""


def _storage(policy: Policy, value: Any, _: str | None) -> str | None:
    if isinstance(value, Unreadable):
        return f"the external storage could not be read ({value.reason})"
    if not isinstance(value, tuple | list):
        return "the external storage could not be read"
    failing = [c for c in value if isinstance(c, ExternalStorageConfiguration) and c.status in FAILING_STATUSES]
    if failing:
        return "; ".join(f"{describe_storage(c)} is {c.status}" for c in failing)
    return storage_breach(policy, [c.geography for c in value if isinstance(c, ExternalStorageConfiguration)])


def _met_storage(policy: Policy, value: Any, _: str | None) -> str:
    return "; ".join(describe_storage(c) for c in value) if isinstance(value, tuple | list) else ""


def _emails(policy: Policy, value: Any, _: str | None) -> str | None:
    if not isinstance(value, tuple | list):
        return "the project's users could not be read"
    return email_breach(policy, [u.email for u in value if isinstance(u, ProjectUser)])


def _met_emails(policy: Policy, value: Any, _: str | None) -> str:
    return f"{len(value)} user(s), all within" if isinstance(value, tuple | list) else ""


def _spend(policy: Policy, value: Any, _: str | None) -> str | None:
    return spend_breach(policy, value.threshold_amount if isinstance(value, SpendLimit) else None)


def _keys(policy: Policy, value: Any, _: str | None) -> str | None:
    rules = policy.keys
    if rules is None or not isinstance(value, ObservedKeys):
        return None
    # Only what breaks the policy's own rules: an owner who lost access is the keys kind's finding, not the
    # policy's, and a key whose scopes the audit log does not show breaks nothing.
    findings = [f for f in key_findings(value.keys, rules.hygiene(), value.now, value.scopes) if f.breaks]
    if not findings:
        return None
    shown = "; ".join(f"{f.label}: {'; '.join(f.breaks)}" for f in findings)
    return f"{len(findings)} key(s) break it: {shown}"


def _met_retention(policy: Policy, value: Any, organization: str | None) -> str:
    return f"{effective_retention(value, organization)} ({value})" if value == "organization_default" else str(value)


def _met_tools(policy: Policy, value: Any, _: str | None) -> str:
    return f"{', '.join(policy.forbidden_hosted_tools or ()) or 'nothing'} disabled"


def _met_models(policy: Policy, value: Any, _: str | None) -> str:
    return f"allow_list: {', '.join(sorted(value.model_ids))}" if isinstance(value, ModelPermissions) else ""


def _met_spend(policy: Policy, value: Any, _: str | None) -> str:
    return f"hard limit {format_usd(value.threshold_amount)}" if isinstance(value, SpendLimit) else ""


def _met_keys(policy: Policy, value: Any, _: str | None) -> str:
    count = len(value.keys) if isinstance(value, ObservedKeys) else 0
    return f"{count} key(s), none breaks it"


_Check = Callable[[Policy, Any, str | None], str | None]
_Describe = Callable[[Policy, Any, str | None], str]
_CHECKS: Final[Mapping[str, _Check]] = {
    "data_retention": _retention,
    "forbidden_hosted_tools": _tools,
    "allowed_models": _models,
    "allowed_residencies": _residency,
    "max_spend_limit": _spend,
    "allowed_service_tiers": _tiers,
    "encryption_keys": _encryption,
    "external_storage_geographies": _storage,
    "allowed_email_domains": _emails,
    "keys": _keys,
}
_MET: Final[Mapping[str, _Describe]] = {
    "data_retention": _met_retention,
    "forbidden_hosted_tools": _met_tools,
    "allowed_models": _met_models,
    "allowed_residencies": lambda policy, value, _: str(value),
    "max_spend_limit": _met_spend,
    "allowed_service_tiers": _met_tiers,
    "encryption_keys": _met_encryption,
    "external_storage_geographies": _met_storage,
    "allowed_email_domains": _met_emails,
    "keys": _met_keys,
}
