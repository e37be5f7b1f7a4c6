"""Organization and project data retention: write `retention_type`, read back `type`.

Writes of a value OpenAI has not approved for the organization (`approved_retention_types`) are refused with
403 `not_approved`. At project level the two values that need no approval, `organization_default` and
`none`, are always accepted.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from datacontrols.adminapi.retention import (
    OrganizationDataRetention,
    OrganizationRetentionType,
    ProjectDataRetention,
    ProjectRetentionType,
)
from datacontrols.emulator.errors import ApiFailure
from datacontrols.emulator.routing import ApiRoute, Call

__all__ = ["ROUTES"]

ORG = "/organization/data_retention"
PROJECT = "/organization/projects/{project_id}/data_retention"
_NEEDS_NO_APPROVAL = frozenset({"organization_default", "none"})


class _OrganizationBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    retention_type: OrganizationRetentionType


class _ProjectBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    retention_type: ProjectRetentionType


def _check_approved(call: Call, value: str) -> None:
    if value not in _NEEDS_NO_APPROVAL and value not in call.state.organization.approved_retention_types:
        raise ApiFailure.not_approved("data retention", value, param="retention_type")


def get_organization(call: Call) -> dict[str, Any]:
    return OrganizationDataRetention(type=call.state.organization.data_retention).model_dump(mode="json")


def update_organization(call: Call) -> dict[str, Any]:
    body = call.body(_OrganizationBody)
    _check_approved(call, body.retention_type)
    call.state.organization.data_retention = body.retention_type
    return get_organization(call)


def get_project(call: Call) -> dict[str, Any]:
    return ProjectDataRetention(type=call.project().data_retention).model_dump(mode="json")


def update_project(call: Call) -> dict[str, Any]:
    project = call.writable_project()
    body = call.body(_ProjectBody)
    _check_approved(call, body.retention_type)
    project.data_retention = body.retention_type
    return get_project(call)


ROUTES = (
    ApiRoute("GET", ORG, get_organization),
    ApiRoute("POST", ORG, update_organization),
    ApiRoute("GET", PROJECT, get_project),
    ApiRoute("POST", PROJECT, update_project),
)
