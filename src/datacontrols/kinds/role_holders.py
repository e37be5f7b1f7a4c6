"""What the role-assignment kinds observe: a scope's roles and the direct roles of the principals a file
names (or, for `reconcile export`, of every principal there).

A principal is looked up where it has to be: an organization assignment names organization users (by email)
and groups (by name), a project assignment names the project's members, so the project's own user and group
lists resolve them (one request each) instead of the organization's directory, whose reads come before any
observation. Only the principals the file lists have their roles read: one request each.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from datacontrols.adminapi.groups import ProjectRole
from datacontrols.adminapi.roles import HeldRole, PrincipalType
from datacontrols.desired.roles import RoleAssignments

if TYPE_CHECKING:
    from datacontrols.adminapi import AdminApi

__all__ = ["Holder", "ObservedHolders", "read_holders"]


@dataclass(frozen=True)
class Holder:
    """One principal as observed: its id (None when not found), why not, and the roles it holds directly."""

    kind: PrincipalType
    key: str  # the email or group name, as the file (or export) names it
    principal_id: str | None = None
    problem: str | None = None
    held: tuple[HeldRole, ...] = ()


@dataclass(frozen=True)
class ObservedHolders:
    roles: tuple[ProjectRole, ...] = ()
    holders: tuple[Holder, ...] = ()

    def holder(self, kind: PrincipalType, key: str) -> Holder | None:
        folded = key.casefold() if kind == "user" else key
        for holder in self.holders:
            if holder.kind == kind and (holder.key.casefold() if kind == "user" else holder.key) == folded:
                return holder
        return None


async def _principals(
    api: AdminApi, project_id: str | None, kind: PrincipalType, pins: Mapping[str, str]
) -> list[tuple[str, str]]:
    """(email or name, id) of every user or group of the scope; unnamed ones are left out. A group that
    organization.groups pins goes by its declared name whatever it is called live (renamed by hand, it is
    still that group), and a name a pin claims means only the pinned group (`directory.groups_meant`)."""
    if kind == "user":
        users = await (api.organization_users.list() if project_id is None else api.project_users.list(project_id))
        return [(u.email, u.id) for u in users if u.email]
    if project_id is None:
        found = [(g.name, g.id) for g in await api.groups.list()]
    else:
        found = [(g.group_name, g.group_id) for g in await api.project_groups.list(project_id) if g.group_name]
    declared = {group_id: name for name, group_id in pins.items()}
    return [(declared.get(gid, name), gid) for name, gid in found if gid in declared or name not in pins]


async def _holder(api: AdminApi, project_id: str | None, kind: PrincipalType, key: str, ids: list[str]) -> Holder:
    where = "the organization" if project_id is None else "the project"
    if not ids:
        noun = "user with this email" if kind == "user" else "group of this name"
        return Holder(kind, key, problem=f"no {noun} in {where}")
    if len(ids) > 1:
        return Holder(kind, key, problem=f"{len(ids)} {kind}s have this name ({', '.join(sorted(ids))})")
    held = await api.role_assignments.held(kind, ids[0], project_id)
    if held is None:
        return Holder(kind, key, ids[0], problem=f"the {kind} is gone from {where}")
    return Holder(kind, key, ids[0], held=tuple(r for r in held if r.direct))


async def read_holders(
    api: AdminApi, project_id: str | None, wanted: RoleAssignments | None, pins: Mapping[str, str] | None = None
) -> ObservedHolders:
    """The scope's roles and the holders `wanted` lists; `wanted` None: every principal (export). `pins`:
    organization.groups' (declared name -> group id), so that groups are named as the files name them."""
    kinds: list[tuple[PrincipalType, Mapping[str, object] | None]] = [
        ("user", wanted.users if wanted is not None else None),
        ("group", wanted.groups if wanted is not None else None),
    ]
    roles = await api.roles.list(project_id)
    holders: list[Holder] = []
    for kind, listed in kinds:
        if wanted is not None and listed is None:
            continue  # the list is not managed: not read
        found = await _principals(api, project_id, kind, pins or {})
        keys: Iterable[str] = listed.keys() if listed is not None else dict.fromkeys(k for k, _ in found)
        by_key: dict[str, list[str]] = {}
        for name, principal_id in found:
            by_key.setdefault(name.casefold() if kind == "user" else name, []).append(principal_id)
        holders += await asyncio.gather(
            *(
                _holder(api, project_id, kind, key, by_key.get(key.casefold() if kind == "user" else key, []))
                for key in keys
            )
        )
    return ObservedHolders(roles=tuple(roles), holders=tuple(holders))
