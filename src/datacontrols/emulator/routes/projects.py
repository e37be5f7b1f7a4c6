"""Projects: list (style A pagination), create, retrieve, modify, archive.

- The list is in creation order; `after` is the id of the last project of the previous page, `limit` is
  1..100 (default 20), archived projects are left out unless `include_archived=true`.
- Residency is chosen at creation only (default `GLOBAL`); modify takes `name` and `external_key_id` only.
  `name: null` leaves the name as it is, `external_key_id: null` clears the key.
- The default project and archived projects cannot be modified (400). Archiving is one-way; archiving an
  archived project answers the project unchanged; the default project cannot be archived (400).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, StringConstraints

from datacontrols.adminapi.projects import Project, Residency
from datacontrols.emulator.errors import ApiFailure
from datacontrols.emulator.paging import envelope_a
from datacontrols.emulator.routing import ApiRoute, Call
from datacontrols.emulator.state import ProjectRecord

__all__ = ["ROUTES", "new_project_id", "project_object"]

LIST = "/organization/projects"
ONE = "/organization/projects/{project_id}"
ARCHIVE = "/organization/projects/{project_id}/archive"

Name = Annotated[str, StringConstraints(min_length=1)]


class _CreateBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    name: Name
    residency: Residency | None = None
    external_key_id: str | None = None


class _ModifyBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    name: Name | None = None
    external_key_id: str | None = None


def project_object(project: ProjectRecord) -> dict[str, Any]:
    """The spec's `Project` object."""
    return Project(
        id=project.id,
        name=project.name,
        created_at=project.created_at,
        archived_at=project.archived_at,
        status=project.status,
        external_key_id=project.external_key_id,
        residency=project.residency,
    ).model_dump(mode="json", exclude={"geography"})


def new_project_id(call: Call) -> str:
    return call.ids.unused("proj_", call.state.projects)


def list_projects(call: Call) -> dict[str, Any]:
    limit = call.int_query("limit", default=20, minimum=1, maximum=100)
    include_archived = call.bool_query("include_archived", default=False)
    projects = list(call.state.projects.values())
    after = call.query.get("after")
    if after is not None:
        if after not in call.state.projects:
            raise ApiFailure.bad_request(
                f"Invalid 'after': no project with id '{after}'.", param="after", code="invalid_value"
            )
        projects = projects[list(call.state.projects).index(after) + 1 :]
    visible = [p for p in projects if include_archived or not p.archived]
    return envelope_a([project_object(p) for p in visible[:limit]], len(visible) > limit)


def create_project(call: Call) -> dict[str, Any]:
    body = call.body(_CreateBody)
    residency = body.residency or "GLOBAL"
    approved = call.state.organization.approved_residencies
    if approved is not None and residency != "GLOBAL" and residency not in approved:
        raise ApiFailure.not_approved("residency", residency, param="residency")
    project = ProjectRecord(
        id=new_project_id(call),
        name=body.name,
        created_at=call.now,
        residency=residency,
        external_key_id=body.external_key_id,
    )
    call.state.projects[project.id] = project
    call.record_event(
        "project.created", project_id=project.id, details={"id": project.id, "data": {"name": project.name}}
    )
    return project_object(project)


def retrieve_project(call: Call) -> dict[str, Any]:
    return project_object(call.project())


def modify_project(call: Call) -> dict[str, Any]:
    project = call.writable_project()
    if project.default:
        raise ApiFailure.bad_request(
            "The default project cannot be modified.", param="project_id", code="default_project_immutable"
        )
    if "residency" in call.json():
        raise ApiFailure.bad_request(
            "Unrecognized request argument supplied: residency. "
            "A project's residency can only be chosen when it is created.",
            param="residency",
            code="unknown_parameter",
        )
    body = call.body(_ModifyBody)
    changes: dict[str, Any] = {}
    if body.name is not None:
        project.name = body.name
        changes["title"] = body.name
    if "external_key_id" in body.model_fields_set:
        project.external_key_id = body.external_key_id
        changes["external_key_id"] = body.external_key_id
    call.record_event(
        "project.updated", project_id=project.id, details={"id": project.id, "changes_requested": changes}
    )
    return project_object(project)


def archive_project(call: Call) -> dict[str, Any]:
    project = call.project()
    if project.default:
        raise ApiFailure.bad_request(
            "The default project cannot be archived.", param="project_id", code="default_project_immutable"
        )
    if not project.archived:
        project.status = "archived"
        project.archived_at = call.now
        call.record_event("project.archived", project_id=project.id, details={"id": project.id})
    return project_object(project)


ROUTES = (
    ApiRoute("GET", LIST, list_projects),
    ApiRoute("POST", LIST, create_project),
    ApiRoute("GET", ONE, retrieve_project),
    ApiRoute("POST", ONE, modify_project),
    ApiRoute("POST", ARCHIVE, archive_project),
)
