"""The registry of managed kinds. Adding a control is one module here and one line below.

Everything else about a kind (its scope, group, order, audit event types, export, counting, reads) is
declared on the kind itself (`kinds.base`); the lists other modules need are derived here from those
declarations, never kept by hand. Order in the tuples matters only for reading the plan: apply orders
changes by project and `Change.order`.
"""

from __future__ import annotations

from datacontrols.kinds.admin_keys import OrganizationAdminKeys
from datacontrols.kinds.api_keys import ProjectApiKeys
from datacontrols.kinds.base import (
    NOT_CREATED,
    DesiredProject,
    Kind,
    OrganizationKind,
    ProjectKind,
    Scope,
    World,
)
from datacontrols.kinds.certificates import OrganizationCertificates, ProjectCertificates
from datacontrols.kinds.custom_roles import OrganizationRoles, ProjectRoles
from datacontrols.kinds.directory import AdminKeyIdentity, OrganizationGroups, OrganizationUsers
from datacontrols.kinds.encryption_key import ProjectEncryptionKey
from datacontrols.kinds.external_storage import ProjectExternalStorage
from datacontrols.kinds.hosted_tools import ProjectHostedTools
from datacontrols.kinds.invites import Invites
from datacontrols.kinds.model_permissions import ProjectModelPermissions
from datacontrols.kinds.organization_groups import OrganizationGroupMembers
from datacontrols.kinds.organization_retention import OrganizationDataRetention
from datacontrols.kinds.organization_user_roles import OrganizationUserRoles
from datacontrols.kinds.project import AUDIT_EVENT_TYPES as PROJECT_EVENT_TYPES
from datacontrols.kinds.project import KIND as PROJECT
from datacontrols.kinds.project_groups import ProjectGroups
from datacontrols.kinds.project_retention import ProjectDataRetention
from datacontrols.kinds.project_users import ProjectUsers
from datacontrols.kinds.rate_limits import ProjectRateLimits
from datacontrols.kinds.role_assignments import OrganizationRoleAssignments, ProjectRoleAssignments
from datacontrols.kinds.service_accounts import ProjectServiceAccounts
from datacontrols.kinds.service_tiers import ProjectServiceTiers
from datacontrols.kinds.spend_alerts import OrganizationSpendAlerts, ProjectSpendAlerts
from datacontrols.kinds.spend_limit import OrganizationSpendLimit, ProjectSpendLimit
from datacontrols.kinds.workload_identity import WorkloadIdentityFederation

__all__ = [
    "ALL_KINDS",
    "NOT_CREATED",
    "ORGANIZATION_KINDS",
    "PROJECT_KINDS",
    "DesiredProject",
    "Kind",
    "OrganizationKind",
    "ProjectKind",
    "Scope",
    "World",
    "audit_event_types",
    "kind_for",
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
    OrganizationAdminKeys(),  # report-only: the tool runs on an admin key, so it never deletes one
    Invites(),
    OrganizationUserRoles(),  # organization.users: owner or reader; never the last owner or the key's own
    OrganizationGroupMembers(),  # organization.groups: groups and their members; SCIM-managed ones reported
    WorkloadIdentityFederation(),  # keyless access as a project's service accounts
    OrganizationCertificates(),  # mTLS: uploaded before any project activates one
    OrganizationRoles(),  # custom roles, created before the assignments that name them
    OrganizationRoleAssignments(),
)

PROJECT_KINDS: tuple[ProjectKind, ...] = (
    ProjectDataRetention(),
    ProjectModelPermissions(),
    ProjectHostedTools(),
    ProjectExternalStorage(),  # report-only: never written
    ProjectServiceTiers(),
    ProjectCertificates(),
    ProjectEncryptionKey(),  # report-only: never written
    ProjectRateLimits(),
    ProjectSpendLimit(),
    ProjectSpendAlerts(),
    ProjectUsers(),
    ProjectGroups(),
    ProjectServiceAccounts(),  # no secret sink by default: accounts are created without a key
    ProjectApiKeys(),
    ProjectRoles(),
    ProjectRoleAssignments(),  # after the members they are given to
)


ALL_KINDS: tuple[Kind, ...] = (*ORGANIZATION_KINDS, *PROJECT_KINDS)


def kind_for(name: str, scope: Scope) -> Kind:
    """The kind of this plan name in this scope (`spend_limit` names one kind in each scope)."""
    for kind in ALL_KINDS:
        if kind.name == name and kind.scope == scope:
            return kind
    raise KeyError(f"{scope}/{name}")


def audit_event_types(kinds: tuple[Kind, ...] = ALL_KINDS) -> dict[str, tuple[str, ...]]:
    """Plan kind name -> the audit-log event types that can record a change to it; () for a kind the audit
    log does not cover. The project lifecycle (`project`) is not a kind object but has its events too."""
    found: dict[str, tuple[str, ...]] = {PROJECT: PROJECT_EVENT_TYPES}
    for kind in kinds:
        found[kind.name] = tuple(dict.fromkeys((*found.get(kind.name, ()), *kind.audit_event_types)))
    return found
