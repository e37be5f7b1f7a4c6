"""The desired-state format of custom roles and of who holds them (RBAC).

    organization:                                   # organization.yaml
      roles:
        mode: additive                              # additive (default) | authoritative
        custom:
          data-auditor: {permissions: [api.audit_logs.read], description: Reads the audit log}
      role_assignments:
        mode: additive                              # additive (default) | authoritative
        users: {alice@example.com: [data-auditor]}  # organization users by email
        groups: {security: [data-auditor]}          # organization groups by name
    roles: {custom: {releaser: {permissions: [api.model.deploy]}}}   # a project file or project_defaults
    role_assignments: {users: {bob@example.com: [releaser, Viewer]}} # a project file only (its members)

Roles are matched by name. Only custom roles are managed: a built-in role is never changed, deleted or
revoked, though an assignment may grant one by its name (a project's `Viewer`). `authoritative` deletes the
custom roles the file does not declare, and revokes, from each principal the file lists, the custom roles it
does not give; a principal the file does not list is never read.
"""

from __future__ import annotations

from typing import Annotated, Final, Literal

from pydantic import Field, StringConstraints, field_validator

from datacontrols.desired.members import Email, PrincipalName
from datacontrols.desired.model import DesiredModel, Text, check_emails

__all__ = [
    "PROJECT_ROLE_ASSIGNMENTS_DESCRIPTION",
    "ROLES_DESCRIPTION",
    "ROLE_ASSIGNMENTS_DESCRIPTION",
    "CustomRole",
    "RoleAssignments",
    "Roles",
]

RoleName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
Permission = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]

ROLES_DESCRIPTION: Final = (
    "Custom roles by name: {mode: additive|authoritative, custom: {<name>: {permissions: [...], description}}}; "
    "missing ones are created, differing ones updated; absent = roles not managed (never read)"
)
ROLE_ASSIGNMENTS_DESCRIPTION: Final = (
    "Roles held by organization users (by email) and groups (by name): {mode, users: {<email>: [<role>]}, "
    "groups: {<name>: [<role>]}}; only the principals listed are read; absent = not managed"
)
PROJECT_ROLE_ASSIGNMENTS_DESCRIPTION: Final = (
    "Roles held in this project by its users (by email) and groups (by name), as under organization; "
    "the principals must be members of the project; absent = not managed"
)


def _unique(values: list[str], what: str) -> list[str]:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"{what} {value!r} is listed twice")
        seen.add(value)
    return values


class CustomRole(DesiredModel):
    """One custom role: the permissions it grants (a set) and, optionally, its description."""

    permissions: list[Permission] = Field(description="Permission names, e.g. api.audit_logs.read; order ignored")
    description: Text | None = Field(default=None, description="Absent = the live description is left as it is")

    @field_validator("permissions")
    @classmethod
    def _check_permissions(cls, permissions: list[str]) -> list[str]:
        return _unique(permissions, "permission")


class Roles(DesiredModel):
    """The custom roles of the organization or of a project."""

    mode: Literal["additive", "authoritative"] = Field(
        default="additive",
        description="additive: create and update only, report undeclared custom roles; authoritative: delete them",
    )
    custom: dict[RoleName, CustomRole] = Field(default_factory=dict, description="Role name -> its definition")

    @property
    def authoritative(self) -> bool:
        return self.mode == "authoritative"


class RoleAssignments(DesiredModel):
    """Which roles, by name, users and groups hold. Only the lists present, and the principals they name,
    are managed."""

    mode: Literal["additive", "authoritative"] = Field(
        default="additive",
        description="additive: grant what is listed; authoritative: also revoke the listed principals' other "
        "custom roles",
    )
    users: dict[Email, list[RoleName]] | None = Field(default=None, description="email -> role names")
    groups: dict[PrincipalName, list[RoleName]] | None = Field(default=None, description="group name -> role names")

    @field_validator("users")
    @classmethod
    def _check_users(cls, users: dict[str, list[str]] | None) -> dict[str, list[str]] | None:
        check_emails(users or {})
        for email, roles in (users or {}).items():
            _unique(roles, f"{email}: role")
        return users

    @field_validator("groups")
    @classmethod
    def _check_groups(cls, groups: dict[str, list[str]] | None) -> dict[str, list[str]] | None:
        for name, roles in (groups or {}).items():
            _unique(roles, f"{name}: role")
        return groups

    @property
    def authoritative(self) -> bool:
        return self.mode == "authoritative"

    def role_names(self) -> set[str]:
        """Every role name the assignments give."""
        return {r for table in (self.users or {}, self.groups or {}) for roles in table.values() for r in roles}
