"""Organization-wide reads that the member kinds consult: users, groups and the identity of the admin key.

Each is an `OrganizationKind` read once per run, only when some project file manages what needs it; its
value lands in `World.organization[<name>]`, where the project kinds look names up:

    organization_users    every user of the organization (emails -> ids)   when a project lists users
    organization_groups   every group of the organization (names -> ids)    when a project lists groups
    admin_api_key         who owns the admin key in use, if that can be told   when members or
                                                                             organization.users are managed

The kinds of organization.yaml's `users` and `groups` read the same lists for themselves; within one
observation the transport sends each identical GET once (`adminapi/read_once.py`), so both are read once.

The first two never plan anything. `admin_api_key` says once, as a `report`, when the key in use cannot be
matched to exactly one owner: the guard that refuses to remove or demote that identity then cannot run.
The key is matched by its redacted form (`sk-admin...xyz`) through `Transport.admin_key_matches`, which
answers yes or no and never hands out the key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from datacontrols.adminapi.groups import OrganizationGroup
from datacontrols.adminapi.members import OrganizationUser
from datacontrols.desired.organization_members import OrganizationGroupsSetting
from datacontrols.desired.schema import DesiredState
from datacontrols.errors import AuthError, BadRequest, NotFound
from datacontrols.kinds.base import OrganizationKind, World
from datacontrols.plan import Change

if TYPE_CHECKING:
    from datacontrols.adminapi import AdminApi

__all__ = [
    "ADMIN_IDENTITY",
    "ORGANIZATION_GROUPS",
    "ORGANIZATION_USERS",
    "AdminIdentity",
    "AdminKeyIdentity",
    "Directory",
    "GroupDirectory",
    "OrganizationGroups",
    "OrganizationUsers",
    "group_pins",
    "groups_meant",
    "groups_of",
    "manages_members",
    "users_of",
]

ORGANIZATION_USERS = "organization_users"
ORGANIZATION_GROUPS = "organization_groups"
ADMIN_IDENTITY = "admin_api_key"


def manages_members(desired: DesiredState, which: str | None = None) -> bool:
    """Whether any project file manages members (`which`: only `users`, `groups` or `service_accounts`)."""
    for project in desired.projects:
        members = project.members
        if members is None:
            continue
        if which is None or getattr(members, which) is not None:
            return True
    return False


@dataclass(frozen=True)
class Directory:
    """The organization's users, looked up by email (ignoring case) or id.

    Indexed once when built: every project's member list looks its people up here, so a scan per lookup
    made the diff quadratic in the organization's size (users x projects)."""

    users: tuple[OrganizationUser, ...] = ()
    _by_email: dict[str, OrganizationUser] = field(init=False, repr=False, compare=False)
    _by_id: dict[str, OrganizationUser] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_email: dict[str, OrganizationUser] = {}
        for user in self.users:
            if user.email is not None:
                by_email.setdefault(user.email.casefold(), user)  # the first, as the scan it replaces did
        object.__setattr__(self, "_by_email", by_email)
        object.__setattr__(self, "_by_id", {u.id: u for u in reversed(self.users)})

    def by_email(self, email: str) -> OrganizationUser | None:
        return self._by_email.get(email.casefold())

    def by_id(self, user_id: str) -> OrganizationUser | None:
        return self._by_id.get(user_id)


@dataclass(frozen=True)
class GroupDirectory:
    """The organization's groups, looked up by name (a list: names are not unique in the API) or id;
    indexed once, like `Directory`."""

    groups: tuple[OrganizationGroup, ...] = ()
    _by_name: dict[str, list[OrganizationGroup]] = field(init=False, repr=False, compare=False)
    _by_id: dict[str, OrganizationGroup] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_name: dict[str, list[OrganizationGroup]] = {}
        for group in self.groups:
            by_name.setdefault(group.name, []).append(group)
        object.__setattr__(self, "_by_name", by_name)
        object.__setattr__(self, "_by_id", {g.id: g for g in reversed(self.groups)})

    def named(self, name: str) -> list[OrganizationGroup]:
        return list(self._by_name.get(name, ()))

    def by_id(self, group_id: str) -> OrganizationGroup | None:
        return self._by_id.get(group_id)


def group_pins(setting: OrganizationGroupsSetting | None) -> dict[str, str]:
    """organization.groups' pins: declared name -> the id of the group it is."""
    if setting is None:
        return {}
    return {name: d.id for name, d in setting.definitions.items() if d.id is not None}


