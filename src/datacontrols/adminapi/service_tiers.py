"""A project's service tiers (`/organization/projects/{project_id}/service_tier_settings`): how requests are served.

Not in the pinned spec: the shapes are openai-python 3.63.0's (SDK-NEWER.md section 3). A singleton per
project: `default` is the tier of requests that omit `service_tier` or send `auto` (standard | fast | scale);
`enabled_tiers` the additional tiers the project may use: the string `all` (tiers added later included) or
a list of flex | fast | ultrafast, where `[]` means Standard only. The update is atomic and partial: a field
left out keeps its value.
"""

from __future__ import annotations

from typing import Final

from datacontrols.adminapi.base import ApiModel, Family, parse
from datacontrols.adminapi.transport import route

__all__ = ["DEFAULT_TIERS", "EXTRA_TIERS", "ServiceTierSettings", "ServiceTiers", "same_tiers"]

PATH = "/organization/projects/{project_id}/service_tier_settings"

DEFAULT_TIERS: Final[tuple[str, ...]] = ("standard", "fast", "scale")
EXTRA_TIERS: Final[tuple[str, ...]] = ("flex", "fast", "ultrafast")


class ServiceTierSettings(ApiModel):
    object: str = "project.service_tier_settings"
    default: str  # read as a string: a tier the API adds must not crash a run
    enabled_tiers: str | list[str]  # "all", or the additional tiers


def same_tiers(left: str | list[str] | None, right: str | list[str] | None) -> bool:
    """Whether two `enabled_tiers` values allow the same tiers (a list's order means nothing)."""
    if isinstance(left, list) and isinstance(right, list):
        return sorted(set(left)) == sorted(set(right))
    return left == right


class ServiceTiers(Family):
    async def get(self, project_id: str) -> ServiceTierSettings:
        where = route(PATH, project_id=project_id)
        return parse(ServiceTierSettings, await self._t.get(where), where)

    async def update(
        self, project_id: str, *, default: str | None = None, enabled_tiers: str | list[str] | None = None
    ) -> ServiceTierSettings:
        """Set the fields given (at least one); the others keep their values."""
        body: dict[str, object] = {}
        if default is not None:
            body["default"] = default
        if enabled_tiers is not None:
            body["enabled_tiers"] = enabled_tiers if isinstance(enabled_tiers, str) else sorted(enabled_tiers)
        if not body:
            raise ValueError("a service tier update needs default or enabled_tiers")

        async def recheck() -> ServiceTierSettings | None:
            observed = await self.get(project_id)
            same_default = default is None or observed.default == default
            return observed if same_default and _tiers_match(observed, enabled_tiers) else None

        where = route(PATH, project_id=project_id)
        return parse(ServiceTierSettings, await self._t.write("POST", where, body=body, recheck=recheck), where)


def _tiers_match(observed: ServiceTierSettings, enabled_tiers: str | list[str] | None) -> bool:
    return enabled_tiers is None or same_tiers(observed.enabled_tiers, enabled_tiers)
