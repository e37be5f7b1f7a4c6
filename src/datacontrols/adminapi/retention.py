"""Organization and project data retention (`/organization/data_retention` and per project).

The API writes `retention_type` and reads back `type`; this module hides that asymmetry.
"""

from __future__ import annotations

from typing import Literal

from datacontrols.adminapi.base import ApiModel, Family, parse
from datacontrols.adminapi.transport import route

__all__ = [
    "ORGANIZATION_RETENTION_TYPES",
    "PROJECT_RETENTION_TYPES",
    "DataRetention",
    "OrganizationDataRetention",
    "ProjectDataRetention",
]

OrganizationRetentionType = Literal[
    "zero_data_retention",
    "modified_abuse_monitoring",
    "enhanced_zero_data_retention",
    "enhanced_modified_abuse_monitoring",
]
ProjectRetentionType = Literal[
    "organization_default",
    "none",
    "zero_data_retention",
    "modified_abuse_monitoring",
    "enhanced_zero_data_retention",
    "enhanced_modified_abuse_monitoring",
]
ORGANIZATION_RETENTION_TYPES: tuple[str, ...] = OrganizationRetentionType.__args__  # type: ignore[attr-defined]
PROJECT_RETENTION_TYPES: tuple[str, ...] = ProjectRetentionType.__args__  # type: ignore[attr-defined]

ORG_PATH = "/organization/data_retention"
PROJECT_PATH = "/organization/projects/{project_id}/data_retention"


class OrganizationDataRetention(ApiModel):
    object: str = "organization.data_retention"
    type: str  # read as a string: an unknown future value must not crash a run


class ProjectDataRetention(ApiModel):
    object: str = "project.data_retention"
    type: str


class DataRetention(Family):
    async def get_organization(self) -> OrganizationDataRetention:
        where = route(ORG_PATH)
        return parse(OrganizationDataRetention, await self._t.get(where), where)

    async def update_organization(self, retention_type: str) -> OrganizationDataRetention:
        async def recheck() -> OrganizationDataRetention | None:
            observed = await self.get_organization()
            return observed if observed.type == retention_type else None

        where = route(ORG_PATH)
        data = await self._t.write("POST", where, body={"retention_type": retention_type}, recheck=recheck)
        return parse(OrganizationDataRetention, data, where)

    async def get_project(self, project_id: str) -> ProjectDataRetention:
        where = route(PROJECT_PATH, project_id=project_id)
        return parse(ProjectDataRetention, await self._t.get(where), where)

    async def update_project(self, project_id: str, retention_type: str) -> ProjectDataRetention:
        async def recheck() -> ProjectDataRetention | None:
            observed = await self.get_project(project_id)
            return observed if observed.type == retention_type else None

        where = route(PROJECT_PATH, project_id=project_id)
        data = await self._t.write("POST", where, body={"retention_type": retention_type}, recheck=recheck)
        return parse(ProjectDataRetention, data, where)
