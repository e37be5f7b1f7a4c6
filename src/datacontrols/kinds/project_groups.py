"""A project's groups (`members.groups`): organization groups by name, granted a role by role id.

Reading: the project's groups, the project's roles (once per project: which role ids mean owner and member;
the built-in ids `role-api-project-owner|member` unless the list says otherwise), and each granted group's
role assignments (a project group object carries no role).

Writing: a grant is `POST .../groups {group_id, role: <role id>}`; a revoke is a DELETE. Project groups have
no update endpoint, so a role change is planned as one `update` whose apply assigns the new role and then
unassigns the old one through the role-assignment endpoints. (Revoke-then-grant would also work, but it
leaves the group without access between the two calls, and without any if the grant fails.)

Group names are not unique in the API: a name that matches two groups is a `report`, never a guess.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from datacontrols.adminapi.groups import BUILTIN_PROJECT_ROLES, ProjectRole
from datacontrols.adminapi.members import ProjectUser
from datacontrols.kinds.base import NOT_CREATED, DesiredProject, ProjectKind, World
from datacontrols.kinds.directory import GroupDirectory, groups_meant, groups_of
from datacontrols.kinds.membership import (
    AUTHORITATIVE_REMOVAL,
    ORDER_GRANT,
    PROJECT_GROUP,
    PROJECT_USER,
    GroupGrant,
    GuardContext,
    MemberFacts,
    ObservedGroups,
    RoleIds,
    ensure_owner_remains,
    guard_context,
    member_change,
    remove_member,
    unlisted_change,
    update_member,
)
from datacontrols.plan import OTHER_ID, Change, required

if TYPE_CHECKING:
    from datacontrols.adminapi import AdminApi
    from datacontrols.adminapi.projects import Project

__all__ = ["GroupFacts", "ProjectGroups", "role_ids"]


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupFacts(MemberFacts):
    """A project group change: the group, the role id a grant or role change assigns (None on a removal),
    and the role ids a role change then unassigns."""

    group_id: str
    role_id: str | None = field(default=None, metadata=OTHER_ID)
    unassign: tuple[str, ...] = ()


def role_ids(roles: list[ProjectRole]) -> RoleIds:
    """Which ids mean owner and member, from a project's roles list (built-in ids when it does not say)."""

    def pick(role: str) -> str:
        builtin = BUILTIN_PROJECT_ROLES[role]
        predefined = [r for r in roles if r.predefined_role]
        if any(r.id == builtin for r in predefined):
            return builtin
        named = [r.id for r in predefined if r.name.casefold().removeprefix("project ").strip() == role]
        return named[0] if len(named) == 1 else builtin

    return RoleIds(owner=pick("owner"), member=pick("member"), names={r.id: r.name for r in roles})


