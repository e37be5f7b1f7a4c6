"""What the member kinds (`project_user`, `project_group`, `project_service_account`) share.

**Modes.** `members.mode: additive` (the default) adds what is listed and fixes roles; a live member that is
not listed is a `report`. `authoritative` also deletes it. Each list is managed only when present.

**Order.** Within a project every grant (a new member, a promotion) runs before every revoke (a removal, a
demotion): `ORDER_GRANT` < `ORDER_REVOKE`, across all three kinds. So a file that replaces one owner with
another adds the new owner first.

**Failure isolation.** Member changes carry `MemberFacts`, which are `independent`: when one fails (a user
who left the organization a minute ago), the engine goes on with the project's other changes instead of
skipping them. A principal already gone when its removal runs counts as done (the API's 404 is converged).

**Guard facts.** Each member change's `MemberFacts` (never rendered) hold what `datacontrols.guards` needs
to refuse a plan before any write: the principal (`user:<id>`, `group:<id>`, `service_account:<id>`), its
role before and after (so whether it is an owner before and after), and in `guard` the project's owners as
observed (`owners`) and the principal behind the admin key in use (`admin_identity`, when known). Owners
are the people who can administer the project in the dashboard: users with role `owner` and groups granted
the owner role. Service accounts are not counted. Groups are counted only when the file manages groups
(otherwise they are not read); the guard then errs on the side of refusing. Because an owner grant may fail
while the rest goes on, a removal or demotion of an owner also re-reads the project's owners right before
it writes (`ensure_owner_remains`). Each member kind subclasses `MemberFacts` with the ids its apply sends.
"""

from __future__ import annotations

from collections.abc import Awaitable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, Final

import structlog

from datacontrols.adminapi.groups import BUILTIN_PROJECT_ROLES
from datacontrols.adminapi.members import ProjectUser
from datacontrols.errors import NotFound, UnsafePlanError
from datacontrols.kinds.base import World
from datacontrols.kinds.directory import ADMIN_IDENTITY, AdminIdentity
from datacontrols.plan import Change, Facts, FieldChange

if TYPE_CHECKING:
    from datacontrols.adminapi import AdminApi

__all__ = [
    "AUTHORITATIVE_REMOVAL",
    "MEMBER_KINDS",
    "ORDER_GRANT",
    "ORDER_KEYS",
    "ORDER_REVOKE",
    "PROJECT_GROUP",
    "PROJECT_SERVICE_ACCOUNT",
    "PROJECT_USER",
    "GroupGrant",
    "GuardContext",
    "MemberFacts",
    "ObservedGroups",
    "RoleIds",
    "admin_identity",
    "ensure_owner_remains",
    "guard_context",
    "member_change",
    "owner_snapshot",
    "remove_member",
    "unlisted_change",
    "update_member",
]

PROJECT_USER: Final = "project_user"
PROJECT_GROUP: Final = "project_group"
PROJECT_SERVICE_ACCOUNT: Final = "project_service_account"
MEMBER_KINDS: Final = frozenset({PROJECT_USER, PROJECT_GROUP, PROJECT_SERVICE_ACCOUNT})

ORDER_GRANT: Final = 20
ORDER_REVOKE: Final = 25
ORDER_KEYS: Final = 30

AUTHORITATIVE_REMOVAL: Final = "not listed, and members.mode is authoritative"

log = structlog.get_logger("datacontrols.kinds")


@dataclass(frozen=True)
class RoleIds:
    """Which role ids mean owner and member in a project (the built-in ids unless the roles list says else)."""

    owner: str = BUILTIN_PROJECT_ROLES["owner"]
    member: str = BUILTIN_PROJECT_ROLES["member"]
    names: dict[str, str] = field(default_factory=dict)  # role id -> name, for roles neither owner nor member

    def id_of(self, role: str) -> str:
        return self.owner if role == "owner" else self.member

    def role_of(self, role_ids: Iterable[str]) -> str | None:
        """A group's role in the file's words: owner wins over member; anything else is named as it is."""
        held = set(role_ids)
        if self.owner in held:
            return "owner"
        if self.member in held:
            return "member"
        others = sorted(self.names.get(r, r) for r in held)
        return ", ".join(others) if others else None


@dataclass(frozen=True)
class GroupGrant:
    """A group with access to the project, and the role ids it holds there."""

    group_id: str
    group_name: str | None
    role_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class ObservedGroups:
    """The observed value of `project_group`: the grants and how to read their role ids."""

    grants: tuple[GroupGrant, ...] = ()
    roles: RoleIds = field(default_factory=RoleIds)

    def role_of(self, grant: GroupGrant) -> str | None:
        return self.roles.role_of(grant.role_ids)


def owner_snapshot(users: Sequence[ProjectUser] | None, groups: ObservedGroups | None) -> tuple[str, ...]:
    """The project's owners as observed: `user:<id>` for owner users, `group:<id>` for owner groups."""
    owners = [f"user:{u.id}" for u in users or () if u.role == "owner"]
    if groups is not None:
        owners += [f"group:{g.group_id}" for g in groups.grants if groups.role_of(g) == "owner"]
    return tuple(sorted(owners))


def admin_identity(world: World) -> str | None:
    identity = world.organization.get(ADMIN_IDENTITY)
    return identity.principal if isinstance(identity, AdminIdentity) else None


