"""The organization's groups and their members (`organization.groups` in organization.yaml).

Plans, by group name (names are not unique in the API, so two live groups of a declared name are a finding,
never a guess), or by `id` for a group the file pins:

- `update` of the name: a pinned group renamed by hand is renamed back (first, so that no create looks for
  the declared name while another group holds it); a pin the organization does not have is `uncorrectable`;
- `create`: a declared group that does not exist, with its members (through `one_writer.create_once`: two
  runs racing leave one group);
- `create` / `delete` of a member: a declared member is added; in `authoritative` mode a member not listed
  is removed (additive mode reports them);
- `delete` of a group not declared, in `authoritative` mode (its project grants go with it); additive mode
  reports it.

**SCIM.** A group with `is_scim_managed` belongs to the identity provider: its differences are reported,
never written, and it is never deleted (the next provisioning sync would undo, or fight, the change).

**Severity**, as for project members: adding someone to an existing group gives them whatever the group
can reach (critical); removing a member or deleting a group may lock people out (high). A new group can
reach nothing yet, so creating it with its members is normal.

A rename changes no one's access: it is normal.

**Cost.** Nothing when `organization.groups` is absent. Otherwise one listing of the groups, one listing of
members per declared group that exists (undeclared groups' members are never read), and one listing of the
organization's users only when some member is to be added (their email gives their id). Audit events
`group.created`, `group.updated` and `group.deleted` attribute drift; membership has no event type.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from datacontrols.adminapi.groups import GroupUser, OrganizationGroup
from datacontrols.desired.organization_members import OrganizationGroupsSetting
from datacontrols.desired.schema import DesiredState
from datacontrols.kinds.base import OrganizationKind, World
from datacontrols.kinds.directory import Directory, GroupDirectory, group_pins, groups_meant
from datacontrols.kinds.membership import remove_member
from datacontrols.plan import Change, Facts, FieldChange, Severity

if TYPE_CHECKING:
    from datacontrols.adminapi import AdminApi
    from datacontrols.adminapi.one_writer import Claim

__all__ = ["ORGANIZATION_GROUP", "GroupFacts", "ObservedGroupMembers", "OrganizationGroupMembers"]

ORGANIZATION_GROUP: Final = "organization_group"
# Groups and additions first, removals and deletions last (after the users' roles, `organization_user`).
ORDER_RENAME: Final = 15
ORDER_GRANT: Final = 16
ORDER_REVOKE: Final = 18


@dataclass(frozen=True)
class ObservedGroupMembers:
    """The organization's groups, the members of those read (group id -> members), and the organization's
    users when a member is to be added (None: not read, nobody is missing)."""

    groups: GroupDirectory = field(default_factory=GroupDirectory)
    members: Mapping[str, tuple[GroupUser, ...]] = field(default_factory=dict)
    users: Directory | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupFacts(Facts):
    """The group a change is about (no id yet for a create), the user a member change adds or removes, and
    the users a create puts in the new group."""

    group_name: str
    group_id: str | None = None
    user_id: str | None = None
    new_members: tuple[str, ...] = ()


class OrganizationGroupMembers(OrganizationKind):
    name = ORGANIZATION_GROUP
    group = "members"
    order = ORDER_GRANT
    audit_event_types = ("group.created", "group.updated", "group.deleted")
    exports = True

    def manages(self, desired: DesiredState) -> bool:
        return desired.organization.organization.groups is not None

    async def observe(self, api: AdminApi) -> ObservedGroupMembers:
        """Every group with its members (`reconcile export`)."""
        groups = GroupDirectory(tuple(await api.groups.list()))
        return ObservedGroupMembers(groups, await _members(api, groups.groups))

    async def observe_for(self, api: AdminApi, desired: DesiredState) -> ObservedGroupMembers:
        setting = desired.organization.organization.groups
        groups = GroupDirectory(tuple(await api.groups.list()))
        if setting is None:
            return ObservedGroupMembers(groups)
        declared = [found[0] for found in _resolve(setting, groups).values() if len(found) == 1]
        members = await _members(api, declared)
        missing = _missing(setting, groups, members)
        users = Directory(tuple(await api.organization_users.list())) if missing else None
        return ObservedGroupMembers(groups, members, users)

    def count_items(self, value: Any) -> int:
        if not isinstance(value, ObservedGroupMembers):
            return 0
        return len(value.groups.groups) + sum(len(m) for m in value.members.values())

    def export(self, observed: Any) -> dict[str, Any] | None:
        """`reconcile export`: each group with its members' emails, in additive mode. Two groups of one name
        cannot be told apart in a file and are left out (the plan then names them)."""
        if not isinstance(observed, ObservedGroupMembers):
            return None
        definitions: dict[str, Any] = {}
        for group in observed.groups.groups:
            if len(observed.groups.named(group.name)) != 1:
                continue
            emails = sorted({u.email for u in observed.members.get(group.id, ()) if u.email}, key=str.casefold)
            definitions[group.name] = {"id": group.id, "members": emails}
        return {"groups": {"definitions": dict(sorted(definitions.items()))}}

    def compare(self, desired: DesiredState, observed: Any, world: World) -> list[Change]:
        setting = desired.organization.organization.groups
        if setting is None or not isinstance(observed, ObservedGroupMembers):
            return []
        changes: list[Change] = []
        resolved = _resolve(setting, observed.groups)
        declared = {group.id for found in resolved.values() for group in found}
        for name, definition in sorted(setting.definitions.items()):
            live = resolved[name]
            if definition.id is not None and not live:
                reason = (
                    f"the file pins id {definition.id}, which is not a group of this organization; "
                    "remove `id:` to match by name, or correct it"
                )
                changes.append(_uncorrectable(name, reason))
            elif len(live) > 1:
                reason = f"{len(live)} groups are named {name!r}; rename or delete all but one (names are not unique)"
                changes.append(_report(name, "high", reason))
            elif not live:
                changes += self._created(name, definition.members, observed.users)
            else:
                group = live[0]
                if group.name != name:
                    changes.append(self._renamed(group, name, observed.groups))
                shown = group.model_copy(update={"name": name})  # the plan names it as the file does
                changes += self._members(setting, shown, definition.members, observed)
        for group in observed.groups.groups:
            if group.id in declared:
                continue
            if not setting.authoritative:
                reason = "not declared; additive mode leaves it (mode: authoritative would delete it)"
                changes.append(_report(group.name, "normal", reason))
            elif group.is_scim_managed:
                changes.append(_report(group.name, "normal", f"not declared; {_SCIM}"))
            else:
                changes.append(self._group_deletion(group))
        return changes

    def _renamed(self, group: OrganizationGroup, name: str, groups: GroupDirectory) -> Change:
        if group.is_scim_managed:
            return _report(name, "normal", f"renamed to {group.name!r} live; {_SCIM}")
        if others := [g for g in groups.named(name) if g.id != group.id]:
            reason = (
                f"renamed to {group.name!r} live, and cannot be renamed back: {len(others)} other group(s) are "
                f"named {name!r}; rename or delete them first"
            )
            return _report(name, "high", reason)
        return Change(
            action="update",
            kind=self.name,
            project=None,
            subject=name,
            fields={"name": FieldChange(group.name, name)},
            reason="renamed by hand; the file pins it by id",
            order=ORDER_RENAME,
            facts=GroupFacts(group_name=name, group_id=group.id),
        )

    def _created(self, name: str, emails: list[str], users: Directory | None) -> list[Change]:
        found, changes = [], []
        for email in sorted(emails, key=str.casefold):
            user = users.by_email(email) if users is not None else None
            if user is None:
                changes.append(_report(f"{name}: {email}", "high", _NOT_IN_ORGANIZATION))
            else:
                found.append((email, user.id))
        facts = GroupFacts(group_name=name, new_members=tuple(uid for _, uid in found))
        fields = {"name": FieldChange(None, name)}
        if found:
            fields["members"] = FieldChange(None, ", ".join(email for email, _ in found))
        change = Change(
            action="create",
            kind=self.name,
            project=None,
            subject=name,
            fields=fields,
            reason="declared and not in the organization",
            order=ORDER_GRANT,
            facts=facts,
        )
        return [change, *changes]

    def _members(
        self, setting: OrganizationGroupsSetting, group: OrganizationGroup, emails: list[str], observed: Any
    ) -> list[Change]:
        live = observed.members.get(group.id)
        if live is None:
            return [_report(group.name, "high", "its members were not read, so their drift is unknown")]
        by_email = {u.email.casefold(): u for u in live if u.email}
        wanted = {e.casefold() for e in emails}
        missing = [e for e in sorted(emails, key=str.casefold) if e.casefold() not in by_email]
        unlisted = sorted((u for u in live if (u.email or "").casefold() not in wanted), key=lambda u: u.email or u.id)
        if group.is_scim_managed:
            if not missing and not unlisted:
                return []
            said = [f"missing {', '.join(missing)}" if missing else "", _named(unlisted, "not listed")]
            differences = "; ".join(s for s in said if s)
            return [_report(group.name, "normal", f"members differ ({differences}); {_SCIM}")]
        changes: list[Change] = []
        for email in missing:
            user = observed.users.by_email(email) if observed.users is not None else None
            if user is None:
                changes.append(_report(f"{group.name}: {email}", "high", _NOT_IN_ORGANIZATION))
                continue
            changes.append(self._member("create", group, email, user.id))
        for user in unlisted:
            subject = user.email or user.id
            if setting.authoritative:
                changes.append(self._member("delete", group, subject, user.id))
            else:
                reason = f"{subject} is a member but not listed; additive mode leaves them"
                changes.append(_report(f"{group.name}: {subject}", "normal", reason))
        return changes

    def _member(self, action: str, group: OrganizationGroup, email: str, user_id: str) -> Change:
        adding = action == "create"
        subject = f"{group.name}: {email}"
        return Change(
            action=action,  # type: ignore[arg-type]
            kind=self.name,
            project=None,
            subject=subject,
            fields={"member": FieldChange(None, email) if adding else FieldChange(email, None)},
            reason="listed and not a member" if adding else "not listed, and organization.groups.mode is authoritative",
            order=ORDER_GRANT if adding else ORDER_REVOKE,
            weakens=f"gives {email} the access of group {group.name!r}" if adding else None,
            disrupts=None if adding else f"{email} loses the access of group {group.name!r}",
            exposes=None if adding else f"{email} has the access of group {group.name!r} live, not in the files",
            facts=GroupFacts(group_name=group.name, group_id=group.id, user_id=user_id),
        )

    def _group_deletion(self, group: OrganizationGroup) -> Change:
        return Change(
            action="delete",
            kind=self.name,
            project=None,
            subject=group.name,
            fields={"name": FieldChange(group.name, None)},
            reason="not declared, and organization.groups.mode is authoritative",
            order=ORDER_REVOKE,
            disrupts=f"deletes group {group.name!r}: its members lose the access it gives (its project grants go)",
            exposes=f"group {group.name!r} exists live, not in the files",
            facts=GroupFacts(group_name=group.name, group_id=group.id),
        )

    async def apply(self, api: AdminApi, change: Change) -> Claim[OrganizationGroup] | None:
        facts = change.facts_as(GroupFacts)
        if change.action == "create" and facts.group_id is None:
            claim = await api.groups.create_once(facts.group_name)
            # Members go to the group kept, whoever created it (adding one twice changes nothing).
            await asyncio.gather(*(api.groups.add_member(claim.kept.id, uid) for uid in facts.new_members))
            return claim
        if facts.group_id is None:
            raise ValueError(f"a {self.name} {change.action} names no group id")
        if change.action == "create" and facts.user_id is not None:
            await api.groups.add_member(facts.group_id, facts.user_id)
            return None
        if change.action == "delete" and facts.user_id is not None:
            await remove_member(change, api.groups.remove_member(facts.group_id, facts.user_id))
            return None
        if change.action == "delete":
            await remove_member(change, api.groups.delete(facts.group_id))
            return None
        if change.action == "update":
            await api.groups.rename(facts.group_id, facts.group_name)
            return None
        raise ValueError(f"{self.name} changes of action {change.action!r} are not applied")


_NOT_IN_ORGANIZATION: Final = (
    "not a member of the organization, so they cannot join the group; invite them (a project's members.users "
    "with invite_missing_users: true, or by hand)"
)
_SCIM: Final = (
    "the group is managed by SCIM, so the identity provider owns it and nothing is written here; "
    "change it in the identity provider"
)


def _uncorrectable(subject: str, reason: str) -> Change:
    return Change(
        action="uncorrectable",
        kind=ORGANIZATION_GROUP,
        project=None,
        subject=subject,
        severity="high",
        reason=reason,
        order=ORDER_RENAME,
    )


def _report(subject: str, severity: Severity, reason: str) -> Change:
    return Change(
        action="report",
        kind=ORGANIZATION_GROUP,
        project=None,
        subject=subject,
        severity=severity,
        reason=reason,
        order=ORDER_GRANT,
    )


def _named(users: list[GroupUser], what: str) -> str:
    return f"{what} {', '.join(u.email or u.id for u in users)}" if users else ""


def _resolve(setting: OrganizationGroupsSetting, groups: GroupDirectory) -> dict[str, list[OrganizationGroup]]:
    """Each declared name's live groups (`directory.groups_meant`)."""
    pins = group_pins(setting)
    return {name: groups_meant(groups, name, pins) for name in setting.definitions}


def _missing(
    setting: OrganizationGroupsSetting, groups: GroupDirectory, members: Mapping[str, tuple[GroupUser, ...]]
) -> bool:
    """Whether some declared member is to be added (then the users are read, to find their ids)."""
    resolved = _resolve(setting, groups)
    for name, definition in setting.definitions.items():
        live = resolved[name]
        if not live:
            if definition.members:
                return True
            continue
        if len(live) > 1 or live[0].is_scim_managed:
            continue
        have = {u.email.casefold() for u in members.get(live[0].id, ()) if u.email}
        if any(e.casefold() not in have for e in definition.members):
            return True
    return False


async def _members(api: AdminApi, groups: tuple[OrganizationGroup, ...] | list[OrganizationGroup]) -> dict[str, Any]:
    found = await asyncio.gather(*(api.groups.members(g.id) for g in groups))
    return {g.id: tuple(m) for g, m in zip(groups, found, strict=True)}
