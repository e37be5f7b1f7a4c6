"""A project's service tiers (`project_service_tiers`): the default tier and the additional tiers allowed.

Only the fields the desired state names are compared and sent (the API's update is partial and atomic).
No field here is a data control (the SDK says nothing of tiers changing where or how long data is kept),
so nothing weakens one; what a reviewer must know is what may break:
- taking a tier away that is enabled live (or `all` down to a list, which also drops tiers OpenAI adds
  later) refuses the requests that ask for it (`disrupts`);
- changing the default moves every request that sends no `service_tier`, with its latency and price.

The audit log records no service-tier event (SDK-NEWER.md section 10 lists none), so the daemon finds drift
by reading, on its quick lane.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from datacontrols.adminapi.service_tiers import EXTRA_TIERS, ServiceTierSettings, same_tiers
from datacontrols.kinds.base import NOT_CREATED, DesiredProject, ProjectKind, World
from datacontrols.plan import Change, FieldChange

if TYPE_CHECKING:
    from datacontrols.adminapi import AdminApi
    from datacontrols.adminapi.projects import Project

__all__ = ["ProjectServiceTiers"]


def _tiers(value: Any) -> set[str]:
    """The additional tiers a value allows (`all`: every tier known today)."""
    return set(EXTRA_TIERS) if value == "all" else set(value or ())


def _shown(value: Any) -> Any:
    return sorted(value) if isinstance(value, list) else value


class ProjectServiceTiers(ProjectKind):
    name = "project_service_tiers"
    group = "service_tiers"
    order = 14
    audit_event_types = ()
    exports = True

    def manages(self, project: DesiredProject) -> bool:
        return project.settings.service_tiers is not None

    async def observe(self, api: AdminApi, project: Project) -> ServiceTierSettings:
        return await api.service_tiers.get(project.id)

    def export(self, observed: Any) -> dict[str, Any] | None:
        if not isinstance(observed, ServiceTierSettings):
            return None
        return {"service_tiers": {"default": observed.default, "enabled_tiers": _shown(observed.enabled_tiers)}}

    def compare(self, project: DesiredProject, observed: Any, world: World) -> list[Change]:
        want = project.settings.service_tiers
        if want is None:
            return []
        new = observed is NOT_CREATED
        live_default = None if new else observed.default
        live_tiers = None if new else observed.enabled_tiers
        fields: dict[str, FieldChange] = {}
        if want.default is not None and want.default != live_default:
            fields["default"] = FieldChange(live_default, want.default)
        if want.enabled_tiers is not None and (new or not same_tiers(live_tiers, _shown(want.enabled_tiers))):
            fields["enabled_tiers"] = FieldChange(_shown(live_tiers), _shown(want.enabled_tiers))
        if not fields:
            return []
        narrowed = "enabled_tiers" in fields and not new  # a new project has no traffic to interrupt
        dropped = sorted(_tiers(live_tiers) - _tiers(want.enabled_tiers)) if narrowed else []
        disrupts = []
        if dropped:
            disrupts.append(f"requests asking for {', '.join(dropped)} will be refused")
        if narrowed and live_tiers == "all" and want.enabled_tiers != "all":
            disrupts.append("tiers OpenAI adds later will not be enabled")
        if "default" in fields and not new:
            disrupts.append(f"requests without service_tier move from {live_default} to {want.default}")
        return [
            Change(
                action="update",
                kind=self.name,
                project=project.name,
                fields=fields,
                reason="set on the new project" if new else "service tiers differ",
                order=self.order,
                disrupts="; ".join(disrupts) or None,
            )
        ]

    async def apply(self, api: AdminApi, change: Change, project_id: str) -> None:
        fields = change.fields
        await api.service_tiers.update(
            project_id,
            default=fields["default"].after if "default" in fields else None,
            enabled_tiers=fields["enabled_tiers"].after if "enabled_tiers" in fields else None,
        )
