"""Organization users, project users and invites.

- `GET /organization/users` lists the organization's users in the order they were added (style A); the
  `emails` filter keeps the users with one of the given addresses.
  Users cannot be created through the API; they come from the seed (or an invite someone accepted).
- Modify takes `role` (`owner` or `reader`, as the spec describes it; else 400), `role_id` (an organization
  role, assigned to the user as `POST .../roles` would), `technical_level` and `developer_persona` (kept and
  shown); null or left out changes nothing. Delete removes the user from the organization and from every
  project, group and role assignment; keys they own stay, `inactive` (as when they leave a project). The
  spec's `user.*` events are the project-user ones, so neither records an event.
- Project users: add by `user_id` (or `email`) with role `owner` or `member`; the user must be in the
  organization (else 400) and not already in the project (else 400). Modify takes `role`; remove answers
  `organization.project.user.deleted`. A user not in the project answers 404 on retrieve, modify and remove.
  Lists and writes on an archived project answer 400, as the spec documents for this family.
- Removing a user from a project leaves their API keys in place; the key list then shows them as
  `owner_project_access: inactive` (routes/api_keys.py derives it).
- Invites: create takes `email`, `role` (`reader` or `owner`) and `projects` ([{id, role}]); an address
  already in the organization, or with a pending invite, answers 400. An accepted invite cannot be deleted
  (400). Invites expire after seven days on the emulator clock (shown as `expires_at`; the status is as
  seeded or `pending`).

Audit events: `user.added/updated/deleted` (project users) and `invite.sent`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from datacontrols.emulator.errors import ApiFailure
from datacontrols.emulator.paging import page_a
from datacontrols.emulator.routes.role_catalog import known_role
from datacontrols.emulator.routing import ApiRoute, Call
from datacontrols.emulator.state import InviteRecord, MemberRecord, ProjectRecord, RoleAssignmentRecord, UserRecord

__all__ = ["ROUTES", "user_object"]

USERS = "/organization/users"
USER = "/organization/users/{user_id}"
PROJECT_USERS = "/organization/projects/{project_id}/users"
PROJECT_USER = "/organization/projects/{project_id}/users/{user_id}"
INVITES = "/organization/invites"
INVITE = "/organization/invites/{invite_id}"
INVITE_LIFETIME = 7 * 86_400


class _AddBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    user_id: str | None = None
    email: str | None = None
    role: str


class _ModifyBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    role: str | None = None


class _UserUpdateBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    role: str | None = None
    role_id: str | None = None
    technical_level: str | None = None
    developer_persona: str | None = None


class _InviteProject(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    id: str
    role: Literal["member", "owner"]


class _InviteBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    email: str
    role: Literal["reader", "owner"]
    projects: list[_InviteProject] | None = None


def user_object(user: UserRecord) -> dict[str, Any]:
    """The spec's `User`."""
    shown = {
        "object": "organization.user",
        "id": user.id,
        "name": user.name,
        "email": user.email,
        "role": user.role,
        "added_at": user.added_at,
    }
    for name in ("technical_level", "developer_persona"):  # only once set, so older answers stay as they were
        if getattr(user, name) is not None:
            shown[name] = getattr(user, name)
    if user.scim_managed:  # an optional field of `User`, shown when true (older answers stay as they were)
        shown["is_scim_managed"] = True
    return shown


def _project_user_object(user: UserRecord, membership: MemberRecord) -> dict[str, Any]:
    return {
        "object": "organization.project.user",
        "id": user.id,
        "name": user.name,
        "email": user.email,
        "role": membership.role,
        "added_at": membership.added_at,
    }


def _invite_object(invite: InviteRecord) -> dict[str, Any]:
    return {
        "object": "organization.invite",
        "id": invite.id,
        "email": invite.email,
        "role": invite.role,
        "status": invite.status,
        "created_at": invite.created_at,
        "expires_at": invite.expires_at,
        "accepted_at": invite.accepted_at,
        "projects": [dict(p) for p in invite.projects],
    }


