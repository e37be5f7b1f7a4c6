"""Roles (organization and project) and the role assignments of users and groups.

- Roles: list (style B, `limit` 0..1000 default 1000, `order` asc|desc by creation), create
  (`role_name`, `permissions`, optional `description`), retrieve, update (each field optional: a field left
  out or null stays as it is; `permissions` replaces the set) and delete. A project's list starts with its
  three built-in roles; the organization has custom roles only (the spec documents no built-in
  organization role ids). The built-in roles cannot be changed or deleted (400): they are not records
  here, and REFERENCE.md section 12 expects as much. Permission names are not checked: the spec lists none.
- Deleting a role also takes it from everyone who held it (a group's project grant keeps its other roles).
- Assignments: `POST {role_id}` to `/organization/users/{user_id}/roles`, `/organization/groups/{group_id}/roles`
  and `/projects/{project_id}/users/{user_id}/roles`; the role must be one of that scope (organization
  roles; or the project's built-in and custom roles), else 400. Assigning a role already held answers the
  same assignment again. A principal that is not there (an unknown user or group; a user who is not a member
  of the project) answers 404, as does a role it does not hold. A project user's `role` (owner|member, the
  project-users endpoints) is kept apart from these assignments: the spec does not say how one shows in the
  other. Removing the user from the project drops their project assignments.
  (A group's roles in a project live on its grant: routes/groups.py.)

Audit events, with the spec's payloads: `role.created`, `role.updated`, `role.deleted`,
`role.assignment.created` and `role.assignment.deleted`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from datacontrols.emulator.errors import ApiFailure
from datacontrols.emulator.paging import in_order, page_b
from datacontrols.emulator.routes.members import user_object
from datacontrols.emulator.routes.role_catalog import (
    PROJECT_ROLES,
    assigned_role,
    group_object,
    known_role,
    project_role_ids,
    role_object,
)
from datacontrols.emulator.routing import ApiRoute, Call
from datacontrols.emulator.state import RoleAssignmentRecord, RoleRecord

__all__ = ["ROUTES"]

ORG_ROLES = "/organization/roles"
ORG_ROLE = "/organization/roles/{role_id}"
PROJECT_ROLES_PATH = "/projects/{project_id}/roles"
PROJECT_ROLE = "/projects/{project_id}/roles/{role_id}"
USER_ROLES = "/organization/users/{user_id}/roles"
USER_ROLE = "/organization/users/{user_id}/roles/{role_id}"
GROUP_ROLES = "/organization/groups/{group_id}/roles"
GROUP_ROLE = "/organization/groups/{group_id}/roles/{role_id}"
PROJECT_USER_ROLES = "/projects/{project_id}/users/{user_id}/roles"
PROJECT_USER_ROLE = "/projects/{project_id}/users/{user_id}/roles/{role_id}"


class _CreateBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    role_name: str
    permissions: list[str]
    description: str | None = None


class _UpdateBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    role_name: str | None = None
    permissions: list[str] | None = None
    description: str | None = None


class _AssignBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    role_id: str


# --- roles -------------------------------------------------------------------------------------------------


def _scope(call: Call, *, write: bool = False) -> str | None:
    """The project the path names (checked), or None for the organization's roles."""
    if "project_id" not in call.params:
        return None
    return (call.writable_project() if write else call.project()).id


def _role_ids(call: Call, project_id: str | None) -> list[str]:
    if project_id is not None:
        return project_role_ids(call.state, project_id)
    return [r.id for r in call.state.roles.values() if r.project_id is None]


def _role_id(call: Call, project_id: str | None) -> str:
    role_id = call.params["role_id"]
    if role_id not in _role_ids(call, project_id):
        where = f" in project '{project_id}'" if project_id is not None else ""
        raise ApiFailure.not_found(f"No role with id '{role_id}'{where}.", param="role_id")
    return role_id


def _custom(call: Call, project_id: str | None) -> RoleRecord:
    role_id = _role_id(call, project_id)
    if role_id in PROJECT_ROLES:
        raise ApiFailure.bad_request(
            f"Role '{role_id}' is predefined and cannot be changed.", param="role_id", code="predefined_role"
        )
    return call.state.roles[role_id]


def _resource(project_id: str | None) -> dict[str, str]:
    """Where a role or an assignment applies, as the audit payloads name it (the organization has no id here)."""
    if project_id is None:
        return {"resource_type": "api.organization"}
    return {"resource_type": "api.project", "resource_id": project_id}


def list_roles(call: Call) -> dict[str, Any]:
    project_id = _scope(call)
    ids = in_order(call, _role_ids(call, project_id), default="asc")
    return page_b(call, ids, lambda r: role_object(call.state, r), lambda r: r, default=1000)


def create_role(call: Call) -> dict[str, Any]:
    project_id = _scope(call, write=True)
    body = call.body(_CreateBody)
    role = RoleRecord(
        id=call.ids.unused("role_", call.state.roles),
        name=body.role_name,
        permissions=list(dict.fromkeys(body.permissions)),
        description=body.description,
        project_id=project_id,
        created_at=call.now,
        updated_at=call.now,
    )
    call.state.roles[role.id] = role
    details = {"id": role.id, "role_name": role.name, "permissions": list(role.permissions)}
    call.record_event("role.created", project_id=project_id, details={**details, **_resource(project_id)})
    return role_object(call.state, role.id)


def retrieve_role(call: Call) -> dict[str, Any]:
    return role_object(call.state, _role_id(call, _scope(call)))


