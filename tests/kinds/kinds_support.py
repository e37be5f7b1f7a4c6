"""Builders the kind tests share: desired and observed values made directly from the pydantic models.

A module of its own (not conftest): importing from conftest is ambiguous when several test directories have one.
"""

from __future__ import annotations

from typing import Any

from datacontrols.adminapi.permissions import HOSTED_TOOLS, ModelPermissions
from datacontrols.adminapi.projects import Project
from datacontrols.desired.schema import DesiredState, ModelPolicy, OrganizationFile, ProjectDefaults, ProjectFile
from datacontrols.kinds.base import DesiredProject, World
from datacontrols.kinds.organization_retention import OrganizationDataRetention


def desired_project(defaults: ProjectDefaults | None = None, **file: Any) -> DesiredProject:
    """A project file (keywords as in YAML) with `project_defaults` merged the way the engine merges them."""
    project = ProjectFile(**file)
    state = DesiredState(
        organization=OrganizationFile(project_defaults=defaults or ProjectDefaults()), projects=(project,)
    )
    return DesiredProject(file=project, settings=state.effective(project))


def world(organization_retention: Any = None) -> World:
    """What project kinds may consult; `organization_retention` as observed (None: not read)."""
    observed = {} if organization_retention is None else {OrganizationDataRetention.name: organization_retention}
    return World(desired=DesiredState(), organization=observed)


def live_project(project_id: str, name: str | None, **fields: Any) -> Project:
    return Project(id=project_id, name=name, **fields)


def policy(mode: str, *model_ids: str) -> ModelPolicy:
    return ModelPolicy(mode=mode, model_ids=list(model_ids))  # type: ignore[arg-type]


def permissions(mode: str, *model_ids: str) -> ModelPermissions:
    return ModelPermissions(mode=mode, model_ids=list(model_ids))


def tools(*enabled: str) -> dict[str, bool]:
    """Observed hosted tools as the kind reads them: all five, these enabled."""
    return {tool: tool in enabled for tool in HOSTED_TOOLS}
