"""People: organization users (`/organization/users`), project users and invites.

- Organization users cannot be created through the API; they arrive by invite (or SCIM). The list is read
  whole (style A pagination); the reconciler resolves emails to user ids through it.
- Project users are added by `user_id` with a role (`owner` or `member`, a free string in the spec); the
  user must already belong to the organization. There is no email lookup on this endpoint's GET.
- Invites are created with an organization role (`reader` or `owner`) and a list of projects; `projects: []`
  means "no project" (leaving it out would put the invitee into the default project). `create_once` checks
  for a pending invite of the email before and after the POST, so two runs racing send one (`one_writer`).

A remove of something already gone answers 404; the families turn that into "done" (the caller wanted it
gone, and it is), so a person who left the organization out of band does not fail a run.
"""

from __future__ import annotations

import builtins
from typing import Any

from pydantic import Field

from datacontrols.adminapi.base import ApiModel, Family, parse
from datacontrols.adminapi.one_writer import Claim, create_once, oldest
from datacontrols.adminapi.transport import route
from datacontrols.errors import BadRequest, NotFound

__all__ = ["Invite", "Invites", "OrganizationUser", "OrganizationUsers", "ProjectUser", "ProjectUsers"]

USERS_PATH = "/organization/users"
USER_PATH = "/organization/users/{user_id}"
PROJECT_USERS_PATH = "/organization/projects/{project_id}/users"
PROJECT_USER_PATH = "/organization/projects/{project_id}/users/{user_id}"
INVITES_PATH = "/organization/invites"
INVITE_PATH = "/organization/invites/{invite_id}"


class OrganizationUser(ApiModel):
    object: str = "organization.user"
    id: str
    name: str | None = None
    email: str | None = None
    role: str | None = None
    added_at: int = 0
    is_scim_managed: bool | None = None


class ProjectUser(ApiModel):
    object: str = "organization.project.user"
    id: str
    name: str | None = None
    email: str | None = None
    role: str
    added_at: int = 0


class InviteProject(ApiModel):
    id: str
    role: str


class Invite(ApiModel):
    object: str = "organization.invite"
    id: str
    email: str
    role: str | None = None
    status: str | None = None
    created_at: int = 0
    expires_at: int | None = None
    accepted_at: int | None = None
    projects: list[InviteProject] = Field(default_factory=list)  # required by the schema, absent from examples


class OrganizationUsers(Family):
    async def list(self) -> list[OrganizationUser]:
        """Every user of the organization (one paginated read)."""
        where = route(USERS_PATH)
        return [parse(OrganizationUser, u, where) async for u in self._t.paginate(where)]

    async def retrieve(self, user_id: str) -> OrganizationUser | None:
        """The user, or None when they are no longer in the organization."""
        return await self._get_or_none(OrganizationUser, route(USER_PATH, user_id=user_id))

    async def modify(self, user_id: str, role: str) -> OrganizationUser:
        """Give the user an organization role (`owner` or `reader`); only `role` is sent, so the other
        fields of `UserRoleUpdateRequest` (a custom role id, profile metadata) stay as they are."""

        async def recheck() -> OrganizationUser | None:
            found = await self.retrieve(user_id)
            return found if found is not None and found.role == role else None

        where = route(USER_PATH, user_id=user_id)
        return parse(OrganizationUser, await self._t.write("POST", where, body={"role": role}, recheck=recheck), where)

    async def remove(self, user_id: str) -> bool:
        """Remove the user from the organization; False when they had left already (converged)."""
        return await self._delete(route(USER_PATH, user_id=user_id), lambda: self.retrieve(user_id))


class ProjectUsers(Family):
    async def list(self, project_id: str) -> list[ProjectUser]:
        where = route(PROJECT_USERS_PATH, project_id=project_id)
        return [parse(ProjectUser, u, where) async for u in self._t.paginate(where)]

    async def retrieve(self, project_id: str, user_id: str) -> ProjectUser | None:
        """The membership, or None when the user is not in the project."""
        return await self._get_or_none(ProjectUser, route(PROJECT_USER_PATH, project_id=project_id, user_id=user_id))

    async def add(self, project_id: str, user_id: str, role: str) -> ProjectUser:
        async def recheck() -> ProjectUser | None:
            found = await self.retrieve(project_id, user_id)
            return found if found is not None and found.role == role else None

        where = route(PROJECT_USERS_PATH, project_id=project_id)
        data = await self._t.write("POST", where, body={"user_id": user_id, "role": role}, recheck=recheck)
        return parse(ProjectUser, data, where)

    async def modify(self, project_id: str, user_id: str, role: str) -> ProjectUser:
        async def recheck() -> ProjectUser | None:
            found = await self.retrieve(project_id, user_id)
            return found if found is not None and found.role == role else None

        where = route(PROJECT_USER_PATH, project_id=project_id, user_id=user_id)
        data = await self._t.write("POST", where, body={"role": role}, recheck=recheck)
        return parse(ProjectUser, data, where)

    async def remove(self, project_id: str, user_id: str) -> bool:
        """Remove the user from the project; False when they were no longer in it (already converged)."""
        where = route(PROJECT_USER_PATH, project_id=project_id, user_id=user_id)
        return await self._delete(where, lambda: self.retrieve(project_id, user_id))


class Invites(Family):
    async def list(self) -> list[Invite]:
        where = route(INVITES_PATH)
        return [parse(Invite, i, where) async for i in self._t.paginate(where)]

    async def create(
        self, email: str, *, role: str = "reader", projects: builtins.list[dict[str, str]] | None = None
    ) -> Invite:
        """Invite `email`; `projects` defaults to none at all (not the legacy default project)."""
        body: dict[str, Any] = {"email": email, "role": role, "projects": list(projects or [])}

        async def recheck() -> Invite | None:
            pending = await self.pending(email)
            return pending[0] if pending else None

        where = route(INVITES_PATH)
        return parse(Invite, await self._t.write("POST", where, body=body, recheck=recheck), where)

    async def pending(self, email: str) -> builtins.list[Invite]:
        """The pending invites of `email` (compared without case, as the API matches addresses)."""
        return [i for i in await self.list() if i.email.casefold() == email.casefold() and i.status == "pending"]

    async def create_once(
        self, email: str, *, role: str = "reader", projects: builtins.list[dict[str, str]] | None = None
    ) -> Claim[Invite]:
        """Invite `email` unless an invite of it is pending; of racing duplicates the oldest is kept and this
        run deletes its own (the invitee gets one invite to accept). See `one_writer`. An API that refuses a
        second pending invite itself (400 `already_exists`) lost the race for us: the rival's invite is used."""

        async def discard(invite: Invite) -> None:
            await self.delete(invite.id)

        try:
            return await create_once(
                find=lambda: self.pending(email),
                create=lambda: self.create(email, role=role, projects=projects),
                discard=discard,
                settle=self._t.pause,
                keep=oldest,
            )
        except BadRequest as exc:
            rivals = await self.pending(email) if exc.code == "already_exists" else []
            if not rivals:
                raise
            return Claim(kept=oldest(rivals), created=None)

    async def delete(self, invite_id: str) -> bool:
        try:
            await self._t.write("DELETE", route(INVITE_PATH, invite_id=invite_id))
        except NotFound:
            return False
        return True
