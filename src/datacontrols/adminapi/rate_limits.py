"""Project rate limits (`/organization/projects/{project_id}/rate_limits`): list and update.

The API keeps one row per model and project, created by OpenAI: rows can be listed and updated, never
created or deleted, and there is no GET of a single row. A row's id is opaque (examples show both `rl-ada`
and `rl_xxx`), so callers key rows by `model` and take the id from the list, never build one.
Updates are partial: only the fields sent change.
"""

from __future__ import annotations

from typing import Final

from datacontrols.adminapi.base import ApiModel, Family, parse
from datacontrols.adminapi.transport import route

__all__ = ["RATE_LIMIT_FIELDS", "ProjectRateLimit", "RateLimits"]

# The limits a row can carry, in the spec's order; the last four are "only present for relevant models".
RATE_LIMIT_FIELDS: Final[tuple[str, ...]] = (
    "max_requests_per_1_minute",
    "max_tokens_per_1_minute",
    "max_images_per_1_minute",
    "max_audio_megabytes_per_1_minute",
    "max_requests_per_1_day",
    "batch_1_day_max_input_tokens",
)

LIST_PATH = "/organization/projects/{project_id}/rate_limits"
ONE_PATH = "/organization/projects/{project_id}/rate_limits/{rate_limit_id}"


class ProjectRateLimit(ApiModel):
    object: str = "project.rate_limit"
    id: str
    model: str
    # The first two are required by the spec; read leniently all the same, so a row that lacks one (a model
    # measured only in images, say) is still readable and the missing limit reads as "not present".
    max_requests_per_1_minute: int | None = None
    max_tokens_per_1_minute: int | None = None
    max_images_per_1_minute: int | None = None
    max_audio_megabytes_per_1_minute: int | None = None
    max_requests_per_1_day: int | None = None
    batch_1_day_max_input_tokens: int | None = None

    def limits(self) -> dict[str, int]:
        """The limits this row has (field name -> value); absent ones are left out."""
        values = {name: getattr(self, name) for name in RATE_LIMIT_FIELDS}
        return {name: value for name, value in values.items() if value is not None}


class RateLimits(Family):
    async def list(self, project_id: str) -> list[ProjectRateLimit]:
        """Every row of the project, one per model, following pagination to its end."""
        where = route(LIST_PATH, project_id=project_id)
        return [parse(ProjectRateLimit, row, where) async for row in self._t.paginate(where)]

    async def update(self, project_id: str, rate_limit_id: str, limits: dict[str, int]) -> ProjectRateLimit:
        """Set the limits named in `limits` (field -> value) on one row; the others stay as they are."""
        unknown = set(limits) - set(RATE_LIMIT_FIELDS)
        if unknown:
            raise ValueError(f"unknown rate-limit fields {sorted(unknown)}")

        async def recheck() -> ProjectRateLimit | None:
            rows = [row for row in await self.list(project_id) if row.id == rate_limit_id]
            done = bool(rows) and all(rows[0].limits().get(name) == value for name, value in limits.items())
            return rows[0] if done else None

        where = route(ONE_PATH, project_id=project_id, rate_limit_id=rate_limit_id)
        data = await self._t.write("POST", where, body=dict(limits), recheck=recheck)
        return parse(ProjectRateLimit, data, where)
