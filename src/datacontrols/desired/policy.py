"""The organization's policy: bounds every project's settings must stay within (`policy:` in organization.yaml).

    policy:
      data_retention: [zero_data_retention, enhanced_zero_data_retention]  # what a project may resolve to
      forbidden_hosted_tools: [web_search, mcp]
      allowed_models: [gpt-4.1, gpt-4.1-mini]       # a project's allow list must be a subset of these
      allowed_residencies: [EU_STORAGE_PROCESSING]
      max_spend_limit_usd: 5000                     # every project's hard spend limit at most this
      allowed_service_tiers: [flex]                 # tiers besides Standard a project may use ([]: Standard only)
      encryption_keys: [acme-prod-ekm]              # every project's data under one of these customer keys
      keys: {max_age_days: 90, user_keys: forbidden, max_spend_limit_usd: 100}   # per-key monthly cap
      # keys: {allowed_scopes: [api.responses.write]}   # what any key may do (read from the audit log)

The names are the desired-state format's own: retention types, hosted tool and residency names as the Admin
API spells them, keys rules like `keys:`. The spend rule (`max_spend_limit`) is written either as a number of
US dollars (`max_spend_limit_usd: N`, as `keys:` writes its cap) or like `spend_limit` (`max_spend_limit:
{amount_usd: N}`); one of the two.

Two checks use these rules, and both are pure functions here:

- `declared_breaches`: a project's *effective* settings (its file over `project_defaults`) as the files
  declare them; the loader reports each breach at the line the value comes from, and refuses the files.
- the live checks in `kinds/policy.py`: what a control the files do not declare (or a project no file
  describes) holds live, reported as critical findings in plans.

A rule says nothing about a setting the files leave undeclared: the files cannot break a rule for it, and the
plan checks the live value instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Final, Literal

from pydantic import Field, StringConstraints, field_validator, model_validator

from datacontrols.adminapi.permissions import HostedTool
from datacontrols.adminapi.projects import Residency
from datacontrols.adminapi.retention import ProjectRetentionType
from datacontrols.desired.limits import LimitUsd, SpendLimit, format_usd, to_cents
from datacontrols.desired.members import KeyHygiene, Scope
from datacontrols.desired.model import DesiredModel, Text
from datacontrols.desired.reading import Loc

__all__ = [
    "POLICY_DESCRIPTION",
    "POLICY_RULES",
    "Breach",
    "KeyPolicy",
    "Policy",
    "declared_breaches",
    "default_tier_breach",
    "enabled_tiers_breach",
    "encryption_breach",
    "model_breach",
    "retention_breach",
    "spend_breach",
]

ModelId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
# The service tiers' two vocabularies together: enabled_tiers' extra tiers and the default's non-Standard ones.
ServiceTier = Literal["flex", "fast", "ultrafast", "scale"]

POLICY_DESCRIPTION: Final = (
    "Bounds every project must stay within: a project file (or a default it inherits) that breaks one is "
    "refused by `reconcile validate`; a live project that breaks one is a critical finding in plans"
)


def _distinct(values: list[Any]) -> list[Any]:
    seen: set[Any] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"{value!r} is listed twice")
        seen.add(value)
    return values


class KeyPolicy(DesiredModel):
    """Rules every project's API keys are held to, whatever the project's own `keys:` say."""

    max_age_days: int | None = Field(
        default=None, ge=1, description="Keys created more than this many days ago are findings; absent = no rule"
    )
    user_keys: Literal["allowed", "forbidden"] = Field(
        default="allowed", description="forbidden: keys owned by users (not service accounts) are findings"
    )
    max_spend_limit_usd: LimitUsd | None = Field(
        default=None,
        description="Keys without a per-key monthly spend limit, or with one above this many US dollars, are "
        "findings; absent = no rule",
    )

    allowed_scopes: list[Scope] | None = Field(
        default=None,
        min_length=1,
        description="Keys with a scope outside these, or with all permissions, are findings (their scopes are "
        "read from the audit log, as for a project's keys.allowed_scopes); absent = no rule",
    )

    @field_validator("allowed_scopes")
    @classmethod
    def _distinct_scopes(cls, scopes: list[str] | None) -> list[str] | None:
        return None if scopes is None else _distinct(scopes)

    def hygiene(self) -> KeyHygiene:
        """These rules as a project's `keys:` would say them (report only)."""
        return KeyHygiene(
            max_age_days=self.max_age_days,
            user_keys=self.user_keys,
            max_spend_limit_usd=self.max_spend_limit_usd,
            allowed_scopes=self.allowed_scopes,
        )


