"""Role assignments: `organization_role_assignments` (organization.yaml's `organization.role_assignments`)
and `project_role_assignments` (a project file's `role_assignments`).

Users are named by email and groups by name; roles by name, resolved in the scope's roles (custom roles
first, then built-in ones, so a project's `Viewer` can be given). Additive (the default) grants what is
listed and reports a listed principal's other custom roles; `authoritative` revokes those. A principal the
file does not list is never read, and a built-in role is never revoked here (a project's owner and member
roles belong to `members`). Only direct assignments count: a role inherited through a group is its group's.

A role named in an assignment that neither exists nor is declared in the same scope's `roles` is an
`uncorrectable` finding, not a refusal at load time: whether a role exists is a fact about the live
organization (a custom role made by hand, a built-in role), which validation, made before any request,
cannot know. A role declared and not yet created is resolved by name when the grant is applied (roles apply
first, `custom_roles.ORDER`). So is a project member listed in `members` and not added yet.

Severity follows the member kinds: a grant gives access (critical), a revoke may lock someone out (high).

Cost: nothing when `role_assignments` is absent. Else one role list of the scope, one list of the scope's
users (when `users` is present) and of its groups (when `groups` is), and one read per principal listed.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, ClassVar, Final

from datacontrols.adminapi.groups import ProjectRole
from datacontrols.adminapi.roles import PrincipalType
from datacontrols.desired.roles import RoleAssignments, Roles
from datacontrols.desired.schema import DesiredState
from datacontrols.errors import NotFound
from datacontrols.kinds.base import NOT_CREATED, DesiredProject, OrganizationKind, ProjectKind, World
from datacontrols.kinds.custom_roles import ORDER as ROLES_ORDER
from datacontrols.kinds.custom_roles import custom_by_name
from datacontrols.kinds.directory import group_pins
from datacontrols.kinds.role_holders import Holder, ObservedHolders, read_holders
from datacontrols.plan import OTHER_ID, Change, Facts, FieldChange

if TYPE_CHECKING:
    from datacontrols.adminapi import AdminApi
    from datacontrols.adminapi.projects import Project

__all__ = ["AssignmentFacts", "OrganizationRoleAssignments", "ProjectRoleAssignments"]

ORDER: Final = ROLES_ORDER + 1
EVENTS: Final = ("role.assignment.created", "role.assignment.deleted")


@dataclass(frozen=True, slots=True, kw_only=True)
class AssignmentFacts(Facts):
    """A grant or revoke: the principal (its id None until a pending member is added) and the role."""

    independent: ClassVar[bool] = True
    principal_type: PrincipalType
    principal: str  # email or group name
    principal_id: str | None = None
    role: str
    role_id: str | None = field(default=None, metadata=OTHER_ID)  # None: created by this apply


def _resolve_role(roles: tuple[ProjectRole, ...], name: str) -> ProjectRole | None:
    custom = custom_by_name(roles).get(name)
    return custom or next((r for r in roles if r.predefined_role and r.name == name), None)


def _compare(
    kind: str,
    project: str | None,
    wanted: RoleAssignments,
    observed: ObservedHolders,
    declared: Roles | None,
    pending: set[tuple[PrincipalType, str]],
) -> list[Change]:
    where = "the organization" if project is None else f"project {project}"
    changes: list[Change] = []

    def add(action: str, holder: Holder, role: str, role_id: str | None, reason: str, **extra: Any) -> None:
        facts = AssignmentFacts(
            principal_type=holder.kind,
            principal=holder.key,
            principal_id=holder.principal_id,
            role=role,
            role_id=role_id,
        )
        before, after = (None, role) if action == "create" else (role, None)
        changes.append(
            Change(
                action=action,  # type: ignore[arg-type]
                kind=kind,
                order=ORDER,
                project=project,
                subject=f"{holder.kind} {holder.key}: {role}",
                fields={"role": FieldChange(before, after)} if action in ("create", "delete") else {},
                reason=reason,
                facts=facts if action in ("create", "delete") else Facts(),
                **extra,
            )
        )

    tables: tuple[tuple[PrincipalType, dict[str, list[str]] | None], ...] = (
        ("user", wanted.users),
        ("group", wanted.groups),
    )
    for principal_type, listed in tables:
        for key, roles in sorted((listed or {}).items()):
            found = observed.holder(principal_type, key)
            # Named as the file names it (emails ignore case), so a plan reads like its file.
            holder = replace(found, key=key) if found else Holder(principal_type, key, problem=f"not in {where}")
            waiting = holder.principal_id is None and (principal_type, key.casefold()) in pending
            if holder.problem is not None and not waiting:
                for role in roles:
                    add("uncorrectable", holder, role, None, f"{holder.problem}; nothing is granted", severity="high")
                continue
            held = {r.id for r in holder.held}
            for role in roles:
                live = _resolve_role(observed.roles, role)
                if live is None and (declared is None or role not in declared.custom):
                    reason = f"no role named {role!r} exists in {where} nor is declared in its roles"
                    add("uncorrectable", holder, role, None, reason, severity="high")
                elif live is None or live.id not in held:
                    reason = "listed and not held" + (" (added to the project by this plan first)" if waiting else "")
                    add(
                        "create",
                        holder,
                        role,
                        live.id if live else None,
                        reason,
                        weakens=f"gives {holder.kind} {key} the role {role} in {where}",
                    )
            names = {role.id: name for name, role in custom_by_name(observed.roles).items()}
            listed_ids = {_id(observed.roles, r) for r in roles}
            for extra in holder.held:
                if extra.predefined_role or extra.id in listed_ids:
                    continue  # a built-in role belongs to `members`; a listed one is wanted
                name = names.get(extra.id, extra.name or extra.id)
                if wanted.authoritative:
                    reason = "not listed, and role_assignments.mode is authoritative"
                    add("delete", holder, name, extra.id, reason, disrupts=f"{key} loses {name} in {where}")
                else:
                    reason = "held but not listed; additive mode leaves it (mode: authoritative would revoke it)"
                    add("report", holder, name, extra.id, reason, severity="normal")
    return changes


def _id(roles: tuple[ProjectRole, ...], name: str) -> str | None:
    found = _resolve_role(roles, name)
    return found.id if found else None


def _export(observed: Any) -> dict[str, Any] | None:
    """The principals holding custom roles, by email and name; built-in roles are left to `members`."""
    if not isinstance(observed, ObservedHolders):
        return None
    custom = custom_by_name(observed.roles)
    names = {role.id: name for name, role in custom.items()}
    tables: dict[str, dict[str, list[str]]] = {"users": {}, "groups": {}}
    for holder in observed.holders:
        given = sorted(names[r.id] for r in holder.held if r.id in names)
        if given and holder.problem is None:
            tables[f"{holder.kind}s"][holder.key] = given
    found = {key: dict(sorted(table.items())) for key, table in tables.items() if table}
    return {"role_assignments": found} if found else None


async def _apply(api: AdminApi, change: Change, project_id: str | None) -> None:
    facts = change.facts_as(AssignmentFacts)
    principal_id = facts.principal_id
    if principal_id is None:  # a member this plan adds to the project first
        holders = await read_holders(api, project_id, _just(facts))
        found = holders.holder(facts.principal_type, facts.principal)
        if found is None or found.principal_id is None:
            raise NotFound(f"{facts.principal_type} {facts.principal} is not in the project")
        principal_id = found.principal_id
    if change.action == "delete":
        await api.role_assignments.unassign(facts.principal_type, principal_id, facts.role_id or facts.role, project_id)
        return
    role_id = facts.role_id
    if role_id is None:  # declared in this plan's roles, created before this grant
        role = _resolve_role(tuple(await api.roles.list(project_id)), facts.role)
        if role is None:
            raise NotFound(f"no role named {facts.role!r} was created")
        role_id = role.id
    await api.role_assignments.assign(facts.principal_type, principal_id, role_id, project_id)


def _just(facts: AssignmentFacts) -> RoleAssignments:
    table = {facts.principal: [facts.role]}
    return RoleAssignments(users=table) if facts.principal_type == "user" else RoleAssignments(groups=table)


class OrganizationRoleAssignments(OrganizationKind):
    name = "organization_role_assignments"
    group = "roles"
    order = ORDER
    audit_event_types = EVENTS
    exports = True

    def manages(self, desired: DesiredState) -> bool:
        return desired.organization.organization.role_assignments is not None

    async def observe(self, api: AdminApi) -> ObservedHolders:
        return await read_holders(api, None, None)

    async def observe_for(self, api: AdminApi, desired: DesiredState) -> ObservedHolders:
        organization = desired.organization.organization
        return await read_holders(api, None, organization.role_assignments, group_pins(organization.groups))

    def count_items(self, value: Any) -> int:
        return sum(len(h.held) for h in value.holders) if isinstance(value, ObservedHolders) else 0

    def export(self, observed: Any) -> dict[str, Any] | None:
        return _export(observed)

    def compare(self, desired: DesiredState, observed: Any, world: World) -> list[Change]:
        wanted = desired.organization.organization.role_assignments
        if wanted is None:
            return []
        live = observed if isinstance(observed, ObservedHolders) else ObservedHolders()
        return _compare(self.name, None, wanted, live, desired.organization.organization.roles, set())

    async def apply(self, api: AdminApi, change: Change) -> None:
        await _apply(api, change, None)


class ProjectRoleAssignments(ProjectKind):
    name = "project_role_assignments"
    group = "roles"
    order = ORDER
    audit_event_types = EVENTS
    exports = True
    # Exporting reads every member's roles in every project, and the files then cost that each plan.
    export_by_default = False

    def manages(self, project: DesiredProject) -> bool:
        return project.file.role_assignments is not None

    async def observe(self, api: AdminApi, project: Project) -> ObservedHolders:
        return await read_holders(api, project.id, None)

    async def observe_for(self, api: AdminApi, project: Project, desired: DesiredProject) -> ObservedHolders:
        return await read_holders(api, project.id, desired.file.role_assignments, desired.group_pins)

    def count_items(self, value: Any) -> int:
        return sum(len(h.held) for h in value.holders) if isinstance(value, ObservedHolders) else 0

    def export(self, observed: Any) -> dict[str, Any] | None:
        return _export(observed)

    def compare(self, project: DesiredProject, observed: Any, world: World) -> list[Change]:
        wanted = project.file.role_assignments
        if wanted is None:
            return []
        live = observed if isinstance(observed, ObservedHolders) else ObservedHolders()
        members = project.file.members
        pending: set[tuple[PrincipalType, str]] = set()
        if members is not None:
            pending |= {("user", email.casefold()) for email in members.users or ()}
            pending |= {("group", name.casefold()) for name in members.groups or ()}
        if observed is NOT_CREATED:
            live = ObservedHolders()
        return _compare(self.name, project.name, wanted, live, project.settings.roles, pending)

    async def apply(self, api: AdminApi, change: Change, project_id: str) -> None:
        await _apply(api, change, project_id)