def _check_role(role: str | None) -> str:
    if role not in ("owner", "member"):
        raise ApiFailure.bad_request(
            "Invalid value for 'role': must be 'owner' or 'member'.", param="role", code="invalid_value"
        )
    return role


def _member(call: Call, project: ProjectRecord) -> tuple[UserRecord, MemberRecord]:
    user_id = call.params["user_id"]
    membership = project.users.get(user_id)
    user = call.state.users.get(user_id)
    if membership is None or user is None:
        raise ApiFailure.not_found(f"No user with id '{user_id}' in project '{project.id}'.", param="user_id")
    return user, membership


# --- organization users -----------------------------------------------------------------------------


def list_users(call: Call) -> dict[str, Any]:
    users = list(call.state.users.values())
    # The spec names the filter `emails` (repeated: `emails=a&emails=b`); openai-python sends every array as
    # `name[]=...`, so that spelling is taken too. Addresses match without regard to case.
    wanted = {email.casefold() for email in (*call.list_query("emails"), *call.list_query("emails[]"))}
    if wanted:
        users = [user for user in users if user.email.casefold() in wanted]
    return page_a(call, users, user_object, lambda u: u.id)


def retrieve_user(call: Call) -> dict[str, Any]:
    return user_object(call.lookup(call.state.users, "user_id", "user"))


def modify_user(call: Call) -> dict[str, Any]:
    user = call.lookup(call.state.users, "user_id", "user")
    body = call.body(_UserUpdateBody)
    if body.role is not None and body.role not in ("owner", "reader"):
        raise ApiFailure.bad_request(
            "Invalid value for 'role': must be 'owner' or 'reader'.", param="role", code="invalid_value"
        )
    role_id = known_role(call.state, body.role_id, "role_id", project_id=None) if body.role_id is not None else None
    if body.role is not None:
        user.role = body.role
    if role_id is not None and (assignment := RoleAssignmentRecord(role_id, "user", user.id)) not in (
        call.state.role_assignments
    ):
        call.state.role_assignments.append(assignment)
    if body.technical_level is not None:
        user.technical_level = body.technical_level
    if body.developer_persona is not None:
        user.developer_persona = body.developer_persona
    return user_object(user)


def delete_user(call: Call) -> dict[str, Any]:
    user = call.lookup(call.state.users, "user_id", "user")
    del call.state.users[user.id]
    for project in call.state.projects.values():
        project.users.pop(user.id, None)
    for group in call.state.groups.values():
        if user.id in group.user_ids:
            group.user_ids.remove(user.id)
    call.state.role_assignments = [
        a for a in call.state.role_assignments if (a.principal_type, a.principal_id) != ("user", user.id)
    ]
    return {"object": "organization.user.deleted", "id": user.id, "deleted": True}


# --- project users ------------------------------------------------------------------------------------


def _members(project: ProjectRecord, call: Call) -> list[tuple[UserRecord, MemberRecord]]:
    return [(call.state.users[uid], m) for uid, m in project.users.items() if uid in call.state.users]


def list_project_users(call: Call) -> dict[str, Any]:
    project = call.readable_project()
    return page_a(call, _members(project, call), lambda pair: _project_user_object(*pair), lambda pair: pair[0].id)


def add_project_user(call: Call) -> dict[str, Any]:
    project = call.writable_project()
    body = call.body(_AddBody)
    role = _check_role(body.role)
    if body.user_id is not None:
        user = call.state.users.get(body.user_id)
    elif body.email is not None:
        user = next((u for u in call.state.users.values() if u.email.casefold() == body.email.casefold()), None)
    else:
        raise ApiFailure.bad_request(
            "Either 'user_id' or 'email' is required.", param="user_id", code="missing_required_parameter"
        )
    if user is None:
        raise ApiFailure.bad_request("No such user in the organization.", param="user_id", code="user_not_found")
    if user.id in project.users:
        raise ApiFailure.bad_request(
            "The user is already a member of this project.", param="user_id", code="already_exists"
        )
    membership = MemberRecord(role=role, added_at=call.now)
    project.users[user.id] = membership
    call.record_event("user.added", project_id=project.id, details={"id": user.id, "data": {"role": role}})
    return _project_user_object(user, membership)


