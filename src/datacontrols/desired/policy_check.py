"""The policy check of the loader: each breach of `policy:` by a project's effective settings, positioned.

A value a project sets itself is reported in its file; a value it inherits from `project_defaults` is
reported once in organization.yaml, at the default, naming every project that inherits it (a bad default is
one line to fix, however many projects follow it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from datacontrols.desired.limits import SpendLimit, format_usd, to_cents
from datacontrols.desired.members import KeyHygiene
from datacontrols.desired.policy import (
    KeyPolicy,
    Policy,
    allowed_list,
    default_tier_breach,
    email_breach,
    enabled_tiers_breach,
    encryption_breach,
    model_breach,
    retention_breach,
    spend_breach,
    storage_breach,
)
from datacontrols.desired.reading import Loc, Position
from datacontrols.desired.schema import DesiredState, OrganizationFile, ProjectFile
from datacontrols.desired.wording import dotted
from datacontrols.desired.yamlparse import Parsed

__all__ = ["Breach", "PolicyProblem", "declared_breaches", "policy_problems"]


@dataclass(frozen=True)
class PolicyProblem:
    relative: str  # the file, relative to the desired-state directory
    position: Position
    field: str  # `policy.<rule>`
    message: str


def policy_problems(
    organization: OrganizationFile,
    organization_file: str,
    organization_parsed: Parsed | None,
    projects: Sequence[tuple[str, ProjectFile, Parsed]],
) -> list[PolicyProblem]:
    """Every breach of the organization's policy by the projects given (file, model, parsed data)."""
    policy = organization.policy
    if policy is None:
        return []
    state = DesiredState(organization=organization, projects=tuple(project for _, project, _ in projects))
    found: list[PolicyProblem] = []
    inherited: dict[tuple[str, tuple[str | int, ...], str], list[str]] = {}
    for relative, project, parsed in projects:
        for breach in _breaches(policy, organization, state, project):
            text = f"{dotted(breach.loc)}: {breach.message}"
            if breach.inherited:
                inherited.setdefault((breach.rule, breach.loc, text), []).append(project.name)
            else:
                found.append(PolicyProblem(relative, parsed.position(breach.loc), f"policy.{breach.rule}", text))
    for (rule, loc, text), names in inherited.items():
        position = organization_parsed.position(("project_defaults", *loc)) if organization_parsed else (1, 1)
        who = ", ".join(repr(name) for name in names)
        message = f"project_defaults.{text}; inherited by {who}"
        found.append(PolicyProblem(organization_file, position, f"policy.{rule}", message))
    return found


def _breaches(
    policy: Policy, organization: OrganizationFile, state: DesiredState, project: ProjectFile
) -> list[Breach]:
    if project.status != "active":
        return []  # an archived project sends no traffic: nothing of it is held to the policy
    return declared_breaches(
        policy,
        project,
        organization.project_defaults,
        state.effective(project),
        residency=project.residency,
        organization_retention=organization.organization.data_retention,
    )


@dataclass(frozen=True)
class Breach:
    """One rule a project's declared settings break. `loc`: where the value lies within the settings (the
    loader finds it in the project file, or under `project_defaults` when `inherited`)."""

    rule: str
    loc: Loc
    message: str
    inherited: bool = False


def declared_breaches(
    policy: Policy,
    own: Any,
    defaults: Any,
    effective: Any,
    *,
    residency: str | None,
    organization_retention: str | None,
) -> list[Breach]:
    """Pure: the rules a project's effective settings break, as the files declare them.

    `own` is the project file, `defaults` the `project_defaults`, `effective` their merge (a
    `ProjectSettings`); a value the project does not set itself is `inherited`."""
    found: list[Breach] = []

    def add(rule: str, loc: Loc, message: str | None) -> None:
        if message is not None:
            inherited = loc[0] != "residency" and _inherited(own, loc)
            found.append(Breach(rule, loc, message, inherited))

    retention = effective.data_retention
    if retention is not None:
        where = "organization.yaml"
        add(
            "data_retention",
            ("data_retention",),
            retention_breach(policy, retention, organization_retention, where=where),
        )
    for tool in policy.forbidden_hosted_tools or ():
        if (effective.hosted_tools or {}).get(tool):
            add("forbidden_hosted_tools", ("hosted_tools", tool), f"{tool} is enabled; the policy forbids it")
    permissions = effective.model_permissions
    if permissions is not None:
        if permissions == "unrestricted":
            add("allowed_models", ("model_permissions",), model_breach(policy, None, ()))
        else:
            add(
                "allowed_models",
                _model_loc(policy, permissions.mode, permissions.model_ids),
                model_breach(policy, permissions.mode, permissions.model_ids),
            )
    if residency is not None and policy.allowed_residencies is not None and residency not in policy.allowed_residencies:
        message = f"{residency} is not allowed (allowed: {allowed_list(policy.allowed_residencies)})"
        add("allowed_residencies", ("residency",), message)
    limit = effective.spend_limit
    if limit is not None:
        cents = to_cents(limit.amount_usd) if isinstance(limit, SpendLimit) else None
        where_limit: Loc = ("spend_limit", "amount_usd") if cents is not None else ("spend_limit",)
        add("max_spend_limit", where_limit, spend_breach(policy, cents))
    key = effective.encryption_key
    if key is not None:
        named = key if isinstance(key, str) else key.name
        where_key: Loc = ("encryption_key",) if isinstance(key, str) else ("encryption_key", "name")
        add("encryption_keys", where_key, encryption_breach(policy, None if key == "openai_managed" else named))
    members = getattr(own, "members", None)  # project files only
    for email in (members.users or {}) if members is not None else ():
        add("allowed_email_domains", ("members", "users", email), email_breach(policy, [email]))
    storage = effective.external_storage
    if storage is not None:
        where_storage: Loc = ("external_storage", "geography") if storage != "none" else ("external_storage",)
        if storage != "none" and storage.geography is None and policy.external_storage_geographies is not None:
            allowed = allowed_list(policy.external_storage_geographies)
            add("external_storage_geographies", ("external_storage",), f"names no geography (allowed: {allowed})")
        else:
            kept = [] if storage == "none" else [storage.geography]
            add("external_storage_geographies", where_storage, storage_breach(policy, kept))
    tiers = effective.service_tiers
    if tiers is not None and tiers.enabled_tiers is not None:
        where_tiers: Loc = ("service_tiers", "enabled_tiers")
        add("allowed_service_tiers", where_tiers, enabled_tiers_breach(policy, tiers.enabled_tiers))
    if tiers is not None and tiers.default is not None:
        add("allowed_service_tiers", ("service_tiers", "default"), default_tier_breach(policy, tiers.default))
    if isinstance(effective.keys, KeyHygiene) and policy.keys is not None:
        for loc, message in _weaker_key_rules(policy.keys, effective.keys):
            add("keys", loc, message)
    return found


