"""The desired-state format of the organization's own membership: its users' roles and its groups.

    organization:                                  # organization.yaml
      users:
        mode: additive                             # additive (default) | authoritative
        roles: {alice@example.com: owner, bob@example.com: reader}
      groups:
        mode: additive                             # additive (default) | authoritative
        definitions:
          security: {members: [alice@example.com]}
          auditors: {id: group_01J..., members: []}  # optional pin: renamed back if renamed by hand

`users.roles` gives each listed user their organization role (`owner` or `reader`, the spec's two). Users
cannot be created through the API: a listed address that is not in the organization is a finding, and
`invite_missing_users` with a project's `members.users` is how people are brought in. In `authoritative`
mode a user not listed is removed from the organization (from every project and group with it).

`groups.definitions` names groups and their members by email. A missing group is created, members are
added, and in `authoritative` mode members not listed are removed and groups not declared are deleted.
A group pinned by `id` is that group whatever its live name: renamed by hand, it is renamed back (not
created a second time, and in `authoritative` mode not deleted as undeclared). `reconcile export` pins
every group it writes.
Groups and users managed by SCIM belong to the identity provider and are only reported, never written.

Emails are matched without regard to case, so two spellings of one address in a list are refused.
"""

from __future__ import annotations

from typing import Final, Literal

from pydantic import Field, field_validator

from datacontrols.desired.members import Email, PrincipalName
from datacontrols.desired.model import DesiredModel, check_emails

__all__ = [
    "ORGANIZATION_GROUPS_DESCRIPTION",
    "ORGANIZATION_USERS_DESCRIPTION",
    "GroupDefinition",
    "OrganizationGroupsSetting",
    "OrganizationRole",
    "OrganizationUsersSetting",
]

OrganizationRole = Literal["owner", "reader"]

ORGANIZATION_USERS_DESCRIPTION: Final = (
    "The organization's users' roles by email (owner or reader); authoritative mode removes users not listed "
    "from the organization; absent = organization users not managed"
)
ORGANIZATION_GROUPS_DESCRIPTION: Final = (
    "The organization's groups by name and their members by email; authoritative mode removes members not "
    "listed and deletes groups not declared; SCIM-managed groups are only reported; absent = groups not managed"
)

_MODE_HELP = "additive: add and correct only; authoritative: also remove what is not listed"


class OrganizationUsersSetting(DesiredModel):
    """`organization.users`: the organization role of each listed user."""

    mode: Literal["additive", "authoritative"] = Field(default="additive", description=_MODE_HELP)
    roles: dict[Email, OrganizationRole] = Field(description="email -> owner|reader")

    @field_validator("roles")
    @classmethod
    def _check_emails(cls, roles: dict[str, str]) -> dict[str, str]:
        check_emails(list(roles))
        return roles

    @property
    def authoritative(self) -> bool:
        return self.mode == "authoritative"


class GroupDefinition(DesiredModel):
    """One group of the organization."""

    id: str | None = Field(
        default=None,
        min_length=1,
        description="Optional pin to a live group: with it, a group renamed by hand is renamed back",
    )
    members: list[Email] = Field(default_factory=list, description="The group's users, by email")

    @field_validator("members")
    @classmethod
    def _check_emails(cls, members: list[str]) -> list[str]:
        check_emails(members)
        return members


class OrganizationGroupsSetting(DesiredModel):
    """`organization.groups`: the organization's groups and their members."""

    mode: Literal["additive", "authoritative"] = Field(default="additive", description=_MODE_HELP)
    definitions: dict[PrincipalName, GroupDefinition] = Field(
        description="group name -> {id: optional pin, members: [email, ...]}"
    )

    @field_validator("definitions")
    @classmethod
    def _check_pins(cls, definitions: dict[str, GroupDefinition]) -> dict[str, GroupDefinition]:
        pinned: dict[str, str] = {}
        for name, definition in definitions.items():
            if definition.id is None:
                continue
            if definition.id in pinned:
                raise ValueError(f"groups {pinned[definition.id]!r} and {name!r} are both pinned to {definition.id}")
            pinned[definition.id] = name
        return definitions

    @property
    def authoritative(self) -> bool:
        return self.mode == "authoritative"
