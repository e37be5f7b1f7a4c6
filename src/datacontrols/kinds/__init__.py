"""The registry of managed kinds. Adding a control is one module here and one line below.

Order matters only for reading the plan: apply orders changes by project and `Change.order`.
"""

from __future__ import annotations

from datacontrols.kinds.api_keys import ProjectApiKeys
from datacontrols.kinds.base import (
    NOT_CREATED,
    DesiredProject,
    Kind,
    OrganizationKind,
    ProjectKind,
    World,
)
from datacontrols.kinds.directory import AdminKeyIdentity, OrganizationGroups, OrganizationUsers
from datacontrols.kinds.hosted_tools import ProjectHostedTools
from datacontrols.kinds.invites import Invites
from datacontrols.kinds.model_permissions import ProjectModelPermissions
from datacontrols.kinds.organization_retention import OrganizationDataRetention
from datacontrols.kinds.project_groups import ProjectGroups
from datacontrols.kinds.project_retention import ProjectDataRetention
from datacontrols.kinds.project_users import ProjectUsers
from datacontrols.kinds.rate_limits import ProjectRateLimits
from datacontrols.kinds.service_accounts import ProjectServiceAccounts
from datacontrols.kinds.spend_alerts import OrganizationSpendAlerts, ProjectSpendAlerts
from datacontrols.kinds.spend_limit import OrganizationSpendLimit, ProjectSpendLimit

__all__ = [
    "NOT_CREATED",
    "ORGANIZATION_KINDS",
    "PROJECT_KINDS",
    "DesiredProject",
    "Kind",
    "OrganizationKind",
    "ProjectKind",
    "World",
    "kind_by_name",
]

ORGANIZATION_KINDS: tuple[OrganizationKind, ...] = (
    OrganizationDataRetention(),
    OrganizationSpendLimit(),
    OrganizationSpendAlerts(),
    # access: the organization's users and groups and the admin key's owner are read once per run for the
    # member kinds; invites bring listed people into the organization
    OrganizationUsers(),
    OrganizationGroups(),
    AdminKeyIdentity(),
    Invites(),
)

PROJECT_KINDS: tuple[ProjectKind, ...] = (
    ProjectDataRetention(),
    ProjectModelPermissions(),
    ProjectHostedTools(),
    ProjectRateLimits(),
    ProjectSpendLimit(),
    ProjectSpendAlerts(),
    ProjectUsers(),
    ProjectGroups(),
    ProjectServiceAccounts(),  # no secret sink by default: accounts are created without a key
    ProjectApiKeys(),
)


def kind_by_name(name: str) -> Kind:
    for kind in (*ORGANIZATION_KINDS, *PROJECT_KINDS):
        if kind.name == name:
            return kind
    raise KeyError(name)