@dataclass(frozen=True, slots=True, kw_only=True)
class GuardContext:
    """What the plan saw of a member change's project, for the guards: the same for all its member changes.

    `owner_role_id` is there only when groups are read (`counts_groups`): then `ensure_owner_remains` counts
    owner groups too."""

    owners: tuple[str, ...] = ()  # the project's owners as observed: `user:<id>`, `group:<id>`
    admin_identity: str | None = None  # the principal behind the admin key in use, when known
    counts_groups: bool = False
    owner_role_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class MemberFacts(Facts):
    """The facts of a member change that the guards read (`datacontrols.guards`, `ensure_owner_remains`).

    `role_after` is None on a removal. Each member kind subclasses this with the ids its apply sends."""

    independent: ClassVar[bool] = True
    principal: str  # `user:<id>`, `group:<id>`, `service_account:<id>`
    role_before: str | None = None
    role_after: str | None = None
    guard: GuardContext = GuardContext()

    @property
    def owner_before(self) -> bool:
        return self.role_before == "owner"

    @property
    def owner_after(self) -> bool:
        return self.role_after == "owner"

    @property
    def loses_owner(self) -> bool:
        """Whether the change removes an owner or demotes one."""
        return self.owner_before and not self.owner_after

    @property
    def gains_owner(self) -> bool:
        """Whether the change adds an owner or promotes one."""
        return self.owner_after and not self.owner_before

    def new_role(self) -> str:
        """The role a create or update gives (`role_after`)."""
        if self.role_after is None:
            raise ValueError(f"the change of {self.principal} gives no role")
        return self.role_after


def guard_context(world: World, users: Sequence[ProjectUser] | None, groups: ObservedGroups | None) -> GuardContext:
    """What a user or group change carries for the guards (`MemberFacts.guard`)."""
    return GuardContext(
        owners=owner_snapshot(users, groups),
        admin_identity=admin_identity(world),
        counts_groups=groups is not None,
        owner_role_id=groups.roles.owner if groups is not None else None,
    )


def member_change(
    action: str,
    kind: str,
    project: str,
    subject: str,
    facts: MemberFacts,
    *,
    reason: str,
) -> Change:
    """A member change carrying `facts` (what the guards need), ordered grant-before-revoke.

    Access given or an owner made weakens who can reach the project (critical); access taken or an owner
    demoted may lock someone out or stop what uses that access (high)."""
    role_before, role_after = facts.role_before, facts.role_after
    if action == "delete" and role_after is not None:
        raise ValueError(f"a removal of {facts.principal} leaves it no role, not {role_after!r}")
    losing = action == "delete" or facts.loses_owner
    fields = {"role": FieldChange(role_before, role_after)} if role_before != role_after else {}
    weakens = None
    if action == "create":
        weakens = f"gives {subject} access to the project ({role_after or 'no role'})"
    elif action == "update" and facts.gains_owner:
        weakens = f"makes {subject} an owner of the project"
    disrupts = exposes = None
    if action == "delete":
        disrupts = f"removes {subject}'s access to the project"
        exposes = f"{subject} has access live that the files do not give"
    elif facts.loses_owner:
        disrupts = f"{subject} is no longer an owner of the project"
        exposes = f"{subject} is an owner live, not in the files"
    return Change(
        action=action,  # type: ignore[arg-type]
        kind=kind,
        project=project,
        subject=subject,
        fields=fields,
        reason=reason,
        order=ORDER_REVOKE if losing else ORDER_GRANT,
        weakens=weakens,
        disrupts=disrupts,
        exposes=exposes,
        facts=facts,
    )


def unlisted_change(kind: str, project: str, subject: str, role: str | None, what: str) -> Change:
    """The additive mode's note about a live member the file does not list."""
    return Change(
        action="report",
        kind=kind,
        project=project,
        subject=subject,
        severity="normal",
        reason=f"{what} has access ({role or 'no role'}) but is not listed; additive mode leaves it "
        "(mode: authoritative would remove it)",
        order=ORDER_REVOKE,
    )


async def update_member(change: Change, write: Awaitable[object]) -> bool:
    """Run a role write; a principal gone since the plan was made is logged and skipped (False).

    There is nothing to change then; the next run plans from what is there."""
    try:
        await write
    except NotFound:
        log.warning("member_vanished", kind=change.kind, project=change.project, subject=change.subject)
        return False
    return True


async def remove_member(change: Change, removal: Awaitable[bool]) -> None:
    """Run a removal; a principal already gone (the removal returned False) counts as done."""
    if not await removal:
        log.info("member_already_gone", kind=change.kind, project=change.project, subject=change.subject)


async def ensure_owner_remains(api: AdminApi, project_id: str, change: Change) -> None:
    """Right before a write that takes ownership away, re-read the owners and refuse if none would remain.

    The plan was checked as a whole before any write (`guards.check_guards`); this covers what the plan
    could not know: an owner grant earlier in this apply that failed, or a change made by someone else since.
    """
    facts = change.facts_as(MemberFacts)
    if not facts.loses_owner:
        return
    owners = {f"user:{u.id}" for u in await api.project_users.list(project_id) if u.role == "owner"}
    if facts.guard.counts_groups:
        owner_role = facts.guard.owner_role_id or BUILTIN_PROJECT_ROLES["owner"]
        for grant in await api.project_groups.list(project_id):
            roles = await api.project_groups.roles(project_id, grant.group_id)
            if any(r.id == owner_role for r in roles):
                owners.add(f"group:{grant.group_id}")
    if not owners - {facts.principal}:
        raise UnsafePlanError(
            f"project {change.project!r}: refusing to {'remove' if change.action == 'delete' else 'demote'} "
            f"{change.subject}: it is the project's last owner right now (an owner added earlier in this run "
            "may have failed); nothing was changed for it"
        )
