"""A project's per-model rate limits (`project_rate_limit`).

The API holds one row per model, created by OpenAI; rows can only be updated. So:
- a desired model without a live row is a `report` (the API cannot create it: the model name is wrong, or
  the project cannot use that model), and the rest of the plan goes on;
- only the fields the desired state names are compared and sent (the update is partial); a named field the
  row does not have (images on a text model) is reported too, the others of that model are still planned;
- removing a model from the file stops managing it: nothing is "reset", as there is no delete.

Severity: lowering limits tightens (`low`); raising any limit loosens (`high`).

Export writes every row the project has, each model with all its limits (the API does not say which were
changed from the organization's), and only when asked (`reconcile export --rate-limits`): managing them
costs each later plan one paginated read per project, under a budget of a few requests a minute.
Each change's `subject` is the model; `RateLimitFacts` carry the row id (absent on a project not created yet: apply
then looks the row up by model, after the creation).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from datacontrols.adminapi.rate_limits import ProjectRateLimit
from datacontrols.errors import NotFound
from datacontrols.kinds.base import NOT_CREATED, DesiredProject, ProjectKind, World
from datacontrols.plan import Change, Facts, FieldChange

if TYPE_CHECKING:
    from datacontrols.adminapi import AdminApi
    from datacontrols.adminapi.projects import Project

__all__ = ["ProjectRateLimits", "RateLimitFacts"]


@dataclass(frozen=True, slots=True, kw_only=True)
class RateLimitFacts(Facts):
    """The model's rate-limit row apply updates: None when the project is yet to be created (apply finds
    the row once it exists)."""

    model: str
    rate_limit_id: str | None = None


class ProjectRateLimits(ProjectKind):
    name = "project_rate_limit"
    group = "limits"
    order = 16
    audit_event_types = ("rate_limit.updated", "rate_limit.deleted")
    exports = True
    export_by_default = False

    def manages(self, project: DesiredProject) -> bool:
        return bool(project.settings.rate_limits)

    async def observe(self, api: AdminApi, project: Project) -> list[ProjectRateLimit]:
        return await api.rate_limits.list(project.id)

    def compare(self, project: DesiredProject, observed: Any, world: World) -> list[Change]:
        wanted = project.settings.rate_limits or {}
        new = observed is NOT_CREATED
        rows: dict[str, ProjectRateLimit] = {}
        for row in [] if new else observed:
            rows.setdefault(row.model, row)  # one row per model; a repeat would be the API's bug: first wins
        changes: list[Change] = []
        for model, limits in sorted(wanted.items()):
            want = limits.limits()
            if new:
                changes.append(self._set_on_new_project(project, model, want))
                continue
            row = rows.get(model)
            if row is None:
                changes.append(self._no_row(project, model, sorted(rows)))
                continue
            live = row.limits()
            missing = sorted(name for name in want if name not in live)
            if missing:
                changes.append(self._no_such_limit(project, model, missing))
            fields = {
                name: FieldChange(live[name], value)
                for name, value in sorted(want.items())
                if name in live and live[name] != value
            }
            if fields:
                changes.append(self._update(project, model, row.id, fields))
        return changes

    def _update(self, project: DesiredProject, model: str, row_id: str, fields: dict[str, FieldChange]) -> Change:
        raised = sorted(name for name, fc in fields.items() if fc.after > fc.before)
        lowered = sorted(name for name, fc in fields.items() if fc.after < fc.before)
        reason = f"raises {', '.join(raised)}" if raised else "lowers the model's limits"
        disrupts = f"lowers {', '.join(lowered)} for {model}: requests over it are refused (429)" if lowered else None
        return Change(
            action="update",
            kind=self.name,
            project=project.name,
            subject=model,
            fields=fields,
            reason=reason,
            order=16,
            facts=RateLimitFacts(rate_limit_id=row_id, model=model),
            disrupts=disrupts,
        )

    def _set_on_new_project(self, project: DesiredProject, model: str, want: dict[str, int]) -> Change:
        return Change(
            action="update",
            kind=self.name,
            project=project.name,
            subject=model,
            fields={name: FieldChange(None, value) for name, value in sorted(want.items())},
            reason="set on the new project (its rate-limit rows appear when it is created)",
            order=16,
            facts=RateLimitFacts(model=model),
        )

    def _no_row(self, project: DesiredProject, model: str, models: list[str]) -> Change:
        known = f" (it has rows for {', '.join(models)})" if models else ""
        return Change(
            action="report",
            kind=self.name,
            order=self.order,
            project=project.name,
            subject=model,
            severity="normal",
            reason=(
                f"the project has no rate-limit row for {model}{known}; rows are created by OpenAI, one per model "
                "the project can use, so this limit cannot be set: check the model name"
            ),
        )

    def _no_such_limit(self, project: DesiredProject, model: str, missing: list[str]) -> Change:
        return Change(
            action="report",
            kind=self.name,
            order=self.order,
            project=project.name,
            subject=model,
            severity="normal",
            reason=f"{model} has no {', '.join(missing)} limit, so it cannot be set; remove it from the file",
        )

    def export(self, observed: Any) -> dict[str, Any] | None:
        rows: dict[str, dict[str, int]] = {}
        for row in observed:
            if (limits := row.limits()) and row.model not in rows:  # first row wins, as in compare
                rows[row.model] = limits
        return {"rate_limits": dict(sorted(rows.items()))} if rows else None

    async def apply(self, api: AdminApi, change: Change, project_id: str) -> None:
        facts = change.facts_as(RateLimitFacts)
        model, row_id = facts.model, facts.rate_limit_id
        if row_id is None:  # planned before the project existed: its rows exist now, find this model's
            rows = [row for row in await api.rate_limits.list(project_id) if row.model == model]
            if not rows:
                raise NotFound(f"the project has no rate-limit row for {model}; it cannot be set")
            row = rows[0]
            unknown = sorted(set(change.fields) - set(row.limits()))
            if unknown:
                raise NotFound(f"{model} has no {', '.join(unknown)} limit; it cannot be set")
            row_id = row.id
        await api.rate_limits.update(project_id, row_id, {name: fc.after for name, fc in change.fields.items()})
