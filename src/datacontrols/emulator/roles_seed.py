"""The seed and dump format of custom roles and of the role assignments of routes/roles.py (`seed.py` puts
these fields on its documents):

    roles:                                   # custom roles; the three built-in project roles always exist
      - {id: role_auditors, name: auditors, permissions: [api.audit_logs.read], description: null}
      - {name: releasers, permissions: [api.model.deploy], project: Support Bot}     # project by id or name
    role_assignments:                        # organization-wide unless `project` is given
      - {role: role_auditors, user: alice@example.com}                    # user by id or email
      - {role: role_auditors, group: data-science}                         # group by id or name
      - {role: role-api-project-viewer, user: bob@example.com, project: Support Bot}   # a project member

A role is named by id (a built-in project role by its id too); a role left without one gets a generated id,
so only roles with an id can be assigned in the same seed. A group's roles in a project are seeded on its
grant (`projects[].groups`, members_seed.py).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from datacontrols.emulator.routes.role_catalog import PROJECT_ROLES
from datacontrols.emulator.state import EmulatorState, IdFactory, RoleAssignmentRecord, RoleRecord

__all__ = ["SeedRole", "SeedRoleAssignment", "check_roles", "dump_roles", "roles_from_seed"]


class _Seed(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class SeedRole(_Seed):
    id: str | None = None
    name: str = Field(min_length=1)
    permissions: list[str] = Field(default_factory=list)
    description: str | None = None
    project: str | None = None  # a project's id or name; None: an organization role
    created_at: int | None = None
    updated_at: int | None = None


class SeedRoleAssignment(_Seed):
    role: str = Field(min_length=1)
    user: str | None = None
    group: str | None = None
    project: str | None = None

    @model_validator(mode="after")
    def _one_principal(self) -> SeedRoleAssignment:
        if (self.user is None) == (self.group is None):
            raise ValueError("give either user or group")
        if self.group is not None and self.project is not None:
            raise ValueError("a group's roles in a project belong on its grant (projects[].groups)")
        return self


def _project_of(document: Any, ref: str | None) -> Any:
    if ref is None:
        return None
    found = next((p for p in document.projects if ref in (p.id, p.name)), None)
    if found is None:
        raise ValueError(f"no project {ref!r}")
    return found


def check_roles(document: Any) -> None:
    """Every role, principal and project a seed's roles and assignments name exists, in the right scope."""
    scopes: dict[str, str | None] = {role_id: "project" for role_id in PROJECT_ROLES}
    for role in document.roles:
        project = _project_of(document, role.project)
        if role.id is not None:
            scopes[role.id] = project.name if project is not None else None
    for entry in document.role_assignments:
        project = _project_of(document, entry.project)
        scope = scopes.get(entry.role, "unknown")
        wanted = project.name if project is not None else None
        if scope == "unknown" or (scope != "project" and scope != wanted) or (scope == "project" and not wanted):
            raise ValueError(f"role_assignments: role {entry.role!r} is not a role of {wanted or 'the organization'}")
        if entry.group is not None and not [g for g in document.groups if entry.group in (g.id, g.name)]:
            raise ValueError(f"role_assignments: no group {entry.group!r}")
        if entry.user is not None:
            user = next((u for u in document.users if entry.user in (u.id, u.email)), None)
            if user is None:
                raise ValueError(f"role_assignments: no user {entry.user!r}")
            if project is not None and not [m for m in project.users if m.user in (user.id, user.email)]:
                raise ValueError(f"role_assignments: {entry.user!r} is not a member of project {project.name!r}")


def _project_id(state: EmulatorState, ref: str | None) -> str | None:
    if ref is None:
        return None
    return next(p.id for p in state.projects.values() if ref in (p.id, p.name))


def roles_from_seed(document: Any, state: EmulatorState, ids: IdFactory, now: int) -> None:
    """Fill `state.roles` and `state.role_assignments` (projects, users and groups already built)."""
    taken = {role.id for role in document.roles if role.id is not None}
    for entry in document.roles:
        role_id = entry.id if entry.id is not None else ids.unused("role_", taken)
        taken.add(role_id)
        created = entry.created_at if entry.created_at is not None else now
        state.roles[role_id] = RoleRecord(
            id=role_id,
            name=entry.name,
            permissions=list(entry.permissions),
            description=entry.description,
            project_id=_project_id(state, entry.project),
            created_at=created,
            updated_at=entry.updated_at if entry.updated_at is not None else created,
        )
    for entry in document.role_assignments:
        if entry.user is not None:
            kind = "user"
            principal = next(u.id for u in state.users.values() if entry.user in (u.id, u.email))
        else:
            kind = "group"
            principal = next(g.id for g in state.groups.values() if entry.group in (g.id, g.name))
        record = RoleAssignmentRecord(entry.role, kind, principal, _project_id(state, entry.project))
        if record not in state.role_assignments:
            state.role_assignments.append(record)


def dump_roles(state: EmulatorState) -> dict[str, Any]:
    """The top-level seed fields of roles, every field filled in, everything by id."""
    return {
        "roles": [
            {
                "id": r.id,
                "name": r.name,
                "permissions": list(r.permissions),
                "description": r.description,
                "project": r.project_id,
                "created_at": r.created_at,
                "updated_at": r.updated_at,
            }
            for r in state.roles.values()
        ],
        "role_assignments": [
            {"role": a.role_id, a.principal_type: a.principal_id, "project": a.project_id}
            for a in state.role_assignments
        ],
    }