class Policy(DesiredModel):
    """Organization-wide bounds on project settings; each rule left out is not checked."""

    data_retention: list[ProjectRetentionType] | None = Field(
        default=None,
        min_length=1,
        description="The data retention types a project may resolve to (organization_default resolves to the "
        "organization's)",
    )
    forbidden_hosted_tools: list[HostedTool] | None = Field(
        default=None, description="Hosted tools no project may enable"
    )
    allowed_models: list[ModelId] | None = Field(
        default=None,
        min_length=1,
        description="Every project needs an allow list within these model ids (unrestricted and deny lists "
        "break it: they allow models no list names)",
    )
    allowed_residencies: list[Residency] | None = Field(
        default=None, min_length=1, description="The residencies a project may have"
    )
    max_spend_limit: SpendLimit | None = Field(
        default=None,
        description="Every project's hard spend limit is at most {amount_usd: N}; `none` breaks it (the same "
        "rule as max_spend_limit_usd; set one)",
    )
    max_spend_limit_usd: LimitUsd | None = Field(
        default=None,
        description="Every project's hard spend limit is at most this many US dollars; `none` breaks it (the "
        "same rule as max_spend_limit; set one)",
    )
    allowed_service_tiers: list[ServiceTier] | None = Field(
        default=None,
        description="The tiers besides Standard a project may use: its service_tiers.enabled_tiers within these "
        "(all breaks it) and its default standard or one of these; [] = Standard only",
    )
    encryption_keys: list[Text] | None = Field(
        default=None,
        min_length=1,
        description="Every project's data is encrypted with one of these customer-managed keys (by registered "
        "name); openai_managed, or no key, breaks it",
    )
    keys: KeyPolicy | None = Field(default=None, description="Rules every project's API keys are held to")

    @field_validator(
        "data_retention",
        "forbidden_hosted_tools",
        "allowed_models",
        "allowed_residencies",
        "allowed_service_tiers",
        "encryption_keys",
    )
    @classmethod
    def _no_repeats(cls, values: list[Any] | None) -> list[Any] | None:
        return None if values is None else _distinct(values)

    @field_validator("data_retention")
    @classmethod
    def _concrete_retention(cls, values: list[str] | None) -> list[str] | None:
        if values is not None and "organization_default" in values:
            raise ValueError(
                "name what projects resolve to, not organization_default: a project's organization_default is "
                "checked as organization.data_retention"
            )
        return values

    @model_validator(mode="after")
    def _one_spend_spelling(self) -> Policy:
        if self.max_spend_limit is not None and self.max_spend_limit_usd is not None:
            raise ValueError("max_spend_limit and max_spend_limit_usd are one rule written two ways; keep one")
        return self

    @property
    def spend_bound(self) -> SpendLimit | None:
        """The `max_spend_limit` rule, however it is written."""
        if self.max_spend_limit_usd is not None:
            return SpendLimit(amount_usd=self.max_spend_limit_usd)
        return self.max_spend_limit

    def rules(self) -> list[str]:
        """The rules this policy sets, in the order of its fields."""
        found = {name: getattr(self, name) for name in POLICY_RULES} | {_SPEND: self.spend_bound}
        return [name for name in POLICY_RULES if found[name] is not None]


_SPEND: Final = "max_spend_limit"
# Every rule a policy can set: the fields of `Policy`, each checked on its own (the spend rule's two
# spellings are one rule, named max_spend_limit in plans and messages).
POLICY_RULES: Final[tuple[str, ...]] = tuple(name for name in Policy.model_fields if name != "max_spend_limit_usd")


