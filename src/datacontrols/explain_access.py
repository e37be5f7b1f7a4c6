"""The access part of `reconcile explain`: who can reach a project's data, and which keys can.

For one project: its users, groups (with their members) and service accounts with their roles, the
workloads that act as those accounts without a key (federation rules, read once for the organization), and
its API keys with their findings (age, idleness, an owner without access, user-owned keys), checked
against the project's `keys:` rules from the desired state when it has some. Without rules only keys whose
owner lost access are flagged: that one needs no policy to be worth saying. Keys are shown by redacted
value and id only. A group's members cost one listing per group of the project, here only.

Read-only. Each list is read on its own, so a list the admin key may not read shows as unreadable and
the rest is still shown.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from datacontrols.adminapi import AdminApi
from datacontrols.adminapi.api_keys import ProjectApiKey
from datacontrols.adminapi.groups import GroupUser
from datacontrols.desired.members import KeyHygiene
from datacontrols.errors import ApiError
from datacontrols.explain_federation import FederationListing
from datacontrols.kinds.api_keys import key_findings
from datacontrols.kinds.project_groups import role_ids

__all__ = ["AccessExplanation", "explain_access"]

T = TypeVar("T")


@dataclass
class AccessExplanation:
    """`lines`: (label, text) pairs, in the order `reconcile explain` prints them."""

    lines: list[tuple[str, str]] = field(default_factory=list)
    keys: list[ProjectApiKey] | None = None  # as read (None: unreadable), for the policy's keys rule


async def explain_access(
    api: AdminApi,
    project_id: str,
    rules: KeyHygiene | None,
    *,
    federation: FederationListing | None = None,
    clock: Callable[[], float] = time.time,
) -> AccessExplanation:
    users, groups, accounts, keys = await asyncio.gather(
        _read(lambda: api.project_users.list(project_id)),
        _read(lambda: _groups(api, project_id)),
        _read(lambda: api.service_accounts.list(project_id)),
        _read(lambda: api.project_api_keys.list(project_id, owner_project_access="any")),
    )
    explained = AccessExplanation()
    explained.lines.append(
        ("users", _listing(users, lambda us: [f"{u.email or u.id} ({u.role})" for u in sorted(us, key=_email)]))
    )
    explained.lines.append(("groups", _listing(groups, lambda gs: gs)))
    explained.lines.append(
        ("service accounts", _listing(accounts, lambda accts: [f"{a.name} ({a.role})" for a in accts]))
    )
    if federation is not None:  # keyless: workloads acting as those accounts (explain_federation.py)
        names = {a.id: a.name for a in accounts} if not isinstance(accounts, str) else {}
        explained.lines.append(("keyless access", federation.describe(project_id, names)))
    if isinstance(keys, str):
        explained.lines.append(("api keys", keys))
        return explained
    explained.keys = list(keys)
    findings = key_findings(keys, rules, int(clock()))
    by_users = sum(1 for k in keys if not k.owner.is_service_account)
    summary = f"{len(keys)} ({by_users} owned by users, {len(keys) - by_users} by service accounts)"
    checked = "checked against keys: in the desired state" if rules is not None else "no keys: rules in the file"
    explained.lines.append(("api keys", f"{summary}; {len(findings)} with findings ({checked})"))
    explained.lines += [("key finding", f"{f.label}: {'; '.join(f.problems)}") for f in findings]
    return explained


async def _groups(api: AdminApi, project_id: str) -> list[str]:
    """Each group with its role and its members: a group's reach is its people's, so explain names them
    (one members listing per group of the project; plans never read them for a project)."""
    grants, roles = await asyncio.gather(api.project_groups.list(project_id), api.project_roles.list(project_id))
    ids = role_ids(roles)
    held, members = await asyncio.gather(
        asyncio.gather(*(api.project_groups.roles(project_id, g.group_id) for g in grants)),
        asyncio.gather(*(_read(_members_of(api, g.group_id)) for g in grants)),
    )
    return [
        f"{g.group_name or g.group_id} ({ids.role_of(r.id for r in assigned) or 'no role'}; {_members(people)})"
        for g, assigned, people in zip(grants, held, members, strict=True)
    ]


def _members_of(api: AdminApi, group_id: str) -> Callable[[], Awaitable[list[GroupUser]]]:
    return lambda: api.groups.members(group_id)


def _members(people: list[GroupUser] | str) -> str:
    if isinstance(people, str):
        return f"members {people}"
    if not people:
        return "no members"
    return "members " + ", ".join(sorted((u.email or u.id for u in people), key=str.casefold))


async def _read(read: Callable[[], Awaitable[T]]) -> T | str:
    try:
        return await read()
    except ApiError as exc:
        return f"(unreadable: {exc.message})"


def _listing(value: T | str, describe: Callable[[T], list[str]]) -> str:
    if isinstance(value, str):
        return value
    items = describe(value)
    return ", ".join(items) if items else "none"


def _email(user: object) -> str:
    return str(getattr(user, "email", None) or getattr(user, "id", ""))
