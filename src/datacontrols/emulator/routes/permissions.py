"""Project model permissions (allow/deny list) and hosted tool permissions.

- Model permissions: GET on a project without a policy answers 404 (as the official Terraform provider
  expects); POST replaces the policy whole (`mode` and `model_ids` required, ids kept in the order sent);
  DELETE removes it and answers `{"object": "project.model_permissions.deleted", "deleted": true}`, or 404
  when there was none.
- Hosted tools: every answer lists all five tools and has no `object` field. POST is partial: each tool is
  optional, `{"enabled": bool}` sets it, null or absent leaves it unchanged.
- Writes to an archived project are refused with 400.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from datacontrols.adminapi.permissions import HOSTED_TOOLS, HostedToolPermissions, ModelPermissions, ToolPermission
from datacontrols.emulator.errors import ApiFailure
from datacontrols.emulator.routing import ApiRoute, Call
from datacontrols.emulator.state import ModelPolicy

__all__ = ["ROUTES"]

MODELS = "/organization/projects/{project_id}/model_permissions"
TOOLS = "/organization/projects/{project_id}/hosted_tool_permissions"


class _ModelBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    mode: Literal["allow_list", "deny_list"]
    model_ids: list[str]


class _ToolUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    enabled: bool


class _ToolsBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    file_search: _ToolUpdate | None = None
    web_search: _ToolUpdate | None = None
    image_generation: _ToolUpdate | None = None
    mcp: _ToolUpdate | None = None
    code_interpreter: _ToolUpdate | None = None


def _policy_object(policy: ModelPolicy) -> dict[str, Any]:
    return ModelPermissions(mode=policy.mode, model_ids=list(policy.model_ids)).model_dump(mode="json")


def get_models(call: Call) -> dict[str, Any]:
    project = call.project()
    if project.model_permissions is None:
        raise ApiFailure.not_found(f"Project '{project.id}' has no model permissions.", param="project_id")
    return _policy_object(project.model_permissions)


def update_models(call: Call) -> dict[str, Any]:
    project = call.writable_project()
    body = call.body(_ModelBody)
    project.model_permissions = ModelPolicy(mode=body.mode, model_ids=list(body.model_ids))
    return _policy_object(project.model_permissions)


def delete_models(call: Call) -> dict[str, Any]:
    project = call.writable_project()
    if project.model_permissions is None:
        raise ApiFailure.not_found(f"Project '{project.id}' has no model permissions.", param="project_id")
    project.model_permissions = None
    return {"object": "project.model_permissions.deleted", "deleted": True}


def _tools_object(tools: dict[str, bool]) -> dict[str, Any]:
    return HostedToolPermissions.model_validate(
        {tool: ToolPermission(enabled=tools[tool]) for tool in HOSTED_TOOLS}
    ).model_dump(mode="json")


def get_tools(call: Call) -> dict[str, Any]:
    return _tools_object(call.project().hosted_tools)


def update_tools(call: Call) -> dict[str, Any]:
    project = call.writable_project()
    body = call.body(_ToolsBody)
    for tool in HOSTED_TOOLS:
        update: _ToolUpdate | None = getattr(body, tool)
        if update is not None:
            project.hosted_tools[tool] = update.enabled
    return _tools_object(project.hosted_tools)


ROUTES = (
    ApiRoute("GET", MODELS, get_models),
    ApiRoute("POST", MODELS, update_models),
    ApiRoute("DELETE", MODELS, delete_models),
    ApiRoute("GET", TOOLS, get_tools),
    ApiRoute("POST", TOOLS, update_tools),
)
