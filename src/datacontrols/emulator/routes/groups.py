"""Groups: the organization's groups, project groups and a group's roles in a project.

- `GET /organization/groups` answers `GroupResponse` objects (no `object` field; `is_scim_managed`), style B.
  Groups come from the seed or `POST /organization/groups` (routes/group_members.py, with their members).
- Every list here takes the spec's `order` (`asc`, the default, or `desc`): groups by creation, project
  groups by grant, a group's roles by assignment. Another value is a 400.
- A project's roles (built-in and custom) are served by routes/roles.py; `role_catalog.py` renders them.
- A project group is granted with `{group_id, role: <role id>}` (a built-in role or one of the project's
  custom roles); an unknown group or role id answers 400, a
  group that already has access 400. The grant's object carries no role; the group's roles are listed,
  assigned and unassigned under `/projects/{project_id}/groups/{group_id}/roles`. Revoking the group
  (`DELETE .../groups/{group_id}`) removes all of them. A group without access answers 404 there, and on
  the single reads of the grant and of one of its roles. `group_type=tenant_group` finds nothing (there
  are no tenant groups here).

Audit events: `role.assignment.created/deleted` for grants, revokes, assignments and unassignments.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from datacontrols.emulator.errors import ApiFailure
from datacontrols.emulator.paging import in_order, page_b
from datacontrols.emulator.routes.role_catalog import (
    PROJECT_ROLES,
    assigned_role,
    group_object,
    known_role,
    role_id_for,
    role_object,
)
from datacontrols.emulator.routing import ApiRoute, Call
from datacontrols.emulator.state import GroupGrantRecord, GroupRecord, ProjectRecord

__all__ = ["GROUPS", "PROJECT_ROLES", "ROUTES", "group_response", "role_id_for"]

GROUPS = "/organization/groups"
PROJECT_GROUPS = "/organization/projects/{project_id}/groups"
PROJECT_GROUP = "/organization/projects/{project_id}/groups/{group_id}"
GROUP_ROLES = "/projects/{project_id}/groups/{group_id}/roles"
GROUP_ROLE = "/projects/{project_id}/groups/{group_id}/roles/{role_id}"


class _GrantBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    group_id: str
    role: str


class _AssignBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    role_id: str


def group_response(group: GroupRecord) -> dict[str, Any]:
    return {
        "id": group.id,
        "name": group.name,
        "created_at": group.created_at,
        "is_scim_managed": group.scim_managed,
        "group_type": "group",
    }


def _project_group(project: ProjectRecord, group: GroupRecord, grant: GroupGrantRecord) -> dict[str, Any]:
    return {
        "object": "project.group",
        "project_id": project.id,
        "group_id": group.id,
        "group_name": group.name,
        "group_type": "group",
        "created_at": grant.created_at,
    }


def _known_role(call: Call, project: ProjectRecord, role_id: str, param: str) -> str:
    return known_role(call.state, role_id, param, project_id=project.id)


def _granted(call: Call, project: ProjectRecord) -> tuple[GroupRecord, GroupGrantRecord]:
    group_id = call.params["group_id"]
    grant = project.groups.get(group_id)
    group = call.state.groups.get(group_id)
    if grant is None or group is None:
        raise ApiFailure.not_found(f"Group '{group_id}' has no access to project '{project.id}'.", param="group_id")
    return group, grant


def _assignment_event(call: Call, type: str, project: ProjectRecord, group_id: str) -> None:
    call.record_event(
        type,
        project_id=project.id,
        details={
            "id": call.ids.resource("role_assignment_", 16),
            "principal_id": group_id,
            "principal_type": "group",
            "resource_id": project.id,
            "resource_type": "api.project",
        },
    )


# --- handlers --------------------------------------------------------------------------------------------


def list_groups(call: Call) -> dict[str, Any]:
    return page_b(call, in_order(call, list(call.state.groups.values()), default="asc"), group_response, lambda g: g.id)


def list_project_groups(call: Call) -> dict[str, Any]:
    project = call.project()
    pairs = [(call.state.groups[gid], grant) for gid, grant in project.groups.items() if gid in call.state.groups]
    pairs = in_order(call, pairs, default="asc")
    return page_b(
        call, pairs, lambda pair: _project_group(project, *pair), lambda pair: pair[0].id, default=20, maximum=100
    )


def add_project_group(call: Call) -> dict[str, Any]:
    project = call.writable_project()
    body = call.body(_GrantBody)
    group = call.state.groups.get(body.group_id)
    if group is None:
        raise ApiFailure.bad_request(f"No group with id '{body.group_id}'.", param="group_id", code="invalid_value")
    role_id = _known_role(call, project, body.role, "role")
    if group.id in project.groups:
        raise ApiFailure.bad_request(
            "The group already has access to this project.", param="group_id", code="already_exists"
        )
    grant = GroupGrantRecord(role_ids=[role_id], created_at=call.now)
    project.groups[group.id] = grant
    _assignment_event(call, "role.assignment.created", project, group.id)
    return _project_group(project, group, grant)


def retrieve_project_group(call: Call) -> dict[str, Any]:
    project = call.project()
    group_type = call.query.get("group_type", "group")
    if group_type not in ("group", "tenant_group"):
        raise ApiFailure.bad_request(
            "Invalid 'group_type': must be 'group' or 'tenant_group'.", param="group_type", code="invalid_value"
        )
    if group_type == "tenant_group":  # the emulator has no tenant groups
        raise ApiFailure.not_found(f"No tenant group with id '{call.params['group_id']}'.", param="group_id")
    return _project_group(project, *_granted(call, project))


def remove_project_group(call: Call) -> dict[str, Any]:
    project = call.writable_project()
    group, _ = _granted(call, project)
    del project.groups[group.id]
    _assignment_event(call, "role.assignment.deleted", project, group.id)
    return {"object": "project.group.deleted", "deleted": True}


def list_group_roles(call: Call) -> dict[str, Any]:
    project = call.project()
    _, grant = _granted(call, project)
    # The spec gives this list's `order` no default; ascending (assignment order) is the others' default.
    return page_b(
        call,
        in_order(call, grant.role_ids, default="asc"),
        lambda r: assigned_role(call.state, r),
        lambda r: r,
        default=1000,
    )


def retrieve_group_role(call: Call) -> dict[str, Any]:
    project = call.project()
    group, grant = _granted(call, project)
    role_id = call.params["role_id"]
    if role_id not in grant.role_ids:
        raise ApiFailure.not_found(f"Group '{group.id}' does not hold role '{role_id}' here.", param="role_id")
    return assigned_role(call.state, role_id)


def assign_group_role(call: Call) -> dict[str, Any]:
    project = call.writable_project()
    group, grant = _granted(call, project)
    role_id = _known_role(call, project, call.body(_AssignBody).role_id, "role_id")
    if role_id not in grant.role_ids:
        grant.role_ids.append(role_id)
        _assignment_event(call, "role.assignment.created", project, group.id)
    return {"object": "group.role", "group": group_object(group), "role": role_object(call.state, role_id)}


def unassign_group_role(call: Call) -> dict[str, Any]:
    project = call.writable_project()
    group, grant = _granted(call, project)
    role_id = call.params["role_id"]
    if role_id not in grant.role_ids:
        raise ApiFailure.not_found(f"Group '{group.id}' does not hold role '{role_id}' here.", param="role_id")
    grant.role_ids.remove(role_id)
    _assignment_event(call, "role.assignment.deleted", project, group.id)
    return {"object": "group.role.deleted", "deleted": True}


ROUTES = (
    ApiRoute("GET", GROUPS, list_groups),
    ApiRoute("GET", PROJECT_GROUPS, list_project_groups),
    ApiRoute("POST", PROJECT_GROUPS, add_project_group),
    ApiRoute("GET", PROJECT_GROUP, retrieve_project_group),
    ApiRoute("DELETE", PROJECT_GROUP, remove_project_group),
    ApiRoute("GET", GROUP_ROLES, list_group_roles),
    ApiRoute("POST", GROUP_ROLES, assign_group_role),
    ApiRoute("GET", GROUP_ROLE, retrieve_group_role),
    ApiRoute("DELETE", GROUP_ROLE, unassign_group_role),
)
