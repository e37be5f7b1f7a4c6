"""A project's service tiers, as openai-python 3.63.0's types describe them (not in the pinned spec).

GET answers `{object: "project.service_tier_settings", default, enabled_tiers}`. POST updates atomically:
both body fields are optional but one is required (400 otherwise), a field left out keeps its value,
`default` is standard | fast | scale, `enabled_tiers` is `"all"` or a list of flex | fast | ultrafast
(`[]`: Standard only). The emulator keeps a list in the order sent. An archived project is read-only.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from datacontrols.emulator.errors import ApiFailure
from datacontrols.emulator.routing import ApiRoute, Call

__all__ = ["ROUTES"]

PATH = "/organization/projects/{project_id}/service_tier_settings"


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    default: Literal["standard", "fast", "scale"] | None = None
    enabled_tiers: Literal["all"] | list[Literal["flex", "fast", "ultrafast"]] | None = None


def get_settings(call: Call) -> dict[str, Any]:
    project = call.project()
    tiers = project.enabled_service_tiers
    return {
        "object": "project.service_tier_settings",
        "default": project.service_tier_default,
        "enabled_tiers": tiers if isinstance(tiers, str) else list(tiers),
    }


def update_settings(call: Call) -> dict[str, Any]:
    project = call.writable_project()
    body = call.body(_Body)
    if body.default is None and body.enabled_tiers is None:
        raise ApiFailure.bad_request("supply at least one of default or enabled_tiers")
    if body.default is not None:
        project.service_tier_default = body.default
    if body.enabled_tiers is not None:
        tiers = body.enabled_tiers
        project.enabled_service_tiers = tiers if isinstance(tiers, str) else list(dict.fromkeys(tiers))
    return get_settings(call)


ROUTES = (ApiRoute("GET", PATH, get_settings), ApiRoute("POST", PATH, update_settings))
