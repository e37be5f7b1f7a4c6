"""The organization's groups themselves and their members: create, retrieve, rename, delete; add, list,
retrieve and remove a member.

- Create takes `name` (1..255 characters, the spec's bounds); names need not be unique, as the spec does not
  say they must. A created group is not SCIM-managed. Rename answers `GroupResourceWithSuccess` (no
  `group_type`). Deleting a group also revokes its access to every project, as a grant to nothing cannot
  stand (its organization roles go too). Audit events: `group.created`, `group.updated`, `group.deleted`.
- Members: `POST .../users {user_id}` adds an organization user (an unknown one answers 400); adding a member
  again answers the same assignment and changes nothing (the spec states no refusal). The list is style B,
  `limit` 0..1000 (default 100), `order` by when the member was added, newest first by default (the
  spec's `desc`). A user who is not a member answers 404 on retrieve and remove. The spec has no audit event
  type for membership, so none is recorded.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from datacontrols.emulator.errors import ApiFailure
from datacontrols.emulator.paging import in_order, page_b
from datacontrols.emulator.routes.groups import GROUPS, group_response
from datacontrols.emulator.routing import ApiRoute, Call
from datacontrols.emulator.state import GroupRecord, UserRecord

__all__ = ["ROUTES"]

GROUP = "/organization/groups/{group_id}"
MEMBERS = "/organization/groups/{group_id}/users"
MEMBER = "/organization/groups/{group_id}/users/{user_id}"


class _NameBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    name: str = Field(min_length=1, max_length=255)


class _MemberBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    user_id: str


def _group(call: Call) -> GroupRecord:
    return call.lookup(call.state.groups, "group_id", "group")


def _group_event(call: Call, type: str, group: GroupRecord, **details: Any) -> None:
    call.record_event(type, project_id=None, details={"id": group.id, **details})


def create_group(call: Call) -> dict[str, Any]:
    body = call.body(_NameBody)
    group = GroupRecord(id=call.ids.unused("group_", call.state.groups), name=body.name, created_at=call.now)
    call.state.groups[group.id] = group
    _group_event(call, "group.created", group, data={"group_name": group.name})
    return group_response(group)


def retrieve_group(call: Call) -> dict[str, Any]:
    return group_response(_group(call))


def update_group(call: Call) -> dict[str, Any]:
    group = _group(call)
    group.name = call.body(_NameBody).name
    _group_event(call, "group.updated", group, changes_requested={"group_name": group.name})
    return {"id": group.id, "name": group.name, "created_at": group.created_at, "is_scim_managed": group.scim_managed}


def delete_group(call: Call) -> dict[str, Any]:
    group = _group(call)
    del call.state.groups[group.id]
    for project in call.state.projects.values():
        project.groups.pop(group.id, None)
    call.state.drop_role_assignments("group", group.id)
    _group_event(call, "group.deleted", group)
    return {"object": "group.deleted", "id": group.id, "deleted": True}


# --- members ---------------------------------------------------------------------------------------------


def _group_user(user: UserRecord) -> dict[str, Any]:
    """The spec's `GroupUser` (a list item)."""
    return {"id": user.id, "name": user.name, "email": user.email}


def _member(call: Call, group: GroupRecord) -> UserRecord:
    user_id = call.params["user_id"]
    user = call.state.users.get(user_id)
    if user is None or user_id not in group.user_ids:
        raise ApiFailure.not_found(f"No user with id '{user_id}' in group '{group.id}'.", param="user_id")
    return user


def list_members(call: Call) -> dict[str, Any]:
    group = _group(call)
    members = [call.state.users[uid] for uid in group.user_ids if uid in call.state.users]
    return page_b(call, in_order(call, members, default="desc"), _group_user, lambda u: u.id)


def add_member(call: Call) -> dict[str, Any]:
    group = _group(call)
    user_id = call.body(_MemberBody).user_id
    if user_id not in call.state.users:
        raise ApiFailure.bad_request(f"No user with id '{user_id}' in the organization.", param="user_id")
    if user_id not in group.user_ids:
        group.user_ids.append(user_id)
    return {"object": "group.user", "user_id": user_id, "group_id": group.id}


def retrieve_member(call: Call) -> dict[str, Any]:
    user = _member(call, _group(call))
    return {
        "id": user.id,
        "name": user.name,
        "email": user.email,
        "picture": None,
        "is_service_account": False,
        "user_type": "user",
    }


def remove_member(call: Call) -> dict[str, Any]:
    group = _group(call)
    group.user_ids.remove(_member(call, group).id)
    return {"object": "group.user.deleted", "deleted": True}


ROUTES = (
    ApiRoute("POST", GROUPS, create_group),
    ApiRoute("GET", GROUP, retrieve_group),
    ApiRoute("POST", GROUP, update_group),
    ApiRoute("DELETE", GROUP, delete_group),
    ApiRoute("GET", MEMBERS, list_members),
    ApiRoute("POST", MEMBERS, add_member),
    ApiRoute("GET", MEMBER, retrieve_member),
    ApiRoute("DELETE", MEMBER, remove_member),
)
