"""The desired-state format of admin key hygiene: rules the organization's admin API keys are checked against.

    organization:                                  # organization.yaml
      admin_keys:
        max_age_days: 90                           # flag keys created more than N days ago
        max_idle_days: 30                          # flag keys unused for N days (never used: since creation)
        require_expiry: true                       # flag keys that never expire
        owners: [user-abc123, Ops Automation]      # flag keys owned by anyone else

Findings only: admin keys are never deleted or changed (the tool itself runs on one). The admin key list
names each key's owner by id and name only (no email), so `owners` holds owner ids or names as that list
shows them: a user's id (`user-...`) or name, or a service account's id or name.
"""

from __future__ import annotations

from typing import Annotated, Final

from pydantic import Field, StringConstraints, field_validator

from datacontrols.desired.model import DesiredModel

__all__ = ["ADMIN_KEYS_DESCRIPTION", "AdminKeyRules"]

OwnerName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]

ADMIN_KEYS_DESCRIPTION: Final = (
    "Hygiene rules for the organization's admin API keys; findings are reported, never applied (the tool "
    "runs on one); absent = admin keys not inventoried"
)


class AdminKeyRules(DesiredModel):
    """Rules every admin API key of the organization is checked against."""

    max_age_days: int | None = Field(
        default=None, ge=1, description="Flag admin keys created more than this many days ago; absent = no rule"
    )
    max_idle_days: int | None = Field(
        default=None,
        ge=1,
        description="Flag admin keys not used for this many days (never used: counted from creation); absent = no rule",
    )
    require_expiry: bool = Field(default=False, description="Flag admin keys that never expire; false = no rule")
    owners: list[OwnerName] | None = Field(
        default=None,
        description="The owners allowed to hold admin keys, by the id or name the admin key list shows "
        "(it gives no email); absent = any owner",
    )

    @field_validator("owners")
    @classmethod
    def _no_repeats(cls, owners: list[str] | None) -> list[str] | None:
        if owners is not None and (twice := sorted({o for o in owners if owners.count(o) > 1})):
            raise ValueError(f"{', '.join(twice)} is listed more than once")
        return owners
