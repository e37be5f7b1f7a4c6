"""The desired-state format of access: who may use a project (`members`) and rules for its API keys (`keys`).

    members:                                       # project files only
      mode: additive                               # additive (default) | authoritative
      users: {alice@example.com: owner, bob@example.com: member}
      groups: {data-science: member}               # organization groups, by name
      service_accounts: {support-bot-prod: member} # by name
    keys:                                          # project files and project_defaults
      max_age_days: 90
      max_idle_days: 30
      user_keys: allowed                           # allowed | report | forbidden
      prune: report                                # report | delete
      max_lifetime_days: 365
      fix: expiry                                  # report (default) | expiry | spend_limit | scopes, or a list
      require_spend_limit: true                    # report keys without a per-key spend cap
      max_spend_limit_usd: 100                     # report keys without a cap, or with a higher one
      allowed_scopes: [api.responses.write]        # flag keys with other scopes, or all permissions

Each list under `members` is managed only when present: `users: {}` in authoritative mode removes every user,
while leaving `users` out leaves users alone. Emails are matched without regard to case, so two spellings of
one address in a file are refused as a duplicate. `keys` from `project_defaults` applies whole unless the
project file has its own `keys`.

`fix: expiry` sets the expiry of each key that breaks `max_lifetime_days` (or never expires) to its creation
plus `max_lifetime_days`, through the SDK's key update; it needs `max_lifetime_days` to know that date.
`fix: spend_limit` gives each key without a cap, or with a higher one, a monthly cap of
`max_spend_limit_usd`; it needs that amount. `fix: scopes` narrows a key that may do more than
`allowed_scopes` to the allowed scopes it has (all of them, for a key with all permissions); it needs
`allowed_scopes`. The default is `report`: shortening a key's life, capping what it may spend or narrowing
what it may do can stop a workload that still uses it.
"""

from __future__ import annotations

from typing import Annotated, Final, Literal

from pydantic import Field, StringConstraints, field_validator, model_validator

from datacontrols.desired.limits import LimitUsd, to_cents
from datacontrols.desired.model import DesiredModel, check_emails

__all__ = [
    "INVITE_MISSING_USERS_DESCRIPTION",
    "KEYS_DESCRIPTION",
    "MEMBERS_DESCRIPTION",
    "KeyHygiene",
    "MemberRole",
    "Members",
    "Scope",
]

MemberRole = Literal["owner", "member"]

Email = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=320)]
PrincipalName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
KeyFixPart = Literal["expiry", "spend_limit", "scopes"]
KeyFix = Literal["report", "expiry", "spend_limit", "scopes"]
Scope = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=r"^\S+$")]

MEMBERS_DESCRIPTION: Final = (
    "Who may use the project: users by email, groups and service accounts by name, each with owner or member. "
    "Each list is managed only when present; absent = members not managed"
)
KEYS_DESCRIPTION: Final = (
    "Hygiene rules for the project's API keys; findings are reported (or deleted with prune: delete); "
    "absent = keys not inventoried"
)
INVITE_MISSING_USERS_DESCRIPTION: Final = (
    "true: invite (as organization readers) the emails listed in members.users that are not yet in the "
    "organization; they are added to their projects by a later run, once they have accepted"
)


class Members(DesiredModel):
    """A project's members. Only the lists present are managed."""

    mode: Literal["additive", "authoritative"] = Field(
        default="additive",
        description="additive: add members and fix roles only; authoritative: also remove members not listed",
    )
    users: dict[Email, MemberRole] | None = Field(
        default=None, description="email -> owner|member; users must belong to the organization (or be invited)"
    )
    groups: dict[PrincipalName, MemberRole] | None = Field(
        default=None, description="organization group name -> owner|member"
    )
    service_accounts: dict[PrincipalName, MemberRole] | None = Field(
        default=None,
        description="service account name -> owner|member; a missing one is created (its key goes to --secret-sink)",
    )

    @field_validator("users")
    @classmethod
    def _check_emails(cls, users: dict[str, str] | None) -> dict[str, str] | None:
        if users is None:
            return None
        check_emails(users)
        return users

    @property
    def authoritative(self) -> bool:
        return self.mode == "authoritative"


