"""Custom roles and role assignments (RBAC), of the organization and of a project (REFERENCE.md section 12).

- Roles: `/organization/roles` and `/projects/{project_id}/roles` (note: `/projects`, not
  `/organization/projects`): list (style B), create (`role_name`, `permissions`, `description`), update
  (each field optional; `permissions` replaces the set), delete. A `Role` carries no `created_at`, and a
  list is in creation order (`order=asc`, the default), so a create settles duplicates with `first_listed`.
- Assignments: `GET`/`POST {role_id}` on `.../users/{user_id}/roles` and `.../groups/{group_id}/roles`, in
  either scope, and `DELETE .../roles/{role_id}`. A list holds `AssignedRoleDetails`, whose
  `assignment_sources` names where an inherited role comes from: only direct ones are reconciled. A
  principal that is not there (a user who is not a member of the project, a group without access to it)
  answers 404, read here as None.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any, Final, Literal

from datacontrols.adminapi.base import ApiModel, Family, parse
from datacontrols.adminapi.groups import ProjectRole
from datacontrols.adminapi.one_writer import Claim, create_once, first_listed
from datacontrols.adminapi.transport import Route, route
from datacontrols.errors import NotFound

__all__ = ["HeldRole", "PrincipalType", "RoleAssignments", "Roles"]

PrincipalType = Literal["user", "group"]

ORG_ROLES = "/organization/roles"
ORG_ROLE = "/organization/roles/{role_id}"
PROJECT_ROLES = "/projects/{project_id}/roles"
PROJECT_ROLE = "/projects/{project_id}/roles/{role_id}"
# The spec's own templates (each is its own endpoint for the rate budget and the metrics).
_HELD: Final = {
    ("user", False): "/organization/users/{user_id}/roles",
    ("group", False): "/organization/groups/{group_id}/roles",
    ("user", True): "/projects/{project_id}/users/{user_id}/roles",
    ("group", True): "/projects/{project_id}/groups/{group_id}/roles",
}


class HeldRole(ApiModel):
    """A role a principal holds (the spec's `AssignedRoleDetails`, which has no `object` field)."""

    id: str
    name: str | None = None
    predefined_role: bool | None = None
    assignment_sources: list[dict[str, Any]] | None = None

    @property
    def direct(self) -> bool:
        """Not inherited through a group (inherited ones are left to their source)."""
        return not self.assignment_sources


def _roles_route(project_id: str | None, role_id: str | None = None) -> Route:
    if role_id is None:
        return route(ORG_ROLES) if project_id is None else route(PROJECT_ROLES, project_id=project_id)
    if project_id is None:
        return route(ORG_ROLE, role_id=role_id)
    return route(PROJECT_ROLE, project_id=project_id, role_id=role_id)


class Roles(Family):
    async def list(self, project_id: str | None = None) -> list[ProjectRole]:
        """The roles of the organization (None) or of one project (its built-in roles too)."""
        where = _roles_route(project_id)
        return [parse(ProjectRole, r, where) async for r in self._t.paginate(where, params={"order": "asc"})]

    async def create_once(
        self, name: str, permissions: Sequence[str], description: str | None, project_id: str | None = None
    ) -> Claim[ProjectRole]:
        """Create unless a custom role of this name exists (see `one_writer`: roles have no natural id)."""
        where = _roles_route(project_id)

        async def namesakes() -> builtins.list[ProjectRole]:
            return [r for r in await self.list(project_id) if r.name == name and not r.predefined_role]

        async def create() -> ProjectRole:
            body = {"role_name": name, "permissions": list(permissions), "description": description}
            return parse(ProjectRole, await self._t.write("POST", where, body=body), where)

        async def discard(role: ProjectRole) -> None:
            await self.delete(role.id, project_id)

        return await create_once(
            find=namesakes, create=create, discard=discard, settle=self._t.pause, keep=first_listed
        )

    async def update(
        self, role_id: str, permissions: Sequence[str], description: str | None, project_id: str | None = None
    ) -> None:
        """Replace the permissions (and the description, when given); sending it twice changes nothing."""
        body: dict[str, Any] = {"permissions": list(permissions)}
        if description is not None:
            body["description"] = description

        async def resend() -> None:
            return None  # an update is idempotent: after an unknown outcome, sending it again is the re-check

        await self._t.write("POST", _roles_route(project_id, role_id), body=body, recheck=resend)

    async def delete(self, role_id: str, project_id: str | None = None) -> bool:
        """Delete a custom role (the API takes it from everyone who held it); False when it was gone."""

        async def find() -> ProjectRole | None:
            return next((r for r in await self.list(project_id) if r.id == role_id), None)

        return await self._delete(_roles_route(project_id, role_id), find)


class RoleAssignments(Family):
    def _where(
        self, kind: PrincipalType, principal_id: str, project_id: str | None, role_id: str | None = None
    ) -> Route:
        template = _HELD[(kind, project_id is not None)]
        params = {f"{kind}_id": principal_id}
        if project_id is not None:
            params["project_id"] = project_id
        if role_id is not None:
            template, params["role_id"] = template + "/{role_id}", role_id
        return route(template, **params)

    async def held(
        self, kind: PrincipalType, principal_id: str, project_id: str | None = None
    ) -> builtins.list[HeldRole] | None:
        """The roles the principal holds there; None when it is not there (404)."""
        where = self._where(kind, principal_id, project_id)
        try:
            return [parse(HeldRole, r, where) async for r in self._t.paginate(where)]
        except NotFound:
            return None

    async def assign(self, kind: PrincipalType, principal_id: str, role_id: str, project_id: str | None = None) -> None:
        async def recheck() -> bool | None:
            held = await self.held(kind, principal_id, project_id) or []
            return True if any(r.id == role_id for r in held) else None

        where = self._where(kind, principal_id, project_id)
        await self._t.write("POST", where, body={"role_id": role_id}, recheck=recheck)

    async def unassign(
        self, kind: PrincipalType, principal_id: str, role_id: str, project_id: str | None = None
    ) -> bool:
        """Take a role away; False when the principal did not hold it any more (already converged)."""
        where = self._where(kind, principal_id, project_id, role_id)

        async def find() -> HeldRole | None:
            return next((r for r in await self.held(kind, principal_id, project_id) or [] if r.id == role_id), None)

        return await self._delete(where, find)