def groups_meant(groups: GroupDirectory, name: str, pins: Mapping[str, str]) -> list[OrganizationGroup]:
    """The live groups a group name in the files means: the one organization.groups pins to that name,
    whatever it is called live (renamed by hand, it is still that group), else those of the name that no
    pin claims. organization.groups and the project members' groups resolve names here, so a rename by hand
    is one change (the rename back), not a project grant revoked as undeclared; role assignments apply the
    same rule to the groups they read (`role_holders`)."""
    if name in pins:
        pinned = groups.by_id(pins[name])
        return [pinned] if pinned is not None else []
    claimed = set(pins.values())
    return [g for g in groups.named(name) if g.id not in claimed]


def users_of(world: World) -> Directory | None:
    """The organization's users as this run read them (None: not read)."""
    found = world.organization.get(ORGANIZATION_USERS)
    return found if isinstance(found, Directory) else None


def groups_of(world: World) -> GroupDirectory | None:
    """The organization's groups as this run read them (None: not read)."""
    found = world.organization.get(ORGANIZATION_GROUPS)
    return found if isinstance(found, GroupDirectory) else None


@dataclass(frozen=True)
class AdminIdentity:
    """The principal behind the admin key in use: `user:<id>` / `service_account:<id>`, or None (unknown)."""

    principal: str | None
    description: str = ""
    reason: str = ""


class _ReadOnly(OrganizationKind):
    """An organization-wide read: never compared on its own, never applied."""

    group = "members"
    order = 10
    audit_event_types = ()
    exports = True

    def export(self, observed: Any) -> dict[str, Any] | None:
        """Nothing of the organization's user or group list is desired state (`reconcile export`)."""
        return None

    def manages(self, desired: DesiredState) -> bool:
        return False

    def compare(self, desired: DesiredState, observed: Any, world: World) -> list[Change]:
        return []

    async def apply(self, api: AdminApi, change: Change) -> None:
        raise ValueError(f"{self.name} is read-only")


class OrganizationUsers(_ReadOnly):
    name = ORGANIZATION_USERS

    def reads(self, desired: DesiredState) -> bool:
        return manages_members(desired, "users")

    async def observe(self, api: AdminApi) -> Directory:
        return Directory(tuple(await api.organization_users.list()))

    def count_items(self, value: Any) -> int:
        return len(value.users) if isinstance(value, Directory) else 0


class OrganizationGroups(_ReadOnly):
    name = ORGANIZATION_GROUPS

    def reads(self, desired: DesiredState) -> bool:
        return manages_members(desired, "groups")

    async def observe(self, api: AdminApi) -> GroupDirectory:
        return GroupDirectory(tuple(await api.groups.list()))

    def count_items(self, value: Any) -> int:
        return len(value.groups) if isinstance(value, GroupDirectory) else 0


class AdminKeyIdentity(OrganizationKind):
    name = ADMIN_IDENTITY
    group = "members"
    order = 10
    audit_event_types = ()
    exports = True

    def manages(self, desired: DesiredState) -> bool:
        # The organization's users' roles are guarded against demoting the key's owner too.
        return manages_members(desired) or desired.organization.organization.users is not None

    def export(self, observed: Any) -> dict[str, Any] | None:
        """A reconciler does not manage its own credential (`reconcile export`)."""
        return None

    async def observe(self, api: AdminApi) -> AdminIdentity:
        try:
            keys = await api.admin_api_keys.list()
        except (BadRequest, NotFound) as exc:
            return AdminIdentity(None, reason=f"the admin key list could not be read ({exc.message})")
        except AuthError as exc:
            if exc.status == 401:
                raise
            return AdminIdentity(None, reason=f"the admin key list could not be read ({exc.message})")
        matching = [k for k in keys if api.transport.admin_key_matches(k.redacted_value)]
        owners = {(k.owner.type or "user", k.owner.id) for k in matching if k.owner.id}
        if not matching:
            return AdminIdentity(None, reason="no admin key in the organization's list matches the key in use")
        if len(owners) != 1:
            return AdminIdentity(
                None, reason=f"{len(matching)} admin keys match the key in use's redacted form and their owners differ"
            )
        ((kind, owner_id),) = owners
        principal_type = "service_account" if kind == "service_account" else "user"
        owner = matching[0].owner
        return AdminIdentity(f"{principal_type}:{owner_id}", description=f"{principal_type} {owner.name or owner_id}")

    def compare(self, desired: DesiredState, observed: Any, world: World) -> list[Change]:
        if not isinstance(observed, AdminIdentity) or observed.principal is not None:
            return []
        return [
            Change(
                action="report",
                kind=self.name,
                order=self.order,
                project=None,
                severity="high",
                reason=f"the owner of the admin key in use is unknown: {observed.reason}; the guard that keeps "
                "this tool from removing or demoting its own identity cannot run",
            )
        ]

    async def apply(self, api: AdminApi, change: Change) -> None:
        raise ValueError("admin API keys are read-only here")