class KeyHygiene(DesiredModel):
    """Rules every API key of a project is checked against."""

    max_age_days: int | None = Field(
        default=None, ge=1, description="Flag keys created more than this many days ago; absent = no age rule"
    )
    max_idle_days: int | None = Field(
        default=None,
        ge=1,
        description="Flag keys not used for this many days (never used: counted from creation); absent = no rule",
    )
    require_expiry: bool = Field(
        default=False, description="Flag keys that never expire (the SDK's expires_at is null); false = no rule"
    )
    max_lifetime_days: int | None = Field(
        default=None,
        ge=1,
        description="Flag keys whose lifetime (creation to expiry) exceeds this, or that never expire; "
        "absent = no rule",
    )
    require_spend_limit: bool = Field(
        default=False,
        description="Report keys without a per-key spend limit (the SDK's spend_limit); reported only, never "
        "pruned; false = no rule",
    )
    user_keys: Literal["allowed", "report", "forbidden"] = Field(
        default="allowed",
        description="Keys owned by users (not service accounts): allowed, report each one, or forbidden "
        "(flagged like a stale key, so prune: delete removes them)",
    )
    prune: Literal["report", "delete"] = Field(
        default="report",
        description="report: findings only; delete: delete flagged user-owned keys (service-account keys can only "
        "be revoked by deleting their account, which the plan says instead)",
    )
    max_spend_limit_usd: LimitUsd | None = Field(
        default=None,
        description="Report keys without a per-key monthly spend limit, or with one above this many US dollars "
        "(whole cents); absent = no rule",
    )
    allowed_scopes: list[Scope] | None = Field(
        default=None,
        min_length=1,
        description="Flag keys with a scope outside these (the dashboard's identifiers, e.g. api.responses.write) "
        "or with all permissions; a key's scopes are read from the audit log (api_key.created and "
        "api_key.updated), so a key it has no record of is reported as unknown; absent = no rule",
    )
    fix: KeyFix | list[KeyFixPart] = Field(
        default="report",
        description="report: findings only; expiry: set the expiry of a key that never expires or lives longer "
        "than max_lifetime_days to its creation + max_lifetime_days (needs max_lifetime_days); spend_limit: give "
        "a key without a cap, or with a higher one, a monthly cap of max_spend_limit_usd (needs it); scopes: "
        "narrow a key with scopes outside allowed_scopes to the allowed ones it has (needs allowed_scopes); or "
        "a list of these",
    )

    @field_validator("allowed_scopes")
    @classmethod
    def _distinct_scopes(cls, scopes: list[str] | None) -> list[str] | None:
        if scopes is not None and len(set(scopes)) != len(scopes):
            raise ValueError("a scope is listed twice")
        return scopes

    @property
    def fixes(self) -> frozenset[str]:
        """What `fix` corrects: a subset of {expiry, spend_limit, scopes}."""
        if isinstance(self.fix, list):
            return frozenset(self.fix)
        return frozenset() if self.fix == "report" else frozenset({self.fix})

    @property
    def max_spend_cents(self) -> int | None:
        return to_cents(self.max_spend_limit_usd) if self.max_spend_limit_usd is not None else None

    @model_validator(mode="after")
    def _fixes_need_their_rule(self) -> KeyHygiene:
        if isinstance(self.fix, list) and len(set(self.fix)) != len(self.fix):
            raise ValueError("fix lists a correction twice")
        if "expiry" in self.fixes and self.max_lifetime_days is None:
            raise ValueError(
                "fix: expiry sets each key's expiry to its creation + max_lifetime_days; add max_lifetime_days "
                "(or write fix: report)"
            )
        if "spend_limit" in self.fixes and self.max_spend_limit_usd is None:
            raise ValueError(
                "fix: spend_limit caps each key's monthly spend at max_spend_limit_usd; add max_spend_limit_usd "
                "(or write fix: report)"
            )
        if "scopes" in self.fixes and self.allowed_scopes is None:
            raise ValueError(
                "fix: scopes narrows each key to the allowed scopes it has; add allowed_scopes (or write fix: report)"
            )
        return self
