"""A project's hosted tools (web search, file search, code interpreter, MCP, image generation).

Only the tools named in the desired state are managed; the update sends only those that differ.
Enabling a tool, or finding one enabled that should not be, is critical: hosted tools move data to
OpenAI-hosted containers or third parties, and code interpreter cannot be used under zero data retention.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from datacontrols.kinds.base import NOT_CREATED, DesiredProject, ProjectKind, World
from datacontrols.plan import Change, FieldChange

if TYPE_CHECKING:
    from datacontrols.adminapi import AdminApi
    from datacontrols.adminapi.projects import Project

__all__ = ["ProjectHostedTools"]


class ProjectHostedTools(ProjectKind):
    name = "project_hosted_tools"
    group = "hosted_tools"
    order = 12
    audit_event_types = ()
    exports = True

    def manages(self, project: DesiredProject) -> bool:
        return bool(project.settings.hosted_tools)

    async def observe(self, api: AdminApi, project: Project) -> dict[str, bool]:
        return (await api.hosted_tools.get(project.id)).enabled()

    def export(self, observed: Any) -> dict[str, Any] | None:
        if not isinstance(observed, Mapping):
            return None
        return {"hosted_tools": {tool: bool(enabled) for tool, enabled in sorted(observed.items())}}

    def compare(self, project: DesiredProject, observed: Any, world: World) -> list[Change]:
        want = project.settings.hosted_tools or {}
        live: dict[str, bool] = {} if observed is NOT_CREATED else observed
        fields: dict[str, FieldChange] = {
            tool: FieldChange(live.get(tool), enabled)
            for tool, enabled in sorted(want.items())
            if live.get(tool) != enabled
        }
        if not fields:
            return []
        enabling = sorted(t for t, fc in fields.items() if fc.after)
        # A tool turned off that is on live: requests that use it will be refused (a new project has none).
        disabling = sorted(t for t, fc in fields.items() if fc.before and not fc.after)
        disabling = [] if observed is NOT_CREATED else disabling
        reason = (
            "set on the new project"
            if observed is NOT_CREATED
            else f"enables {', '.join(enabling)}"
            if enabling
            else "disables tools that are enabled live"
        )
        return [
            Change(
                action="update",
                kind=self.name,
                project=project.name,
                fields=fields,
                reason=reason,
                order=12,
                weakens=f"enables hosted tools: {', '.join(enabling)}" if enabling else None,
                disrupts=f"requests that use {', '.join(disabling)} will be refused" if disabling else None,
                exposes=f"{', '.join(disabling)} enabled live, disabled in the files" if disabling else None,
            )
        ]

    async def apply(self, api: AdminApi, change: Change, project_id: str) -> None:
        await api.hosted_tools.update(project_id, {tool: fc.after for tool, fc in change.fields.items()})
