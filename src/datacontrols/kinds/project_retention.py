"""A project's data retention: its own setting, or `organization_default` to inherit the organization's."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from datacontrols.kinds.base import NOT_CREATED, DesiredProject, ProjectKind, World
from datacontrols.kinds.organization_retention import OrganizationDataRetention, export_retention
from datacontrols.kinds.protection import effective_retention, retention_weakening
from datacontrols.plan import Change, FieldChange

if TYPE_CHECKING:
    from datacontrols.adminapi import AdminApi
    from datacontrols.adminapi.projects import Project

__all__ = ["ProjectDataRetention"]


class ProjectDataRetention(ProjectKind):
    name = "project_data_retention"
    group = "data_retention"
    order = 10
    audit_event_types = ()
    exports = True

    def manages(self, project: DesiredProject) -> bool:
        return project.settings.data_retention is not None

    async def observe(self, api: AdminApi, project: Project) -> str:
        return (await api.retention.get_project(project.id)).type

    def export(self, observed: Any) -> dict[str, Any] | None:
        return export_retention(observed)

    def compare(self, project: DesiredProject, observed: Any, world: World) -> list[Change]:
        want = project.settings.data_retention
        if want is None or observed == want:
            return []
        org = world.organization.get(OrganizationDataRetention.name)
        org_type = org if isinstance(org, str) else None
        before = None if observed is NOT_CREATED else observed
        effective_before = effective_retention(before or "organization_default", org_type)
        effective_after = effective_retention(want, org_type)
        weakens = retention_weakening(effective_before, effective_after)
        return [
            Change(
                action="update",
                kind=self.name,
                project=project.name,
                fields={"type": FieldChange(before, want)},
                reason="set on the new project" if observed is NOT_CREATED else "project data retention differs",
                order=10,
                weakens=weakens,
                exposes=None if observed is NOT_CREATED else retention_weakening(effective_after, effective_before),
            )
        ]

    async def apply(self, api: AdminApi, change: Change, project_id: str) -> None:
        await api.retention.update_project(project_id, change.fields["type"].after)
