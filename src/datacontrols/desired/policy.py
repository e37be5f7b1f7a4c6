"""The organization's policy: bounds every project's settings must stay within (`policy:` in organization.yaml).

    policy:
      data_retention: [zero_data_retention, enhanced_zero_data_retention]  # what a project may resolve to
      forbidden_hosted_tools: [web_search, mcp]
      allowed_models: [gpt-4.1, gpt-4.1-mini]       # a project's allow list must be a subset of these
      allowed_residencies: [EU_STORAGE_PROCESSING]
      max_spend_limit_usd: 5000                     # every project's hard spend limit at most this
      allowed_service_tiers: [flex]                 # tiers besides Standard a project may use ([]: Standard only)
      encryption_keys: [acme-prod-ekm]              # every project's data under one of these customer keys
      external_storage_geographies: [EU]            # every project's data in its customer storage, there
      allowed_email_domains: [acme.com]             # every project's users have an address there
      keys: {max_age_days: 90, user_keys: forbidden, max_spend_limit_usd: 100}   # per-key monthly cap
      # keys: {require_expiry: true, max_lifetime_days: 90}   # every key expires, within 90 days of creation
      # keys: {allowed_scopes: [api.responses.write]}   # what any key may do (read from the audit log)

The names are the desired-state format's own: retention types, hosted tool and residency names as the Admin
API spells them, keys rules like `keys:`. The spend rule (`max_spend_limit`) is written either as a number of
US dollars (`max_spend_limit_usd: N`, as `keys:` writes its cap) or like `spend_limit` (`max_spend_limit:
{amount_usd: N}`); one of the two.

Two checks use these rules, through the pure functions here (one per rule and value):

- `policy_check.declared_breaches`: a project's *effective* settings (its file over `project_defaults`) as
  the files declare them; the loader reports each breach at the line the value comes from, and refuses them.
- the live checks in `kinds/policy.py`: what a control the files do not declare (or a project no file
  describes) holds live, reported as critical findings in plans.

A rule says nothing about a setting the files leave undeclared: the files cannot break a rule for it, and the
plan checks the live value instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Final, Literal

from pydantic import Field, StringConstraints, field_validator, model_validator

from datacontrols.adminapi.permissions import HostedTool
from datacontrols.adminapi.projects import Residency
from datacontrols.adminapi.retention import ProjectRetentionType
from datacontrols.desired.limits import LimitUsd, SpendLimit, format_usd
from datacontrols.desired.members import KeyHygiene, Scope
from datacontrols.desired.model import DesiredModel, Text

__all__ = [
    "POLICY_DESCRIPTION",
    "POLICY_RULES",
    "KeyPolicy",
    "Policy",
    "allowed_list",
    "default_tier_breach",
    "email_breach",
    "enabled_tiers_breach",
    "encryption_breach",
    "model_breach",
    "retention_breach",
    "spend_breach",
    "storage_breach",
]

ModelId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
EmailDomain = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, pattern=r"^[^@\s]+\.[^@\s]+$")]
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
    require_expiry: bool = Field(default=False, description="Keys that never expire are findings; false = no rule")
    max_lifetime_days: int | None = Field(
        default=None,
        ge=1,
        description="Keys that expire more than this many days after creation, or never, are findings; absent = "
        "no rule",
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
            require_expiry=self.require_expiry,
            max_lifetime_days=self.max_lifetime_days,
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
    external_storage_geographies: list[Text] | None = Field(
        default=None,
        min_length=1,
        description="Every project keeps its data in customer-managed external storage in one of these "
        "geographies (the OpenAI geography, e.g. EU; case ignored); none, another geography or a degraded or "
        "unhealthy configuration breaks it",
    )
    allowed_email_domains: list[EmailDomain] | None = Field(
        default=None,
        min_length=1,
        description="Every user given access to a project directly has an email address in one of these domains "
        "(exactly: list subdomains too; case ignored)",
    )
    keys: KeyPolicy | None = Field(default=None, description="Rules every project's API keys are held to")

    @field_validator(
        "data_retention",
        "forbidden_hosted_tools",
        "allowed_models",
        "allowed_residencies",
        "allowed_service_tiers",
        "encryption_keys",
        "external_storage_geographies",
        "allowed_email_domains",
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


def allowed_list(values: Sequence[Any]) -> str:
    return ", ".join(str(v) for v in values)


def retention_breach(policy: Policy, setting: str, organization: str | None, *, where: str) -> str | None:
    """Why `setting` (a project's retention) breaks `policy.data_retention`, or None. `organization`: the
    organization's retention that `organization_default` resolves to (`where` says where it is set)."""
    allowed = policy.data_retention
    if allowed is None:
        return None
    if setting != "organization_default":
        return None if setting in allowed else f"{setting!r} is not allowed (allowed: {allowed_list(allowed)})"
    if organization is None:
        return (
            f"organization_default follows the organization's data retention, which {where} does not set "
            f"(allowed: {allowed_list(allowed)})"
        )
    if organization in allowed:
        return None
    return (
        f"organization_default resolves to {where}'s {organization!r}, which is not allowed "
        f"(allowed: {allowed_list(allowed)})"
    )


def model_breach(policy: Policy, mode: str | None, model_ids: Sequence[str]) -> str | None:
    """Why a model policy (None: unrestricted) breaks `policy.allowed_models`, or None."""
    allowed = policy.allowed_models
    if allowed is None:
        return None
    if mode is None:
        return f"unrestricted allows every model (allowed: an allow_list within {allowed_list(allowed)})"
    if mode != "allow_list":
        # No catalogue of models is read, so no deny list can be shown to cover every model outside the
        # allowed ones; a model released tomorrow would be allowed by it.
        return f"a {mode} allows every model it does not name (allowed: an allow_list within {allowed_list(allowed)})"
    extra = sorted(set(model_ids) - set(allowed))
    if extra:
        return f"allows {allowed_list(extra)}, outside the policy (allowed: {allowed_list(allowed)})"
    return None


def enabled_tiers_breach(policy: Policy, enabled: str | Sequence[str]) -> str | None:
    """Why a project's `enabled_tiers` (`all` or a list) breaks `policy.allowed_service_tiers`, or None."""
    allowed = policy.allowed_service_tiers
    if allowed is None:
        return None
    shown = allowed_list(allowed) or "Standard only"
    if isinstance(enabled, str):
        return f"enabled_tiers: {enabled} allows every tier, also those added later (allowed: {shown})"
    extra = sorted(set(enabled) - set(allowed))
    return f"enables {allowed_list(extra)}, outside the policy (allowed: {shown})" if extra else None


def default_tier_breach(policy: Policy, default: str) -> str | None:
    """Why a project's default tier breaks `policy.allowed_service_tiers`, or None (standard never does)."""
    allowed = policy.allowed_service_tiers
    if allowed is None or default == "standard" or default in allowed:
        return None
    return f"the default tier {default} is not allowed (allowed: {allowed_list(['standard', *allowed])})"


def encryption_breach(policy: Policy, key_name: str | None) -> str | None:
    """Why a project whose data is under the key of this name (None: OpenAI-managed keys) breaks
    `policy.encryption_keys`, or None."""
    allowed = policy.encryption_keys
    if allowed is None or key_name in allowed:
        return None
    shown = f"allowed: {allowed_list(allowed)}"
    if key_name is None:
        return f"the data is encrypted with OpenAI-managed keys, not a customer-managed one ({shown})"
    return f'the data is encrypted with the key "{key_name}" ({shown})'


def storage_breach(policy: Policy, geographies: Sequence[str | None]) -> str | None:
    """Why a project keeping its data in external storage of these geographies (one per configuration; None:
    not known; none at all: OpenAI's storage) breaks `policy.external_storage_geographies`, or None."""
    allowed = policy.external_storage_geographies
    if allowed is None:
        return None
    shown = f"allowed: {allowed_list(allowed)}"
    if not geographies:
        return f"the data is not kept in customer-managed external storage ({shown})"
    wanted = {g.casefold() for g in allowed}
    outside = sorted({g or "an unknown geography" for g in geographies if g is None or g.casefold() not in wanted})
    return f"external storage in {', '.join(outside)} ({shown})" if outside else None


def email_breach(policy: Policy, emails: Sequence[str | None]) -> str | None:
    """Why users with these addresses (None: the API gave none) break `policy.allowed_email_domains`, or None."""
    allowed = policy.allowed_email_domains
    if allowed is None:
        return None
    outside = sorted(
        {e or "a user without an email" for e in emails if e is None or e.rpartition("@")[2].casefold() not in allowed}
    )
    return f"{', '.join(outside)} outside the allowed domains ({allowed_list(allowed)})" if outside else None


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
