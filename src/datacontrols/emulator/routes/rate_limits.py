"""Project rate limits: list (style A pagination) and partial update; rows cannot be created or deleted.

- Every project has one row per model of the organization's `model_rate_limits` (a fixed, documented list by
  default, see `state.py`; a seed can change it). A row's values are the organization's, except the limits
  set on that project (`ProjectRecord.rate_limits`), so a project created through the API has its rows at
  once, as with the real API, where OpenAI creates them.
- Row ids are opaque and stable: derived from the project id and the model, so they survive a dump and a
  reload, and a client that builds ids from model names (`rl-gpt-4.1`) gets a 404, not a lucky match.
- `limit` defaults to 100 and has no maximum (the spec states none); `after` / `before` take a row id.
- An update is partial: the fields sent change, the others stay. Each value must be at least 1, must be a
  limit the model has (`max_images_per_1_minute` on a text model is a 400), and may not exceed the
  organization's limit for the model (400): a project can be held below the organization, not lifted above
  it. This is an assumption: the spec documents a 400 and nothing more; REFERENCE.md section 16 infers it.
- An accepted update with at least one field records the spec's `rate_limit.updated` audit event; an
  archived project refuses writes (400).
"""

from __future__ import annotations

import hashlib
from typing import Any

from pydantic import ConfigDict, create_model

from datacontrols.adminapi.rate_limits import RATE_LIMIT_FIELDS, ProjectRateLimit
from datacontrols.emulator.errors import ApiFailure
from datacontrols.emulator.paging import style_a_page
from datacontrols.emulator.routing import ApiRoute, Call, WholeNumber
from datacontrols.emulator.state import ProjectRecord

__all__ = ["ROUTES", "rate_limit_id", "rate_limit_rows"]

LIST = "/organization/projects/{project_id}/rate_limits"
ONE = "/organization/projects/{project_id}/rate_limits/{rate_limit_id}"


# The update body takes exactly the limits a row carries (the client's list, in the spec's order), each optional.
_UPDATE_FIELDS: dict[str, Any] = {name: (WholeNumber | None, None) for name in RATE_LIMIT_FIELDS}
_UpdateBody = create_model("_UpdateBody", __config__=ConfigDict(extra="forbid", strict=True), **_UPDATE_FIELDS)


def rate_limit_id(project_id: str, model: str) -> str:
    """The id of a project's row for `model`: stable, opaque, not guessable from the model name alone."""
    return "rl_" + hashlib.sha256(f"{project_id}\n{model}".encode()).hexdigest()[:24]


def rate_limit_rows(call: Call, project: ProjectRecord) -> list[dict[str, Any]]:
    """The project's rows, in the organization's model order, as the spec's `ProjectRateLimit` objects."""
    rows = []
    for model, organization_limits in call.state.organization.model_rate_limits.items():
        values = {**organization_limits, **project.rate_limits.get(model, {})}
        row = ProjectRateLimit(id=rate_limit_id(project.id, model), model=model, **values)
        rows.append(row.model_dump(mode="json", exclude_none=True))  # optional limits only where relevant
    return rows


def list_rate_limits(call: Call) -> dict[str, Any]:
    project = call.project()
    # The spec gives `limit` a default (100) and no range, so no maximum is enforced.
    limit = call.int_query("limit", default=100, minimum=1, maximum=None)
    return style_a_page(call, rate_limit_rows(call, project), limit, "rate limit")


def update_rate_limit(call: Call) -> dict[str, Any]:
    project = call.writable_project()
    wanted = call.params["rate_limit_id"]
    model = next((m for m in call.state.organization.model_rate_limits if rate_limit_id(project.id, m) == wanted), None)
    if model is None:
        raise ApiFailure.not_found(f"No rate limit found with id '{wanted}'.", param="rate_limit_id")
    body = call.body(_UpdateBody)
    requested = {name: getattr(body, name) for name in RATE_LIMIT_FIELDS if getattr(body, name) is not None}
    ceiling = call.state.organization.model_rate_limits[model]
    for name, value in requested.items():  # all checked before any is applied: a refused update changes nothing
        if name not in ceiling:
            raise ApiFailure.bad_request(
                f"Invalid '{name}': model '{model}' has no such rate limit.", param=name, code="invalid_value"
            )
        if value < 1:
            raise ApiFailure.bad_request(f"Invalid '{name}': must be at least 1.", param=name, code="invalid_value")
        if value > ceiling[name]:
            raise ApiFailure.bad_request(
                f"Invalid '{name}': cannot exceed the organization's limit of {ceiling[name]} for model '{model}'.",
                param=name,
                code="invalid_value",
            )
    if requested:
        project.rate_limits.setdefault(model, {}).update(requested)
        call.record_event(
            "rate_limit.updated",
            project_id=project.id,
            details={"id": wanted, "changes_requested": dict(requested)},
        )
    return next(row for row in rate_limit_rows(call, project) if row["id"] == wanted)


ROUTES = (
    ApiRoute("GET", LIST, list_rate_limits),
    ApiRoute("POST", ONE, update_rate_limit),
)
