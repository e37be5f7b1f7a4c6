"""The registry of managed kinds. Adding a control is one module here and one line below.

Order matters only for reading the plan: apply orders changes by project and `Change.order`.
"""

from __future__ import annotations

from datacontrols.kinds.base import (
    NOT_CREATED,
    DesiredProject,
    Kind,
    OrganizationKind,
    ProjectKind,
    World,
)
from datacontrols.kinds.hosted_tools import ProjectHostedTools
from datacontrols.kinds.model_permissions import ProjectModelPermissions
from datacontrols.kinds.organization_retention import OrganizationDataRetention
from datacontrols.kinds.project_retention import ProjectDataRetention

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

ORGANIZATION_KINDS: tuple[OrganizationKind, ...] = (OrganizationDataRetention(),)

PROJECT_KINDS: tuple[ProjectKind, ...] = (
    ProjectDataRetention(),
    ProjectModelPermissions(),
    ProjectHostedTools(),
)


def kind_by_name(name: str) -> Kind:
    for kind in (*ORGANIZATION_KINDS, *PROJECT_KINDS):
        if kind.name == name:
            return kind
    raise KeyError(name)
