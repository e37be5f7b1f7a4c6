"""The organization's users' roles (`organization.users` in organization.yaml): owner or reader, by email.

Plans `update` (a listed user whose role differs) and, in `authoritative` mode, `delete` (a user not listed
is removed from the organization, and so from every project and group). Users are never created here: the
API has no such call, people arrive by invite. A listed email that is not in the organization is a finding
that says how to bring them in (`invite_missing_users` with a project's `members.users`, or by hand).

**SCIM.** A user with `is_scim_managed` belongs to the identity provider: a difference is reported, never
written (a change made here would be undone, or fought, by the next provisioning sync).

**Guards**, checked in the plan (the change becomes `uncorrectable`, with the reason) and again right before
the write (a fresh read of the users): the last owner of the organization is never demoted or removed, and
neither is the user who owns the admin key in use (`admin_api_key`, see `kinds.directory`), whose removal
would lock this tool out. A promotion planned in the same run counts as an owner that remains.

**Severity**, as for project members: making someone an owner weakens who controls the organization
(critical); a demotion or a removal may lock someone out (high).

**Cost.** One paginated listing of the organization's users per run, and nothing at all when
`organization.users` is absent. Audit events `user.updated` and `user.deleted` attribute drift.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from datacontrols.adminapi.members import OrganizationUser
from datacontrols.desired.schema import DesiredState
from datacontrols.errors import UnsafePlanError
from datacontrols.kinds.base import OrganizationKind, World
from datacontrols.kinds.directory import Directory
from datacontrols.kinds.membership import admin_identity, remove_member, update_member
from datacontrols.plan import Change, Facts, FieldChange, Severity

if TYPE_CHECKING:
    from datacontrols.adminapi import AdminApi

__all__ = ["ORGANIZATION_USER", "OrganizationUserFacts", "OrganizationUserRoles"]

ORGANIZATION_USER: Final = "organization_user"
# Grants before revokes, as in a project: a file that hands ownership over promotes the new owner first.
ORDER_GRANT: Final = 12
ORDER_REVOKE: Final = 14


@dataclass(frozen=True, slots=True, kw_only=True)
class OrganizationUserFacts(Facts):
    """The user apply changes or removes, and the role it gives (None on a removal)."""

    user_id: str
    role_before: str | None = None
    role_after: str | None = None

    @property
    def loses_owner(self) -> bool:
        return self.role_before == "owner" and self.role_after != "owner"


class OrganizationUserRoles(OrganizationKind):
    name = ORGANIZATION_USER
    group = "members"
    order = ORDER_GRANT
    audit_event_types = ("user.updated", "user.deleted")
    exports = True

    def manages(self, desired: DesiredState) -> bool:
        return desired.organization.organization.users is not None

    async def observe(self, api: AdminApi) -> Directory:
        return Directory(tuple(await api.organization_users.list()))

    def count_items(self, value: Any) -> int:
        return len(value.users) if isinstance(value, Directory) else 0

    def export(self, observed: Any) -> dict[str, Any] | None:
        """`reconcile export`: every user with an email and a role the file can hold, in additive mode (an
        export removes nobody). SCIM-managed users are written too: their roles then match, so nothing is
        planned for them, and a later difference is reported."""
        if not isinstance(observed, Directory):
            return None
        roles = {u.email: u.role for u in observed.users if u.email and u.role in ("owner", "reader")}
        return {"users": {"roles": dict(sorted(roles.items(), key=lambda item: item[0].casefold()))}}

    def compare(self, desired: DesiredState, observed: Any, world: World) -> list[Change]:
        setting = desired.organization.organization.users
        if setting is None or not isinstance(observed, Directory):
            return []
        changes: list[Change] = []
        candidates: list[Change] = []
        matched: set[str] = set()
        for email, role in sorted(setting.roles.items(), key=lambda item: item[0].casefold()):
            user = observed.by_email(email)
            if user is None:
                changes.append(self._report(email, "high", _NOT_IN_ORGANIZATION))
                continue
            matched.add(user.id)
            if user.role == role:
                continue
            if user.is_scim_managed:
                why = f"role is {user.role or 'none'}, the file says {role}"
                changes.append(self._report(email, "normal", f"{why}; {_SCIM}"))
                continue
            candidates.append(self._change("update", email, user, role))
        for user in observed.users:
            if user.id in matched:
                continue
            subject = user.email or user.id
            if not setting.authoritative:
                changes.append(self._report(subject, "normal", _unlisted(user)))
            elif user.is_scim_managed:
                changes.append(self._report(subject, "normal", f"not listed; {_SCIM}"))
            else:
                candidates.append(self._change("delete", subject, user, None))
        return changes + _guarded(candidates, observed, admin_identity(world))

    def _change(self, action: str, subject: str, user: OrganizationUser, role: str | None) -> Change:
        before = user.role
        facts = OrganizationUserFacts(user_id=user.id, role_before=before, role_after=role)
        weakens = disrupts = exposes = None
        if action == "delete":
            reason = "not listed, and organization.users.mode is authoritative"
            disrupts = f"removes {subject} from the organization (and from every project and group)"
            exposes = f"{subject} is in the organization live, not in the files"
        elif role == "owner":
            reason = f"promoted from {before or 'no role'} to owner"
            weakens = f"makes {subject} an owner of the organization"
        elif before == "owner":
            reason = f"demoted from owner to {role}"
            disrupts = f"{subject} is no longer an owner of the organization"
            exposes = f"{subject} is an owner of the organization live, not in the files"
        else:
            reason = f"role is {before or 'none'}; the file says {role}"
        return Change(
            action=action,  # type: ignore[arg-type]
            kind=self.name,
            project=None,
            subject=subject,
            fields={"role": FieldChange(before, role)},
            reason=reason,
            order=ORDER_REVOKE if action == "delete" or facts.loses_owner else ORDER_GRANT,
            weakens=weakens,
            disrupts=disrupts,
            exposes=exposes,
            facts=facts,
        )

    def _report(self, subject: str, severity: Severity, reason: str) -> Change:
        return Change(
            action="report",
            kind=self.name,
            project=None,
            subject=subject,
            severity=severity,
            reason=reason,
            order=ORDER_GRANT,
        )

    async def apply(self, api: AdminApi, change: Change) -> None:
        facts = change.facts_as(OrganizationUserFacts)
        if facts.loses_owner:
            await _ensure_owner_remains(api, change, facts)
        if change.action == "update" and facts.role_after is not None:
            await update_member(change, api.organization_users.modify(facts.user_id, facts.role_after))
            return
        if change.action == "delete":
            await remove_member(change, api.organization_users.remove(facts.user_id))
            return
        raise ValueError(f"{self.name} changes of action {change.action!r} are not applied")


_NOT_IN_ORGANIZATION: Final = (
    "not a member of the organization; users are not invited from organization.users: list them in a project's "
    "members.users with invite_missing_users: true, or invite them by hand"
)
_SCIM: Final = (
    "the user is managed by SCIM, so the identity provider owns them and nothing is written here; "
    "change it in the identity provider"
)


def _unlisted(user: OrganizationUser) -> str:
    return (
        f"in the organization ({user.role or 'no role'}) but not listed; additive mode leaves them "
        "(mode: authoritative would remove them)"
    )


def _guarded(candidates: list[Change], observed: Directory, admin: str | None) -> list[Change]:
    """The changes the lock-out guards allow; the others become `uncorrectable`, saying why.

    An owner remains when some owner is neither demoted nor removed by the plan, or the plan promotes one."""
    facts = [c.facts_as(OrganizationUserFacts) for c in candidates]
    owners = {u.id for u in observed.users if u.role == "owner"}
    # The admin key's owner is refused first: refused, they stay an owner, which may spare another owner.
    losing = {f.user_id for f in facts if f.loses_owner and admin != f"user:{f.user_id}"}
    gaining = {f.user_id for f in facts if f.role_after == "owner" and f.role_before != "owner"}
    last_owner = bool(owners) and not ((owners - losing) | gaining)
    kept: list[Change] = []
    for change, fact in zip(candidates, facts, strict=True):
        verb = "remove" if change.action == "delete" else "demote"
        if admin is not None and admin == f"user:{fact.user_id}" and (change.action == "delete" or fact.loses_owner):
            why = (
                f"refusing to {verb} {change.subject}: they own the admin key this run uses, so the run would "
                "lock itself out; list them in the file, or make that change by hand"
            )
        elif last_owner and fact.loses_owner:
            why = (
                f"refusing to {verb} {change.subject}: the organization would be left without an owner; "
                "keep at least one owner in organization.users"
            )
        else:
            kept.append(change)
            continue
        kept.append(
            Change(
                action="uncorrectable",
                kind=change.kind,
                project=None,
                subject=change.subject,
                fields=change.fields,
                severity="high",
                reason=why,
                order=change.order,
            )
        )
    return kept


async def _ensure_owner_remains(api: AdminApi, change: Change, facts: OrganizationUserFacts) -> None:
    """Right before a write that takes ownership away, re-read the users and refuse if no other owner is
    left: a promotion earlier in this apply may have failed, or someone changed roles since the plan."""
    users = await api.organization_users.list()
    if not any(u.role == "owner" and u.id != facts.user_id for u in users):
        verb = "remove" if change.action == "delete" else "demote"
        raise UnsafePlanError(
            f"organization: refusing to {verb} {change.subject}: they are the organization's last owner right "
            "now (a promotion earlier in this run may have failed); nothing was changed for them"
        )
