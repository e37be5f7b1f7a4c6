"""Groups: the organization's groups, a project's groups, a project's roles and a group's project roles.

- `GET /organization/groups` (style B pagination) answers `GroupResponse` objects, which carry no `object`
  field and call the SCIM flag `is_scim_managed` (a `Group` inside a role assignment calls it
  `scim_managed`).
- A project group is granted with a role **id** (`role-api-project-member`, or a custom role's id) and
  has no update endpoint. Its roles are read and changed through the role-assignment endpoints under
  `/projects/{project_id}/groups/{group_id}/roles` (note: `/projects`, not `/organization/projects`).
- Built-in project role ids documented by the official Terraform provider: `role-api-project-owner`,
  `role-api-project-member`, `role-api-project-viewer` (`BUILTIN_PROJECT_ROLES`).
"""

from __future__ import annotations

import builtins
from typing import Final

from pydantic import Field

from datacontrols.adminapi.base import ApiModel, Family, parse
from datacontrols.adminapi.one_writer import Claim, create_once, oldest
from datacontrols.adminapi.transport import route

__all__ = [
    "BUILTIN_PROJECT_ROLES",
    "AssignedRole",
    "GroupUser",
    "OrganizationGroup",
    "OrganizationGroups",
    "ProjectGroup",
    "ProjectGroups",
    "ProjectRole",
    "ProjectRoles",
]

BUILTIN_PROJECT_ROLES: Final = {
    "owner": "role-api-project-owner",
    "member": "role-api-project-member",
    "viewer": "role-api-project-viewer",
}

GROUPS_PATH = "/organization/groups"
GROUP_PATH = "/organization/groups/{group_id}"
GROUP_USERS_PATH = "/organization/groups/{group_id}/users"
GROUP_USER_PATH = "/organization/groups/{group_id}/users/{user_id}"
PROJECT_GROUPS_PATH = "/organization/projects/{project_id}/groups"
PROJECT_GROUP_PATH = "/organization/projects/{project_id}/groups/{group_id}"
PROJECT_ROLES_PATH = "/projects/{project_id}/roles"
GROUP_ROLES_PATH = "/projects/{project_id}/groups/{group_id}/roles"
GROUP_ROLE_PATH = "/projects/{project_id}/groups/{group_id}/roles/{role_id}"


class OrganizationGroup(ApiModel):
    id: str
    name: str
    created_at: int = 0
    is_scim_managed: bool | None = None
    group_type: str | None = None


class GroupUser(ApiModel):
    """A member of an organization group (the spec's `GroupUser`)."""

    id: str
    name: str | None = None
    email: str | None = None


class ProjectGroup(ApiModel):
    object: str = "project.group"
    project_id: str | None = None
    group_id: str
    group_name: str | None = None
    group_type: str | None = None  # required by the schema, missing from the list example
    created_at: int = 0


class ProjectRole(ApiModel):
    object: str = "role"
    id: str
    name: str
    description: str | None = None
    permissions: list[str] = Field(default_factory=list)
    resource_type: str | None = None
    predefined_role: bool = False


class AssignedRole(ApiModel):
    """A role assigned to a principal (no `object` field); `assignment_sources` tells inherited ones apart."""

    id: str
    name: str | None = None
    predefined_role: bool | None = None
    resource_type: str | None = None


