"""A project's model policy: an allow list, a deny list, or none (`unrestricted`).

The API replaces the policy whole and treats the ids as a set, so the comparison does too. Removing a
policy or widening access is critical; so is finding live access wider than desired.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from datacontrols.adminapi.permissions import ModelPermissions
from datacontrols.desired.schema import ModelPolicy
from datacontrols.kinds.base import NOT_CREATED, DesiredProject, NotExportable, ProjectKind, World
from datacontrols.kinds.protection import widened_models, withdrawn_models
from datacontrols.plan import Change, Facts, FieldChange, required

if TYPE_CHECKING:
    from datacontrols.adminapi import AdminApi
    from datacontrols.adminapi.projects import Project

__all__ = ["ModelPermissionFacts", "ProjectModelPermissions"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelPermissionFacts(Facts):
    """What a create or update sets: the mode and its model ids (None on a delete)."""

    mode: str | None = None
    model_ids: tuple[str, ...] = ()


class ProjectModelPermissions(ProjectKind):
    name = "project_model_permissions"
    group = "model_permissions"
    order = 11
    audit_event_types = ()
    exports = True

    def manages(self, project: DesiredProject) -> bool:
        return project.settings.model_permissions is not None

    async def observe(self, api: AdminApi, project: Project) -> ModelPermissions | None:
        return await api.model_permissions.get(project.id)

    def export(self, observed: Any) -> dict[str, Any] | None:
        if observed is None:
            return {"model_permissions": "unrestricted"}
        if not isinstance(observed, ModelPermissions):
            return None
        ids = sorted(set(observed.model_ids))  # a set for the API; sorted for a stable file
        if observed.mode == "allow_list" and not ids:
            raise NotExportable(
                "the live policy is an empty allow list (every model blocked), which a file cannot hold"
            )
        return {"model_permissions": {"mode": observed.mode, "model_ids": ids}}

    def compare(self, project: DesiredProject, observed: Any, world: World) -> list[Change]:
        want = project.settings.model_permissions
        if want is None:
            return []
        new = observed is NOT_CREATED
        live: ModelPermissions | None = None if new else observed
        before_mode = live.mode if live else None
        before_ids = sorted(set(live.model_ids)) if live else None  # a set: order and repeats mean nothing

        if want == "unrestricted":
            if live is None:
                return []
            return [
                self._change(
                    "delete",
                    project,
                    before_mode,
                    None,
                    before_ids,
                    None,
                    "removes the model policy: every model becomes usable",
                )
            ]

        assert isinstance(want, ModelPolicy)
        after_ids = sorted(want.model_ids)
        if live is not None and live.mode == want.mode and before_ids == after_ids:
            return []
        if live is None:
            reason = "set on the new project" if new else "the project has no model policy: every model is usable"
            return [self._change("create", project, None, want.mode, None, after_ids, reason, new=new)]
        return [
            self._change(
                "update",
                project,
                before_mode,
                want.mode,
                before_ids,
                after_ids,
                _describe(live.mode, set(live.model_ids), want.mode, set(want.model_ids)),
            )
        ]

    def _change(
        self,
        action: str,
        project: DesiredProject,
        before_mode: str | None,
        after_mode: str | None,
        before_ids: list[str] | None,
        after_ids: list[str] | None,
        reason: str,
        *,
        new: bool = False,
    ) -> Change:
        """`new`: the project is created by the same plan, so no traffic can be cut off yet."""
        fields = {}
        if before_mode != after_mode:
            fields["mode"] = FieldChange(before_mode, after_mode)
        if before_ids != after_ids:
            fields["model_ids"] = FieldChange(before_ids, after_ids)
        before = (before_mode, frozenset(before_ids or ())) if before_mode is not None else None
        after = (after_mode, frozenset(after_ids or ())) if after_mode is not None else None
        return Change(
            action=action,  # type: ignore[arg-type]
            kind=self.name,
            project=project.name,
            fields=fields,
            reason=reason,
            order=11,
            weakens=widened_models(before, after),
            disrupts=None if new else withdrawn_models(before, after),
            exposes=None if new else widened_models(after, before),  # what live allows that the files do not
            facts=ModelPermissionFacts(mode=after_mode, model_ids=tuple(after_ids or ())),
        )

    async def apply(self, api: AdminApi, change: Change, project_id: str) -> None:
        if change.action == "delete":
            await api.model_permissions.delete(project_id)
        else:
            facts = change.facts_as(ModelPermissionFacts)
            mode = required(facts.mode, "mode")
            await api.model_permissions.update(project_id, mode=mode, model_ids=list(facts.model_ids))


def _describe(before_mode: str, before: set[str], after_mode: str, after: set[str]) -> str:
    if before_mode != after_mode:
        return f"switches from {before_mode} to {after_mode}"
    added, removed = sorted(after - before), sorted(before - after)
    parts = []
    if added:
        parts.append(f"adds {', '.join(added)}")
    if removed:
        parts.append(f"removes {', '.join(removed)}")
    verb = "allow list" if after_mode == "allow_list" else "deny list"
    return f"{verb} {' and '.join(parts)}"
