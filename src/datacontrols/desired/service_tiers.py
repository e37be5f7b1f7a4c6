"""The desired-state format of a project's service tiers: how its requests are served.

    service_tiers: {default: standard, enabled_tiers: [flex]}   # project files, project_defaults
    service_tiers: {enabled_tiers: all}                          # only the fields named are managed

`default` is the tier of requests that omit `service_tier` (standard | fast | scale); `enabled_tiers` the
additional tiers the project may use: `all` (tiers OpenAI adds later included) or a list of flex | fast |
ultrafast, where `[]` means Standard only. A project value replaces the default's field by field.
"""

from __future__ import annotations

from typing import Any, Final, Literal

from pydantic import Field, field_validator, model_validator

from datacontrols.desired.model import DesiredModel

__all__ = ["SERVICE_TIERS_DESCRIPTION", "ServiceTierChecks", "ServiceTiersSetting", "merge_service_tiers"]


class ServiceTiersSetting(DesiredModel):
    default: Literal["standard", "fast", "scale"] | None = Field(
        default=None, description="The tier of requests that omit service_tier or send auto; absent = not managed"
    )
    enabled_tiers: Literal["all"] | list[Literal["flex", "fast", "ultrafast"]] | None = Field(
        default=None,
        description="The additional tiers the project may use: all, or a list ([] = Standard only); "
        "absent = not managed",
    )

    @field_validator("enabled_tiers")
    @classmethod
    def _no_repeats(cls, value: Any) -> Any:
        if isinstance(value, list) and len(set(value)) != len(value):
            raise ValueError("a tier is listed twice")
        return value

    @model_validator(mode="after")
    def _something(self) -> ServiceTiersSetting:
        if self.default is None and self.enabled_tiers is None:
            raise ValueError("name default, enabled_tiers or both (or leave service_tiers out to leave it unmanaged)")
        return self


SERVICE_TIERS_DESCRIPTION: Final = (
    "How the project's requests are served: {default: standard|fast|scale, enabled_tiers: all | [flex, fast, "
    "ultrafast]} ([] = Standard only); only the fields named are managed; absent = not managed"
)


def merge_service_tiers(
    defaults: ServiceTiersSetting | None, own: ServiceTiersSetting | None
) -> ServiceTiersSetting | None:
    """A project's value replaces the default's field by field: `{enabled_tiers: []}` keeps the default tier."""
    if defaults is None or own is None:
        return own if own is not None else defaults
    return ServiceTiersSetting(
        default=own.default if own.default is not None else defaults.default,
        enabled_tiers=own.enabled_tiers if own.enabled_tiers is not None else defaults.enabled_tiers,
    )


class ServiceTierChecks(DesiredModel):
    """Mixed into the classes a file is validated with: an explicit null is ambiguous, so it is refused."""

    @field_validator("service_tiers", mode="before", check_fields=False)
    @classmethod
    def _refuse_null_tiers(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("null is ambiguous here; leave the key out to leave service tiers unmanaged")
        return value
