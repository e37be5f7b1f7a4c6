"""Invites (`invite_missing_users: true` in organization.yaml): bring listed people into the organization.

Managed only when the switch is on and some active project lists users. An email listed in any active
project's `members.users` that is neither a user of the organization nor the address of a pending invite
gets one `create`: an invite as organization `reader` with `projects: []` (no project at all; leaving the
list out would put the invitee into the default project). Project access follows from `members.users`: once
the invite is accepted, the next run adds them to each project with the role the file gives them.

Expired or accepted invites do not count as pending; nothing here deletes an invite.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from datacontrols.adminapi.members import Invite
from datacontrols.desired.schema import DesiredState
from datacontrols.errors import AuthError, BadRequest, NotFound
from datacontrols.kinds.base import OrganizationKind, World
from datacontrols.kinds.directory import users_of
from datacontrols.kinds.project_users import INVITE
from datacontrols.plan import Change, Facts, FieldChange

if TYPE_CHECKING:
    from datacontrols.adminapi import AdminApi
    from datacontrols.adminapi.one_writer import Claim

__all__ = ["InviteFacts", "Invites", "listed_emails"]


@dataclass(frozen=True, slots=True, kw_only=True)
class InviteFacts(Facts):
    """An invite apply sends: to this email, as a reader of no project (the projects follow on acceptance)."""

    email: str


def listed_emails(desired: DesiredState) -> dict[str, list[str]]:
    """Email (first spelling seen, keyed case-folded) -> the active projects that list it, in file order."""
    found: dict[str, tuple[str, list[str]]] = {}
    for project in desired.projects:
        members = project.members
        if project.status != "active" or members is None or members.users is None:
            continue
        for email in members.users:
            found.setdefault(email.casefold(), (email, []))[1].append(project.name)
    return {spelled: projects for spelled, projects in found.values()}


class Invites(OrganizationKind):
    name = INVITE
    group = "members"
    order = 10
    audit_event_types = ("invite.sent", "invite.accepted", "invite.deleted")
    exports = True

    def manages(self, desired: DesiredState) -> bool:
        return desired.organization.invite_missing_users and bool(listed_emails(desired))

    def reads(self, desired: DesiredState) -> bool:
        """Read whenever users are listed: a pending invite made by hand is worth naming in the plan too."""
        return bool(listed_emails(desired))

    def export(self, observed: Any) -> dict[str, Any] | None:
        """Invites are not desired state; `invite_missing_users` is a choice to write (`reconcile export`)."""
        return None

    async def observe(self, api: AdminApi) -> tuple[Invite, ...] | None:
        """The invites, or None when the key may not read them (then nothing is invited blindly)."""
        try:
            return tuple(await api.invites.list())
        except (BadRequest, NotFound):
            return None
        except AuthError as exc:
            if exc.status == 401:
                raise
            return None

    def compare(self, desired: DesiredState, observed: Any, world: World) -> list[Change]:
        directory = users_of(world)
        if directory is None:
            return []  # the user list was not read: no way to tell who is missing
        if observed is None:
            return [
                Change(
                    action="report",
                    kind=self.name,
                    order=self.order,
                    project=None,
                    severity="high",
                    reason="the organization's invites could not be read, so nobody is invited "
                    "(a second invite to the same address would be refused or duplicated)",
                )
            ]
        pending = {i.email.casefold() for i in observed if isinstance(i, Invite) and i.status == "pending"}
        changes: list[Change] = []
        for email, projects in sorted(listed_emails(desired).items(), key=lambda item: item[0].casefold()):
            if directory.by_email(email) is not None or email.casefold() in pending:
                continue
            changes.append(
                Change(
                    action="create",
                    kind=self.name,
                    order=self.order,
                    project=None,
                    subject=email,
                    fields={"role": FieldChange(None, "reader")},
                    reason=f"listed in {', '.join(projects)} and not in the organization (invite_missing_users); "
                    "added to the project(s) by a later run, once the invite is accepted",
                    facts=InviteFacts(email=email),
                    weakens=f"invites {email} into the organization",
                )
            )
        return changes

    async def apply(self, api: AdminApi, change: Change) -> Claim[Invite]:
        if change.action != "create":
            raise ValueError(f"{self.name} changes of action {change.action!r} are not applied")
        # Checked before and after the POST: two runs racing send the person one invite.
        return await api.invites.create_once(change.facts_as(InviteFacts).email, role="reader", projects=[])
