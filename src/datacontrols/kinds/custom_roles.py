"""Custom roles: `organization_roles` (organization.yaml's `organization.roles`) and `project_roles` (a
project file's or `project_defaults`' `roles`).

A role is matched by name. A declared role that is missing is created (through `one_writer`: a role has no
natural id), one whose permissions (a set) or declared description differ is updated, and a live custom role
the file does not declare is reported, or deleted when `roles.mode` is authoritative. Built-in roles
(`predefined_role`) are never read as managed: never changed, never deleted.

Severity: a new role is normal (nobody holds it yet); permissions added to a live role reach everyone who
holds it (critical, as giving access is for the member kinds); permissions removed, or a role deleted (the API
takes it from its holders), may lock someone out (high).

Cost: one role list (`GET /organization/roles`, or `GET /projects/{id}/roles` per project whose effective
settings declare `roles`), and nothing at all when no `roles` is declared.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from datacontrols.adminapi.groups import ProjectRole
from datacontrols.desired.roles import CustomRole, Roles
from datacontrols.desired.schema import DesiredState
from datacontrols.kinds.base import NOT_CREATED, DesiredProject, OrganizationKind, ProjectKind, World
from datacontrols.plan import Change, Facts, FieldChange, required

if TYPE_CHECKING:
    from datacontrols.adminapi import AdminApi
    from datacontrols.adminapi.one_writer import Claim
    from datacontrols.adminapi.projects import Project

__all__ = ["ORDER", "OrganizationRoles", "ProjectRoles", "RoleFacts", "custom_by_name"]

# Before the role assignments (which name these roles), after the members (ORDER_GRANT is 20) have no need.
ORDER: Final = 21
EVENTS: Final = ("role.created", "role.updated", "role.deleted")


@dataclass(frozen=True, slots=True, kw_only=True)
class RoleFacts(Facts):
    name: str
    role_id: str | None = None  # None: created by this apply
    permissions: tuple[str, ...] = ()
    description: str | None = None


def custom_by_name(roles: Any) -> dict[str, ProjectRole]:
    """The live custom roles by name; of two sharing a name the first listed (the oldest) is the one managed."""
    found: dict[str, ProjectRole] = {}
    for role in roles if isinstance(roles, list | tuple) else ():
        if isinstance(role, ProjectRole) and not role.predefined_role:
            found.setdefault(role.name, role)
    return found


def _compare(kind: str, project: str | None, wanted: Roles, observed: Sequence[ProjectRole]) -> list[Change]:
    live = custom_by_name(list(observed))
    where = "the organization" if project is None else f"project {project}"
    changes: list[Change] = []

    def change(action: str, name: str, fields: dict[str, FieldChange], reason: str, **extra: Any) -> None:
        role = live.get(name)
        setting = wanted.custom.get(name)
        facts = RoleFacts(
            name=name,
            role_id=role.id if role is not None else None,
            permissions=tuple(sorted(setting.permissions)) if setting else (),
            description=setting.description if setting else None,
        )
        changes.append(
            Change(
                action=action,  # type: ignore[arg-type]
                kind=kind,
                order=ORDER,
                project=project,
                subject=name,
                fields=fields,
                reason=reason,
                facts=facts,
                **extra,
            )
        )

    for name, setting in sorted(wanted.custom.items()):
        role = live.get(name)
        permissions = sorted(setting.permissions)
        if role is None:
            fields = {"permissions": FieldChange(None, permissions)}
            if setting.description is not None:
                fields["description"] = FieldChange(None, setting.description)
            change("create", name, fields, f"declared and missing in {where}")
            continue
        _update(change, name, setting, role, where)

    for name, role in sorted(live.items()):
        if name in wanted.custom:
            continue
        if wanted.authoritative:
            change(
                "delete",
                name,
                {"permissions": FieldChange(sorted(role.permissions), None)},
                "not declared, and roles.mode is authoritative",
                disrupts=f"everyone holding {name} in {where} loses it",
            )
        else:
            changes.append(
                Change(
                    action="report",
                    kind=kind,
                    order=ORDER,
                    project=project,
                    subject=name,
                    severity="normal",
                    reason="a custom role the files do not declare; additive mode leaves it "
                    "(roles.mode: authoritative would delete it)",
                )
            )
    return changes


def _update(change: Any, name: str, setting: CustomRole, role: ProjectRole, where: str) -> None:
    before, after = sorted(set(role.permissions)), sorted(setting.permissions)
    fields: dict[str, FieldChange] = {}
    if before != after:
        fields["permissions"] = FieldChange(before, after)
    if setting.description is not None and setting.description != role.description:
        fields["description"] = FieldChange(role.description, setting.description)
    if not fields:
        return
    added = [p for p in after if p not in before]
    removed = [p for p in before if p not in after]
    change(
        "update",
        name,
        fields,
        "differs from the file",
        weakens=f"everyone holding {name} in {where} gains {', '.join(added)}" if added else None,
        disrupts=f"everyone holding {name} in {where} loses {', '.join(removed)}" if removed else None,
    )


def _export(observed: Any) -> dict[str, Any] | None:
    live = custom_by_name(observed)
    if not live:
        return None
    custom: dict[str, Any] = {}
    for name, role in sorted(live.items()):
        entry: dict[str, Any] = {"permissions": sorted(set(role.permissions))}
        if role.description:
            entry["description"] = role.description
        custom[name] = entry
    return {"roles": {"custom": custom}}


async def _apply(api: AdminApi, change: Change, project_id: str | None) -> Claim[ProjectRole] | None:
    facts = change.facts_as(RoleFacts)
    if change.action == "create":
        return await api.roles.create_once(facts.name, facts.permissions, facts.description, project_id)
    role_id = required(facts.role_id, f"id of role {facts.name}")
    if change.action == "update":
        await api.roles.update(role_id, facts.permissions, facts.description, project_id)
    elif change.action == "delete":
        await api.roles.delete(role_id, project_id)
    else:
        raise ValueError(f"{change.kind} changes of action {change.action!r} are not applied")
    return None


class OrganizationRoles(OrganizationKind):
    name = "organization_roles"
    group = "roles"
    order = ORDER
    audit_event_types = EVENTS
    exports = True

    def manages(self, desired: DesiredState) -> bool:
        return desired.organization.organization.roles is not None

    async def observe(self, api: AdminApi) -> tuple[ProjectRole, ...]:
        return tuple(await api.roles.list())

    def count_items(self, value: Any) -> int:
        return len(custom_by_name(value))

    def export(self, observed: Any) -> dict[str, Any] | None:
        return _export(observed)

    def compare(self, desired: DesiredState, observed: Any, world: World) -> list[Change]:
        wanted = desired.organization.organization.roles
        if wanted is None:
            return []
        return _compare(self.name, None, wanted, observed if isinstance(observed, tuple) else ())

    async def apply(self, api: AdminApi, change: Change) -> Claim[ProjectRole] | None:
        return await _apply(api, change, None)


class ProjectRoles(ProjectKind):
    name = "project_roles"
    group = "roles"
    order = ORDER
    audit_event_types = EVENTS
    exports = True

    def manages(self, project: DesiredProject) -> bool:
        return project.settings.roles is not None

    async def observe(self, api: AdminApi, project: Project) -> tuple[ProjectRole, ...]:
        return tuple(await api.roles.list(project.id))

    def count_items(self, value: Any) -> int:
        return len(custom_by_name(value))

    def export(self, observed: Any) -> dict[str, Any] | None:
        return _export(observed)

    def compare(self, project: DesiredProject, observed: Any, world: World) -> list[Change]:
        wanted = project.settings.roles
        if wanted is None:
            return []
        live = () if observed is NOT_CREATED or not isinstance(observed, tuple) else observed
        return _compare(self.name, project.name, wanted, live)

    async def apply(self, api: AdminApi, change: Change, project_id: str) -> Claim[ProjectRole] | None:
        return await _apply(api, change, project_id)
