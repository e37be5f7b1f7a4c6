"""A project's users (`members.users`): emails in the file, user ids in the API.

Emails are resolved through the organization's user list (read once per run, `organization_users`), without
regard to case. A listed email that is not in the organization is a `report`, never a crash: "invite
pending" when an invite is out, "an invite is planned" when `invite_missing_users` is on, otherwise a
high-severity finding that says how to fix it. Such a user is added by a later run, once they have joined.

Plans: `create` (add with a role), `update` (role), `delete` (authoritative mode only; additive mode
reports the unlisted user instead). See `membership.py` for ordering, guards and failure isolation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from datacontrols.adminapi.members import Invite, ProjectUser
from datacontrols.kinds.base import NOT_CREATED, DesiredProject, ProjectKind, World
from datacontrols.kinds.directory import Directory, users_of
from datacontrols.kinds.membership import (
    AUTHORITATIVE_REMOVAL,
    ORDER_GRANT,
    PROJECT_GROUP,
    PROJECT_USER,
    GuardContext,
    MemberFacts,
    ObservedGroups,
    ensure_owner_remains,
    guard_context,
    member_change,
    remove_member,
    unlisted_change,
    update_member,
)
from datacontrols.plan import Change, Severity

if TYPE_CHECKING:
    from datacontrols.adminapi import AdminApi
    from datacontrols.adminapi.projects import Project

__all__ = ["INVITE", "ProjectUsers", "UserFacts"]

INVITE = "invite"  # the organization kind whose observed value (pending invites) is consulted here


@dataclass(frozen=True, slots=True, kw_only=True)
class UserFacts(MemberFacts):
    """A project user change: the user apply adds, changes or removes (its role is `role_after`)."""

    user_id: str


class ProjectUsers(ProjectKind):
    name = PROJECT_USER
    group = "members"
    order = ORDER_GRANT
    audit_event_types = ("user.added", "user.updated", "user.deleted")
    exports = True

    def manages(self, project: DesiredProject) -> bool:
        members = project.file.members
        return members is not None and members.users is not None

    async def observe(self, api: AdminApi, project: Project) -> tuple[ProjectUser, ...]:
        return tuple(await api.project_users.list(project.id))

    def export(self, observed: Any) -> dict[str, Any] | None:
        """`reconcile export`: the project's users by email, in additive mode (an export removes nobody).

        Users without an email, or with a role other than owner/member, cannot be written and are left out
        (additive mode then reports them, it does not remove them)."""
        users = {
            u.email: u.role
            for u in observed or ()
            if isinstance(u, ProjectUser) and u.email and u.role in ("owner", "member")
        }
        return {"members": {"users": dict(sorted(users.items()))}}

    def compare(self, project: DesiredProject, observed: Any, world: World) -> list[Change]:
        members = project.file.members
        if members is None or members.users is None:
            return []
        live: tuple[ProjectUser, ...] = () if observed is NOT_CREATED else tuple(observed)
        directory = users_of(world) or Directory()
        groups = world.project.get(PROJECT_GROUP)
        guard = guard_context(world, live, groups if isinstance(groups, ObservedGroups) else None)
        new = observed is NOT_CREATED
        by_id = {u.id: u for u in live}
        by_email = _index_by_email(live)  # once per project, not a scan per listed person
        matched: set[str] = set()
        changes: list[Change] = []

        for email, role in sorted(members.users.items(), key=lambda item: item[0].casefold()):
            user = directory.by_email(email)
            found = by_id.get(user.id) if user is not None else by_email.get(email.casefold())
            if found is not None:
                matched.add(found.id)
                if found.role != role:
                    why = _why_role(found.role, role)
                    changes.append(self._change("update", project, email, found.id, found.role, role, why, guard))
                continue
            if user is None:
                changes.append(self._not_in_organization(project, email, world))
                continue
            reason = "added to the new project" if new else f"listed as {role} and not in the project"
            changes.append(self._change("create", project, email, user.id, None, role, reason, guard))

        for found in live:
            if found.id in matched:
                continue
            subject = found.email or found.id
            if members.authoritative:
                changes.append(
                    self._change("delete", project, subject, found.id, found.role, None, AUTHORITATIVE_REMOVAL, guard)
                )
            else:
                changes.append(unlisted_change(self.name, project.name, subject, found.role, f"user {subject}"))
        return changes

    def _change(
        self,
        action: str,
        project: DesiredProject,
        subject: str,
        user_id: str,
        before: str | None,
        after: str | None,
        reason: str,
        guard: GuardContext,
    ) -> Change:
        facts = UserFacts(
            principal=f"user:{user_id}", role_before=before, role_after=after, guard=guard, user_id=user_id
        )
        return member_change(action, self.name, project.name, subject, facts, reason=reason)

    def _not_in_organization(self, project: DesiredProject, email: str, world: World) -> Change:
        invites = world.organization.get(INVITE)
        pending = [
            i
            for i in invites or ()
            if isinstance(i, Invite) and i.email.casefold() == email.casefold() and i.status == "pending"
        ]
        severity: Severity = "normal"
        if pending:
            reason = "not in the organization yet: an invite is pending; a later run adds them once they accept"
        elif world.desired.organization.invite_missing_users:
            reason = "not in the organization yet: this plan invites them; a later run adds them once they accept"
        else:
            severity = "high"
            reason = (
                "not a member of the organization, so they cannot be added; invite them, or set "
                "invite_missing_users: true in organization.yaml"
            )
        return Change(
            action="report",
            kind=self.name,
            project=project.name,
            subject=email,
            severity=severity,
            reason=reason,
            order=ORDER_GRANT,
        )

    async def apply(self, api: AdminApi, change: Change, project_id: str) -> None:
        facts = change.facts_as(UserFacts)
        user_id = facts.user_id
        if change.action == "create":
            await api.project_users.add(project_id, user_id, facts.new_role())
            return
        await ensure_owner_remains(api, project_id, change)
        if change.action == "update":
            await update_member(change, api.project_users.modify(project_id, user_id, facts.new_role()))
            return
        if change.action == "delete":
            await remove_member(change, api.project_users.remove(project_id, user_id))
            return
        raise ValueError(f"{self.name} changes of action {change.action!r} are not applied")


def _index_by_email(live: tuple[ProjectUser, ...]) -> dict[str, ProjectUser]:
    index: dict[str, ProjectUser] = {}
    for user in live:
        if user.email is not None:
            index.setdefault(user.email.casefold(), user)  # the first, as a scan would find
    return index


def _why_role(before: str, after: str) -> str:
    if after == "owner":
        return f"promoted from {before} to owner"
    if before == "owner":
        return f"demoted from owner to {after}"
    return f"role is {before}; the file says {after}"
