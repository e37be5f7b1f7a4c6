"""The roles a request may name, and how the spec renders them: shared by groups.py and roles.py.

- Every project has the three built-in roles (`role-api-project-owner|member|viewer`, the ids the official
  Terraform provider documents); custom roles (`state.roles`) belong to the organization or to one project.
  The spec documents no built-in organization role ids, so the organization has custom roles only.
- A role is rendered as the spec's `Role` (`role_object`) in role listings and assignment answers, and as
  `AssignedRoleDetails` (no `object` field) in the lists of a principal's roles.
"""

from __future__ import annotations

from typing import Any, Final

from datacontrols.emulator.errors import ApiFailure
from datacontrols.emulator.state import EmulatorState, GroupRecord, RoleRecord

__all__ = [
    "PROJECT_ROLES",
    "assigned_role",
    "group_object",
    "known_role",
    "project_role_ids",
    "role_id_for",
    "role_object",
]

# id -> (name, description, permissions)
PROJECT_ROLES: Final[dict[str, tuple[str, str, list[str]]]] = {
    "role-api-project-owner": (
        "Owner",
        "Manages the project, its members and its keys",
        ["api.organization.projects.manage", "api.organization.projects.api_keys.write"],
    ),
    "role-api-project-member": (
        "Member",
        "Uses the project and manages their own keys",
        ["api.organization.projects.api_keys.write"],
    ),
    "role-api-project-viewer": ("Viewer", "Reads the project", ["api.organization.projects.read"]),
}


def role_id_for(role: str) -> str:
    """`owner` -> `role-api-project-owner`; an id passes through."""
    candidate = f"role-api-project-{role}"
    return candidate if candidate in PROJECT_ROLES else role


def project_role_ids(state: EmulatorState, project_id: str) -> list[str]:
    """The roles of a project: the built-in ones, then its custom ones in creation order."""
    return [*PROJECT_ROLES, *(r.id for r in state.roles.values() if r.project_id == project_id)]


def known_role(state: EmulatorState, role_id: str, param: str, *, project_id: str | None) -> str:
    """`role_id` if it is a role of that scope (a project, or the organization when None), else a 400."""
    scope = project_role_ids(state, project_id) if project_id is not None else _organization_role_ids(state)
    if role_id not in scope:
        where = f"project '{project_id}'" if project_id is not None else "the organization"
        raise ApiFailure.bad_request(f"No role with id '{role_id}' in {where}.", param=param, code="invalid_value")
    return role_id


def _organization_role_ids(state: EmulatorState) -> list[str]:
    return [r.id for r in state.roles.values() if r.project_id is None]


def _parts(state: EmulatorState, role_id: str) -> tuple[str, str | None, list[str], str, RoleRecord | None]:
    """name, description, permissions, resource type and the record (None for a built-in role)."""
    if role_id in PROJECT_ROLES:
        name, description, permissions = PROJECT_ROLES[role_id]
        return name, description, list(permissions), "api.project", None
    role = state.roles[role_id]
    return role.name, role.description, list(role.permissions), role.resource_type, role


def role_object(state: EmulatorState, role_id: str) -> dict[str, Any]:
    """The spec's `Role`."""
    name, description, permissions, resource_type, record = _parts(state, role_id)
    return {
        "object": "role",
        "id": role_id,
        "name": name,
        "description": description,
        "permissions": permissions,
        "resource_type": resource_type,
        "predefined_role": record is None,
    }


def assigned_role(state: EmulatorState, role_id: str) -> dict[str, Any]:
    """The spec's `AssignedRoleDetails`: every field required, most of them nullable."""
    name, description, permissions, resource_type, record = _parts(state, role_id)
    return {
        "id": role_id,
        "name": name,
        "permissions": permissions,
        "resource_type": resource_type,
        "predefined_role": record is None,
        "description": description,
        "created_at": record.created_at if record is not None else None,
        "updated_at": record.updated_at if record is not None else None,
        "created_by": None,
        "created_by_user_obj": None,
        "metadata": None,
        "assignment_sources": None,
    }


def group_object(group: GroupRecord) -> dict[str, Any]:
    """The spec's `Group` (inside a role assignment; `scim_managed`, not `is_scim_managed`)."""
    return {
        "object": "group",
        "id": group.id,
        "name": group.name,
        "created_at": group.created_at,
        "scim_managed": group.scim_managed,
    }
