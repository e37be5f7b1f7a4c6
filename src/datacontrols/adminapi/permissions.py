"""Project model permissions (allow/deny lists) and hosted tool permissions.

A project without a model policy answers 404 on GET; that is a value ("absent", i.e. unrestricted), not an
error. Model permissions are replaced whole; hosted tools are updated partially, one tool at a time.
"""

from __future__ import annotations

from typing import Literal

from datacontrols.adminapi.base import ApiModel, Family, parse
from datacontrols.adminapi.transport import route

__all__ = [
    "HOSTED_TOOLS",
    "HostedToolPermissions",
    "HostedToolPermissionsApi",
    "ModelPermissions",
    "ModelPermissionsApi",
    "ToolPermission",
]

HostedTool = Literal["file_search", "web_search", "image_generation", "mcp", "code_interpreter"]
HOSTED_TOOLS: tuple[str, ...] = HostedTool.__args__  # type: ignore[attr-defined]

MODEL_PATH = "/organization/projects/{project_id}/model_permissions"
TOOLS_PATH = "/organization/projects/{project_id}/hosted_tool_permissions"


class ModelPermissions(ApiModel):
    object: str = "project.model_permissions"
    mode: str
    model_ids: list[str]


class ToolPermission(ApiModel):
    enabled: bool


class HostedToolPermissions(ApiModel):
    file_search: ToolPermission
    web_search: ToolPermission
    image_generation: ToolPermission
    mcp: ToolPermission
    code_interpreter: ToolPermission

    def enabled(self) -> dict[str, bool]:
        """Tool name -> enabled, for every tool the API reported."""
        return {tool: getattr(self, tool).enabled for tool in HOSTED_TOOLS}


class ModelPermissionsApi(Family):
    async def get(self, project_id: str) -> ModelPermissions | None:
        """The project's policy, or None when it has none (no restriction)."""
        return await self._get_or_none(ModelPermissions, route(MODEL_PATH, project_id=project_id))

    async def update(self, project_id: str, *, mode: str, model_ids: list[str]) -> ModelPermissions:
        async def recheck() -> ModelPermissions | None:
            observed = await self.get(project_id)
            same = observed is not None and observed.mode == mode and set(observed.model_ids) == set(model_ids)
            return observed if same else None

        where = route(MODEL_PATH, project_id=project_id)
        data = await self._t.write("POST", where, body={"mode": mode, "model_ids": list(model_ids)}, recheck=recheck)
        return parse(ModelPermissions, data, where)

    async def delete(self, project_id: str) -> None:
        """Remove the policy. Already absent counts as done."""
        await self._delete(route(MODEL_PATH, project_id=project_id), lambda: self.get(project_id))


class HostedToolPermissionsApi(Family):
    async def get(self, project_id: str) -> HostedToolPermissions:
        where = route(TOOLS_PATH, project_id=project_id)
        return parse(HostedToolPermissions, await self._t.get(where), where)

    async def update(self, project_id: str, tools: dict[str, bool]) -> HostedToolPermissions:
        """Set only the tools named; the others are left as they are."""
        unknown = set(tools) - set(HOSTED_TOOLS)
        if unknown:
            raise ValueError(f"unknown hosted tools {sorted(unknown)}")

        async def recheck() -> HostedToolPermissions | None:
            observed = await self.get(project_id)
            done = all(observed.enabled()[t] == v for t, v in tools.items())
            return observed if done else None

        where = route(TOOLS_PATH, project_id=project_id)
        data = await self._t.write(
            "POST",
            where,
            body={tool: {"enabled": enabled} for tool, enabled in tools.items()},
            recheck=recheck,
        )
        return parse(HostedToolPermissions, data, where)