@dataclass(frozen=True)
class Breach:
    """One rule a project's declared settings break. `loc`: where the value lies within the settings (the
    loader finds it in the project file, or under `project_defaults` when `inherited`)."""

    rule: str
    loc: Loc
    message: str
    inherited: bool = False


def _allowed(values: Sequence[Any]) -> str:
    return ", ".join(str(v) for v in values)


def retention_breach(policy: Policy, setting: str, organization: str | None, *, where: str) -> str | None:
    """Why `setting` (a project's retention) breaks `policy.data_retention`, or None. `organization`: the
    organization's retention that `organization_default` resolves to (`where` says where it is set)."""
    allowed = policy.data_retention
    if allowed is None:
        return None
    if setting != "organization_default":
        return None if setting in allowed else f"{setting!r} is not allowed (allowed: {_allowed(allowed)})"
    if organization is None:
        return (
            f"organization_default follows the organization's data retention, which {where} does not set "
            f"(allowed: {_allowed(allowed)})"
        )
    if organization in allowed:
        return None
    return (
        f"organization_default resolves to {where}'s {organization!r}, which is not allowed "
        f"(allowed: {_allowed(allowed)})"
    )


def model_breach(policy: Policy, mode: str | None, model_ids: Sequence[str]) -> str | None:
    """Why a model policy (None: unrestricted) breaks `policy.allowed_models`, or None."""
    allowed = policy.allowed_models
    if allowed is None:
        return None
    if mode is None:
        return f"unrestricted allows every model (allowed: an allow_list within {_allowed(allowed)})"
    if mode != "allow_list":
        # No catalogue of models is read, so no deny list can be shown to cover every model outside the
        # allowed ones; a model released tomorrow would be allowed by it.
        return f"a {mode} allows every model it does not name (allowed: an allow_list within {_allowed(allowed)})"
    extra = sorted(set(model_ids) - set(allowed))
    if extra:
        return f"allows {_allowed(extra)}, outside the policy (allowed: {_allowed(allowed)})"
    return None


def enabled_tiers_breach(policy: Policy, enabled: str | Sequence[str]) -> str | None:
    """Why a project's `enabled_tiers` (`all` or a list) breaks `policy.allowed_service_tiers`, or None."""
    allowed = policy.allowed_service_tiers
    if allowed is None:
        return None
    shown = _allowed(allowed) or "Standard only"
    if isinstance(enabled, str):
        return f"enabled_tiers: {enabled} allows every tier, also those added later (allowed: {shown})"
    extra = sorted(set(enabled) - set(allowed))
    return f"enables {_allowed(extra)}, outside the policy (allowed: {shown})" if extra else None


def default_tier_breach(policy: Policy, default: str) -> str | None:
    """Why a project's default tier breaks `policy.allowed_service_tiers`, or None (standard never does)."""
    allowed = policy.allowed_service_tiers
    if allowed is None or default == "standard" or default in allowed:
        return None
    return f"the default tier {default} is not allowed (allowed: {_allowed(['standard', *allowed])})"


def encryption_breach(policy: Policy, key_name: str | None) -> str | None:
    """Why a project whose data is under the key of this name (None: OpenAI-managed keys) breaks
    `policy.encryption_keys`, or None."""
    allowed = policy.encryption_keys
    if allowed is None or key_name in allowed:
        return None
    shown = f"allowed: {_allowed(allowed)}"
    if key_name is None:
        return f"the data is encrypted with OpenAI-managed keys, not a customer-managed one ({shown})"
    return f'the data is encrypted with the key "{key_name}" ({shown})'


def spend_breach(policy: Policy, cents: int | None) -> str | None:
    """Why a hard spend limit (None: no limit) breaks `policy.max_spend_limit`, or None."""
    bound = policy.spend_bound
    if bound is None:
        return None
    if cents is None:
        return f"no hard spend limit (allowed: at most {format_usd(bound.cents)})"
    if cents > bound.cents:
        return f"{format_usd(cents)} is above the policy's {format_usd(bound.cents)}"
    return None


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
        message = f"{residency} is not allowed (allowed: {_allowed(policy.allowed_residencies)})"
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