class OrganizationGroups(Family):
    async def list(self) -> list[OrganizationGroup]:
        where = route(GROUPS_PATH)
        return [parse(OrganizationGroup, g, where) async for g in self._t.paginate(where)]

    async def named(self, name: str) -> builtins.list[OrganizationGroup]:
        return [g for g in await self.list() if g.name == name]

    async def create(self, name: str) -> OrganizationGroup:
        """POST a group; a lost answer is not resent blindly (a second group of the name is a duplicate)."""

        async def recheck() -> OrganizationGroup | None:
            found = await self.named(name)
            return oldest(found) if found else None

        where = route(GROUPS_PATH)
        return parse(OrganizationGroup, await self._t.write("POST", where, body={"name": name}, recheck=recheck), where)

    async def create_once(self, name: str) -> Claim[OrganizationGroup]:
        """Create the group unless one of the name exists; of racing duplicates the oldest is kept and this
        run deletes its own (group names have no uniqueness in the API; see `one_writer`)."""

        async def discard(group: OrganizationGroup) -> None:
            await self.delete(group.id)

        return await create_once(
            find=lambda: self.named(name),
            create=lambda: self.create(name),
            discard=discard,
            settle=self._t.pause,
            keep=oldest,
        )

    async def retrieve(self, group_id: str) -> OrganizationGroup | None:
        return await self._get_or_none(OrganizationGroup, route(GROUP_PATH, group_id=group_id))

    async def rename(self, group_id: str, name: str) -> None:
        """Give the group this name (the same request again changes nothing)."""

        async def recheck() -> bool | None:
            group = await self.retrieve(group_id)
            return True if group is not None and group.name == name else None

        await self._t.write("POST", route(GROUP_PATH, group_id=group_id), body={"name": name}, recheck=recheck)

    async def delete(self, group_id: str) -> bool:
        """Delete the group (its project grants go with it); False when it was gone already."""
        return await self._delete(route(GROUP_PATH, group_id=group_id), lambda: self.retrieve(group_id))

    async def members(self, group_id: str) -> builtins.list[GroupUser]:
        """The group's users (one paginated read)."""
        where = route(GROUP_USERS_PATH, group_id=group_id)
        return [parse(GroupUser, u, where) async for u in self._t.paginate(where)]

    async def _member(self, group_id: str, user_id: str) -> GroupUser | None:
        return await self._get_or_none(GroupUser, route(GROUP_USER_PATH, group_id=group_id, user_id=user_id))

    async def add_member(self, group_id: str, user_id: str) -> None:
        async def recheck() -> GroupUser | None:
            return await self._member(group_id, user_id)

        where = route(GROUP_USERS_PATH, group_id=group_id)
        await self._t.write("POST", where, body={"user_id": user_id}, recheck=recheck)

    async def remove_member(self, group_id: str, user_id: str) -> bool:
        """Take the user out of the group; False when they were not in it any more (converged)."""
        where = route(GROUP_USER_PATH, group_id=group_id, user_id=user_id)
        return await self._delete(where, lambda: self._member(group_id, user_id))


class ProjectRoles(Family):
    async def list(self, project_id: str) -> list[ProjectRole]:
        where = route(PROJECT_ROLES_PATH, project_id=project_id)
        return [parse(ProjectRole, r, where) async for r in self._t.paginate(where)]


class ProjectGroups(Family):
    async def list(self, project_id: str) -> list[ProjectGroup]:
        where = route(PROJECT_GROUPS_PATH, project_id=project_id)
        return [parse(ProjectGroup, g, where) async for g in self._t.paginate(where)]

    async def roles(self, project_id: str, group_id: str) -> builtins.list[AssignedRole]:
        """The roles the group holds in the project."""
        where = route(GROUP_ROLES_PATH, project_id=project_id, group_id=group_id)
        return [parse(AssignedRole, r, where) async for r in self._t.paginate(where)]

    async def _granted(self, project_id: str, group_id: str) -> ProjectGroup | None:
        return next((g for g in await self.list(project_id) if g.group_id == group_id), None)

    async def add(self, project_id: str, group_id: str, role_id: str) -> ProjectGroup:
        """Grant the group access to the project with a role id."""

        async def recheck() -> ProjectGroup | None:
            return await self._granted(project_id, group_id)

        where = route(PROJECT_GROUPS_PATH, project_id=project_id)
        data = await self._t.write("POST", where, body={"group_id": group_id, "role": role_id}, recheck=recheck)
        return parse(ProjectGroup, data, where)

    async def remove(self, project_id: str, group_id: str) -> bool:
        """Revoke the group's access; False when it had none any more (already converged)."""
        where = route(PROJECT_GROUP_PATH, project_id=project_id, group_id=group_id)
        return await self._delete(where, lambda: self._granted(project_id, group_id))

    async def assign_role(self, project_id: str, group_id: str, role_id: str) -> None:
        async def recheck() -> bool | None:
            return True if any(r.id == role_id for r in await self.roles(project_id, group_id)) else None

        await self._t.write(
            "POST",
            route(GROUP_ROLES_PATH, project_id=project_id, group_id=group_id),
            body={"role_id": role_id},
            recheck=recheck,
        )

    async def unassign_role(self, project_id: str, group_id: str, role_id: str) -> bool:
        """Take a role away; False when the group did not hold it (already converged)."""
        where = route(GROUP_ROLE_PATH, project_id=project_id, group_id=group_id, role_id=role_id)
        return await self._delete(where, lambda: self._held_role(project_id, group_id, role_id))

    async def _held_role(self, project_id: str, group_id: str, role_id: str) -> AssignedRole | None:
        return next((r for r in await self.roles(project_id, group_id) if r.id == role_id), None)