def retrieve_project_user(call: Call) -> dict[str, Any]:
    return _project_user_object(*_member(call, call.project()))


def modify_project_user(call: Call) -> dict[str, Any]:
    project = call.writable_project()
    user, membership = _member(call, project)
    body = call.body(_ModifyBody)
    if body.role is not None:
        membership.role = _check_role(body.role)
        call.record_event(
            "user.updated", project_id=project.id, details={"id": user.id, "changes_requested": {"role": body.role}}
        )
    return _project_user_object(user, membership)


def remove_project_user(call: Call) -> dict[str, Any]:
    project = call.writable_project()
    user, _ = _member(call, project)
    del project.users[user.id]
    call.state.drop_role_assignments("user", user.id, project.id)  # no longer a member, no roles there
    call.record_event("user.deleted", project_id=project.id, details={"id": user.id})
    return {"object": "organization.project.user.deleted", "id": user.id, "deleted": True}


# --- invites --------------------------------------------------------------------------------------------


def list_invites(call: Call) -> dict[str, Any]:
    return page_a(call, list(call.state.invites.values()), _invite_object, lambda i: i.id)


def create_invite(call: Call) -> dict[str, Any]:
    body = call.body(_InviteBody)
    email = body.email.strip()
    if "@" not in email:
        raise ApiFailure.bad_request("Invalid value for 'email'.", param="email", code="invalid_value")
    folded = email.casefold()
    if any(u.email.casefold() == folded for u in call.state.users.values()):
        raise ApiFailure.bad_request(
            "This user is already a member of the organization.", param="email", code="already_exists"
        )
    if any(i.email.casefold() == folded and i.status == "pending" for i in call.state.invites.values()):
        raise ApiFailure.bad_request("This email already has a pending invite.", param="email", code="already_exists")
    for entry in body.projects or ():
        if entry.id not in call.state.projects:
            raise ApiFailure.bad_request(
                f"No project found with id '{entry.id}'.", param="projects", code="invalid_value"
            )
    invite = InviteRecord(
        id=call.ids.unused("invite-", call.state.invites),
        email=email,
        role=body.role,
        created_at=call.now,
        expires_at=call.now + INVITE_LIFETIME,
        projects=[{"id": p.id, "role": p.role} for p in body.projects or ()],
    )
    call.state.invites[invite.id] = invite
    call.record_event(
        "invite.sent", project_id=None, details={"id": invite.id, "data": {"email": email, "role": body.role}}
    )
    return _invite_object(invite)


def retrieve_invite(call: Call) -> dict[str, Any]:
    return _invite_object(_invite(call))


def delete_invite(call: Call) -> dict[str, Any]:
    invite = _invite(call)
    if invite.status == "accepted":
        raise ApiFailure.bad_request("An accepted invite cannot be deleted.", param="invite_id", code="invite_accepted")
    del call.state.invites[invite.id]
    call.record_event("invite.deleted", project_id=None, details={"id": invite.id})
    return {"object": "organization.invite.deleted", "id": invite.id, "deleted": True}


def _invite(call: Call) -> InviteRecord:
    return call.lookup(call.state.invites, "invite_id", "invite")


ROUTES = (
    ApiRoute("GET", USERS, list_users),
    ApiRoute("GET", USER, retrieve_user),
    ApiRoute("POST", USER, modify_user),
    ApiRoute("DELETE", USER, delete_user),
    ApiRoute("GET", PROJECT_USERS, list_project_users),
    ApiRoute("POST", PROJECT_USERS, add_project_user),
    ApiRoute("GET", PROJECT_USER, retrieve_project_user),
    ApiRoute("POST", PROJECT_USER, modify_project_user),
    ApiRoute("DELETE", PROJECT_USER, remove_project_user),
    ApiRoute("GET", INVITES, list_invites),
    ApiRoute("POST", INVITES, create_invite),
    ApiRoute("GET", INVITE, retrieve_invite),
    ApiRoute("DELETE", INVITE, delete_invite),
)