def _model_loc(policy: Policy, mode: str, model_ids: Sequence[str]) -> Loc:
    """Where a model policy breaks the rule: its mode, or the first id outside the allowed ones."""
    allowed = set(policy.allowed_models or ())
    outside = [index for index, model_id in enumerate(model_ids) if model_id not in allowed]
    if mode != "allow_list" or not outside:
        return ("model_permissions", "mode")
    return ("model_permissions", "model_ids", outside[0])


def _weaker_key_rules(policy: KeyPolicy, rules: KeyHygiene) -> list[tuple[Loc, str]]:
    """A project's `keys:` may be stricter than the policy, never looser: its findings stand in for the
    policy's (the policy checks the live keys of projects without `keys:` only)."""
    found: list[tuple[Loc, str]] = []
    if policy.max_age_days is not None and (rules.max_age_days is None or rules.max_age_days > policy.max_age_days):
        have = "no max_age_days" if rules.max_age_days is None else f"max_age_days {rules.max_age_days}"
        found.append((("keys", "max_age_days"), f"{have} is looser than the policy's {policy.max_age_days}"))
    if policy.user_keys == "forbidden" and rules.user_keys != "forbidden":
        found.append((("keys", "user_keys"), f"user_keys {rules.user_keys} is looser than the policy's forbidden"))
    most, have_most = policy.max_spend_limit_usd, rules.max_spend_limit_usd
    if most is not None and (have_most is None or have_most > most):
        usd = format_usd(to_cents(most))
        have = (
            "no max_spend_limit_usd" if have_most is None else f"max_spend_limit_usd {format_usd(to_cents(have_most))}"
        )
        found.append((("keys", "max_spend_limit_usd"), f"{have} is looser than the policy's {usd}"))
    if policy.require_expiry and not rules.require_expiry and rules.max_lifetime_days is None:
        found.append((("keys", "require_expiry"), "keys that never expire are allowed; the policy requires an expiry"))
    longest, have_longest = policy.max_lifetime_days, rules.max_lifetime_days
    if longest is not None and (have_longest is None or have_longest > longest):
        have = "no max_lifetime_days" if have_longest is None else f"max_lifetime_days {have_longest}"
        found.append((("keys", "max_lifetime_days"), f"{have} is looser than the policy's {longest}"))
    allowed, have_allowed = policy.allowed_scopes, rules.allowed_scopes
    if allowed is not None and (have_allowed is None or not set(have_allowed) <= set(allowed)):
        extra = sorted(set(have_allowed or ()) - set(allowed))
        have = "no allowed_scopes" if have_allowed is None else f"allowed_scopes with {', '.join(extra)}"
        found.append((("keys", "allowed_scopes"), f"{have} is looser than the policy's [{', '.join(allowed)}]"))
    return found


def _inherited(own: Any, loc: Loc) -> bool:
    """Whether the value at `loc` comes from `project_defaults`: the project file does not set it (hosted
    tools merge tool by tool, so a tool the project does not name is inherited)."""
    value = getattr(own, str(loc[0]), None)
    if value is None:
        return True
    if loc[0] == "hosted_tools" and len(loc) > 1:
        return loc[1] not in value
    if loc[0] == "service_tiers" and len(loc) > 1:  # merged field by field
        return getattr(value, str(loc[1]), None) is None
    return False