class ProjectGroups(ProjectKind):
    name = PROJECT_GROUP
    group = "members"
    order = ORDER_GRANT
    audit_event_types = ("role.assignment.created", "role.assignment.deleted")
    exports = True

    def manages(self, project: DesiredProject) -> bool:
        members = project.file.members
        return members is not None and members.groups is not None

    def count_items(self, value: Any) -> int:
        """For the safety thresholds: the groups with access."""
        return len(value.grants) if isinstance(value, ObservedGroups) else 0

    def export(self, observed: Any) -> dict[str, Any] | None:
        """`reconcile export`: groups by name with owner/member; unnamed, shared-name or other-role groups are
        left out (additive mode reports them)."""
        if not isinstance(observed, ObservedGroups):
            return None
        names = [g.group_name for g in observed.grants]
        groups = {
            g.group_name: role
            for g in observed.grants
            if g.group_name and names.count(g.group_name) == 1 and (role := observed.role_of(g)) in ("owner", "member")
        }
        return {"members": {"groups": dict(sorted(groups.items()))}}

    async def observe(self, api: AdminApi, project: Project) -> ObservedGroups:
        grants, roles = await asyncio.gather(api.project_groups.list(project.id), api.project_roles.list(project.id))
        assigned = await asyncio.gather(*(api.project_groups.roles(project.id, g.group_id) for g in grants))
        return ObservedGroups(
            grants=tuple(
                GroupGrant(g.group_id, g.group_name, tuple(r.id for r in held))
                for g, held in zip(grants, assigned, strict=True)
            ),
            roles=role_ids(roles),
        )

    def compare(self, project: DesiredProject, observed: Any, world: World) -> list[Change]:
        members = project.file.members
        if members is None or members.groups is None:
            return []
        live = ObservedGroups() if observed is NOT_CREATED else observed
        directory = groups_of(world) or GroupDirectory()
        pins = project.group_pins
        users = world.project.get(PROJECT_USER)
        users = tuple(u for u in users if isinstance(u, ProjectUser)) if isinstance(users, tuple) else None
        guard = guard_context(world, users, live)
        new = observed is NOT_CREATED
        by_id = {g.group_id: g for g in live.grants}
        matched: set[str] = set()
        changes: list[Change] = []

        for name, role in sorted(members.groups.items()):
            candidates = groups_meant(directory, name, pins)
            if not candidates:
                candidates_live = [g for g in live.grants if g.group_name == name and name not in pins]
                if len(candidates_live) != 1:
                    changes.append(self._finding(project, name, "no group of this name in the organization"))
                    continue
                group_id = candidates_live[0].group_id
            elif len(candidates) > 1:
                ids = ", ".join(sorted(g.id for g in candidates))
                changes.append(self._finding(project, name, f"{len(candidates)} groups have this name ({ids})"))
                continue
            else:
                group_id = candidates[0].id
            grant = by_id.get(group_id)
            wanted_id = live.roles.id_of(role)
            if grant is None:
                reason = "granted on the new project" if new else f"listed as {role} and has no access"
                changes.append(
                    self._change("create", project, name, group_id, None, role, reason, guard, role_id=wanted_id)
                )
                continue
            matched.add(group_id)
            current = live.role_of(grant)
            if current != role:
                stale = [r for r in grant.role_ids if r in (live.roles.owner, live.roles.member) and r != wanted_id]
                reason = (
                    f"role is {current or 'none'}; the file says {role}. Project groups have no update endpoint: "
                    f"the {role} role is assigned, then the old one unassigned"
                )
                changes.append(
                    self._change(
                        "update",
                        project,
                        name,
                        group_id,
                        current,
                        role,
                        reason,
                        guard,
                        role_id=wanted_id,
                        unassign=tuple(stale),
                    )
                )

        for grant in live.grants:
            if grant.group_id in matched:
                continue
            subject = grant.group_name or grant.group_id
            held = live.role_of(grant)
            if members.authoritative:
                reason = AUTHORITATIVE_REMOVAL
                changes.append(self._change("delete", project, subject, grant.group_id, held, None, reason, guard))
            else:
                changes.append(unlisted_change(self.name, project.name, subject, held, f"group {subject}"))
        return changes

    def _change(
        self,
        action: str,
        project: DesiredProject,
        subject: str,
        group_id: str,
        before: str | None,
        after: str | None,
        reason: str,
        guard: GuardContext,
        *,
        role_id: str | None = None,
        unassign: tuple[str, ...] = (),
    ) -> Change:
        facts = GroupFacts(
            principal=f"group:{group_id}",
            role_before=before,
            role_after=after,
            guard=guard,
            group_id=group_id,
            role_id=role_id,
            unassign=unassign,
        )
        return member_change(action, self.name, project.name, subject, facts, reason=reason)

    def _finding(self, project: DesiredProject, name: str, problem: str) -> Change:
        return Change(
            action="report",
            kind=self.name,
            project=project.name,
            subject=name,
            severity="high",
            reason=f"{problem}; nothing is granted until the name matches exactly one group",
            order=ORDER_GRANT,
        )

    async def apply(self, api: AdminApi, change: Change, project_id: str) -> None:
        facts = change.facts_as(GroupFacts)
        group_id = facts.group_id
        if change.action == "create":
            await api.project_groups.add(project_id, group_id, required(facts.role_id, "role id"))
            return
        await ensure_owner_remains(api, project_id, change)
        if change.action == "update":
            assign = api.project_groups.assign_role(project_id, group_id, required(facts.role_id, "role id"))
            if await update_member(change, assign):
                for stale in facts.unassign:
                    await api.project_groups.unassign_role(project_id, group_id, stale)
            return
        if change.action == "delete":
            await remove_member(change, api.project_groups.remove(project_id, group_id))
            return
        raise ValueError(f"{self.name} changes of action {change.action!r} are not applied")
