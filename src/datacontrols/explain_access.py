"""The access part of `reconcile explain`: who can reach a project's data, and which keys can.

For one project: its users, groups (with their members) and service accounts with their roles, the
project's custom roles each of its users and groups holds (read principal by principal only when the project
has custom roles), the workloads that act as those accounts without a key (federation rules, read once for
the organization), and its API keys with their findings (age, idleness, an owner without access, user-owned
keys), checked against the project's `keys:` rules from the desired state when it has some, with what
`fix: expiry` would do to each. Without rules only keys whose owner lost access are flagged: that one needs
no policy to be worth saying. Keys are shown by redacted value and id only. A group's members cost one
listing per group of the project, here only. `explain_admin_keys` does the same for the organization's admin
keys, read in one listing and only when `organization: admin_keys:` is declared.

Read-only. Each list is read on its own, so a list the admin key may not read shows as unreadable and
the rest is still shown.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from datacontrols.adminapi import AdminApi
from datacontrols.adminapi.api_keys import ProjectApiKey
from datacontrols.adminapi.groups import GroupUser
from datacontrols.adminapi.members import ProjectUser
from datacontrols.desired.admin_keys import AdminKeyRules
from datacontrols.desired.members import KeyHygiene
from datacontrols.errors import ApiError
from datacontrols.explain_federation import FederationListing
from datacontrols.kinds.admin_keys import AdminKeyFinding, admin_key_findings
from datacontrols.kinds.api_keys import describe_fixes, key_findings
from datacontrols.kinds.custom_roles import custom_by_name
from datacontrols.kinds.key_scopes import KeyScopes, read_scopes
from datacontrols.kinds.project_groups import role_ids
from datacontrols.kinds.role_holders import read_holders

__all__ = ["AccessExplanation", "AdminKeysExplanation", "explain_access", "explain_admin_keys"]

T = TypeVar("T")


@dataclass
class AccessExplanation:
    """`lines`: (label, text) pairs, in the order `reconcile explain` prints them."""

    lines: list[tuple[str, str]] = field(default_factory=list)
    keys: list[ProjectApiKey] | None = None  # as read (None: unreadable), for the policy's keys rule
    scopes: KeyScopes | None = None  # the keys' scopes, when the file's allowed_scopes had them read
    users: tuple[ProjectUser, ...] | None = None  # as read (None: unreadable), for the policy's email rule


async def explain_access(
    api: AdminApi,
    project_id: str,
    rules: KeyHygiene | None,
    *,
    federation: FederationListing | None = None,
    clock: Callable[[], float] = time.time,
) -> AccessExplanation:
    users, groups, custom, accounts, keys = await asyncio.gather(
        _read(lambda: api.project_users.list(project_id)),
        _read(lambda: _groups(api, project_id)),
        _read(lambda: _custom_roles(api, project_id)),
        _read(lambda: api.service_accounts.list(project_id)),
        _read(lambda: api.project_api_keys.list(project_id, owner_project_access="any")),
    )
    explained = AccessExplanation(users=None if isinstance(users, str) else tuple(users))
    explained.lines.append(
        ("users", _listing(users, lambda us: [f"{u.email or u.id} ({u.role})" for u in sorted(us, key=_email)]))
    )
    explained.lines.append(("groups", _listing(groups, lambda gs: gs)))
    explained.lines.append(("custom roles", _listing(custom, lambda cs: cs)))
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
    # What the keys may do is only in the audit log: read it (one listing) only when a rule asks.
    scopes = await read_scopes(api, keys) if rules is not None and rules.allowed_scopes is not None else None
    explained.scopes = scopes
    findings = key_findings(keys, rules, int(clock()), scopes)
    by_users = sum(1 for k in keys if not k.owner.is_service_account)
    summary = f"{len(keys)} ({by_users} owned by users, {len(keys) - by_users} by service accounts)"
    checked = "checked against keys: in the desired state" if rules is not None else "no keys: rules in the file"
    explained.lines.append(("api keys", f"{summary}; {len(findings)} with findings ({checked})"))
    if scopes is not None and keys:
        explained.lines.append(("key scopes", _scope_summary(keys, scopes)))
    now = int(clock())
    for finding in findings:
        fix = describe_fixes(finding.key, rules, now, scopes)
        explained.lines.append(
            ("key finding", f"{finding.label}: {'; '.join(finding.problems)}" + (f"; {fix}" * bool(fix)))
        )
    return explained


def _scope_summary(keys: Sequence[ProjectApiKey], scopes: KeyScopes) -> str:
    """How many keys may do everything, how many are restricted, how many the audit log does not show."""
    if scopes.unread is not None:
        return f"not known: {scopes.unread}"
    held = [scopes.by_key.get(k.id) for k in keys]
    counts = (sum(h == () for h in held), sum(bool(h) for h in held), sum(h is None for h in held))
    return f"{counts[0]} with all permissions, {counts[1]} restricted, {counts[2]} unknown (from the audit log)"


@dataclass
class AdminKeysExplanation:
    """The organization's admin keys checked against `admin_keys:`; `error`: why they could not be read."""

    count: int = 0
    findings: list[AdminKeyFinding] = field(default_factory=list)
    error: str | None = None

    def lines(self) -> list[tuple[str, str]]:
        if self.error is not None:
            return [("admin api keys", self.error)]
        lines = [("admin api keys", f"{self.count}; {len(self.findings)} with findings (checked against admin_keys:)")]
        for f in self.findings:
            mine = " (the key this tool runs with)" if f.in_use else ""
            lines.append(("admin key finding", f"{f.label}{mine}: {'; '.join(f.problems)}"))
        return lines


async def explain_admin_keys(
    api: AdminApi, rules: AdminKeyRules, *, clock: Callable[[], float] = time.time
) -> AdminKeysExplanation:
    keys = await _read(api.admin_api_keys.list)
    if isinstance(keys, str):
        return AdminKeysExplanation(error=keys)
    in_use = frozenset(k.id for k in keys if api.transport.admin_key_matches(k.redacted_value))
    return AdminKeysExplanation(len(keys), admin_key_findings(keys, rules, int(clock()), in_use))


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


async def _custom_roles(api: AdminApi, project_id: str) -> list[str]:
    """`user bob@example.com: releaser` for each holder of the project's custom roles."""
    if not custom_by_name(await api.roles.list(project_id)):
        return []  # no custom role: nobody's roles need reading
    observed = await read_holders(api, project_id, None)
    names = {role.id: name for name, role in custom_by_name(observed.roles).items()}
    found = []
    for holder in observed.holders:
        given = sorted(names[r.id] for r in holder.held if r.id in names)
        if given:
            found.append(f"{holder.kind} {holder.key}: {', '.join(given)}")
    return sorted(found)


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