def update_role(call: Call) -> dict[str, Any]:
    project_id = _scope(call, write=True)
    role = _custom(call, project_id)
    body = call.body(_UpdateBody)
    changes: dict[str, Any] = {}
    if body.role_name is not None:
        role.name = changes["role_name"] = body.role_name
    if body.permissions is not None:
        wanted = list(dict.fromkeys(body.permissions))
        changes["permissions_added"] = [p for p in wanted if p not in role.permissions]
        changes["permissions_removed"] = [p for p in role.permissions if p not in wanted]
        role.permissions = wanted
    if body.description is not None:
        role.description = body.description
    role.updated_at = call.now
    details = {"id": role.id, "changes_requested": {**changes, **_resource(project_id)}}
    call.record_event("role.updated", project_id=project_id, details=details)
    return role_object(call.state, role.id)


def delete_role(call: Call) -> dict[str, Any]:
    project_id = _scope(call, write=True)
    role = _custom(call, project_id)
    del call.state.roles[role.id]
    call.state.role_assignments = [a for a in call.state.role_assignments if a.role_id != role.id]
    for project in call.state.projects.values():
        for grant in project.groups.values():
            if role.id in grant.role_ids:
                grant.role_ids.remove(role.id)
    call.record_event("role.deleted", project_id=project_id, details={"id": role.id})
    return {"object": "role.deleted", "id": role.id, "deleted": True}


# --- assignments -------------------------------------------------------------------------------------------


def _principal(call: Call) -> tuple[str, str, str | None]:
    """(principal type, principal id, project id or None) of the path, each checked to exist there."""
    if "group_id" in call.params:
        return "group", call.lookup(call.state.groups, "group_id", "group").id, None
    user = call.lookup(call.state.users, "user_id", "user")
    if "project_id" not in call.params:
        return "user", user.id, None
    project = call.project()
    if user.id not in project.users:
        raise ApiFailure.not_found(f"No user with id '{user.id}' in project '{project.id}'.", param="user_id")
    return "user", user.id, project.id


def _held(call: Call, kind: str, principal: str, project_id: str | None) -> list[str]:
    return [
        a.role_id
        for a in call.state.role_assignments
        if (a.principal_type, a.principal_id, a.project_id) == (kind, principal, project_id)
    ]


def _assignment_event(call: Call, type: str, kind: str, principal: str, project_id: str | None) -> None:
    details = {"id": call.ids.resource("role_assignment_", 16), "principal_id": principal, "principal_type": kind}
    call.record_event(type, project_id=project_id, details={**details, **_resource(project_id)})


def list_assignments(call: Call) -> dict[str, Any]:
    kind, principal, project_id = _principal(call)
    held = in_order(call, _held(call, kind, principal, project_id), default="asc")
    return page_b(call, held, lambda r: assigned_role(call.state, r), lambda r: r, default=1000)


def assign(call: Call) -> dict[str, Any]:
    kind, principal, project_id = _principal(call)
    if project_id is not None:
        call.writable_project()
    role_id = known_role(call.state, call.body(_AssignBody).role_id, "role_id", project_id=project_id)
    if role_id not in _held(call, kind, principal, project_id):
        call.state.role_assignments.append(RoleAssignmentRecord(role_id, kind, principal, project_id))
        _assignment_event(call, "role.assignment.created", kind, principal, project_id)
    if kind == "group":
        return {
            "object": "group.role",
            "group": group_object(call.state.groups[principal]),
            "role": role_object(call.state, role_id),
        }
    return {
        "object": "user.role",
        "user": user_object(call.state.users[principal]),
        "role": role_object(call.state, role_id),
    }


def _held_role(call: Call) -> tuple[str, str, str | None, str]:
    kind, principal, project_id = _principal(call)
    role_id = call.params["role_id"]
    if role_id not in _held(call, kind, principal, project_id):
        raise ApiFailure.not_found(f"The {kind} '{principal}' does not hold role '{role_id}' here.", param="role_id")
    return kind, principal, project_id, role_id


def retrieve_assignment(call: Call) -> dict[str, Any]:
    return assigned_role(call.state, _held_role(call)[3])


def unassign(call: Call) -> dict[str, Any]:
    kind, principal, project_id, role_id = _held_role(call)
    if project_id is not None:
        call.writable_project()
    call.state.role_assignments.remove(RoleAssignmentRecord(role_id, kind, principal, project_id))
    _assignment_event(call, "role.assignment.deleted", kind, principal, project_id)
    return {"object": f"{kind}.role.deleted", "deleted": True}


ROUTES = (
    ApiRoute("GET", ORG_ROLES, list_roles),
    ApiRoute("POST", ORG_ROLES, create_role),
    ApiRoute("GET", ORG_ROLE, retrieve_role),
    ApiRoute("POST", ORG_ROLE, update_role),
    ApiRoute("DELETE", ORG_ROLE, delete_role),
    ApiRoute("GET", PROJECT_ROLES_PATH, list_roles),
    ApiRoute("POST", PROJECT_ROLES_PATH, create_role),
    ApiRoute("GET", PROJECT_ROLE, retrieve_role),
    ApiRoute("POST", PROJECT_ROLE, update_role),
    ApiRoute("DELETE", PROJECT_ROLE, delete_role),
    *(
        route
        for one, many in ((USER_ROLE, USER_ROLES), (GROUP_ROLE, GROUP_ROLES), (PROJECT_USER_ROLE, PROJECT_USER_ROLES))
        for route in (
            ApiRoute("GET", many, list_assignments),
            ApiRoute("POST", many, assign),
            ApiRoute("GET", one, retrieve_assignment),
            ApiRoute("DELETE", one, unassign),
        )
    ),
)
