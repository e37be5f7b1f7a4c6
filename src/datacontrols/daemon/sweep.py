"""The organization as the daemon's work queue has read it, part by part, each part as fresh as its last read.

A batch (`queue.Batch`) is read here: the organization's own reads when it is due (the project list, its
settings, the user directory), then the projects of the batch, whole or only their quick controls, through
`engine.observe` given the organization read already (so a project costs its own reads only). What was read
replaces what was held; the rest is kept. `snapshot()` is then the organization as last seen, which the
run plans whole; `targets()` names what it may plan (what has been read at least once) and what it may
write (only what this batch read afresh: a write never follows a stale read).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from datacontrols.adminapi import AdminApi
from datacontrols.desired.schema import DesiredState
from datacontrols.engine import Registry, desired_projects, observe
from datacontrols.kinds import project as project_kind
from datacontrols.kinds.base import ProjectKind
from datacontrols.observed import Observed
from datacontrols.target import Target

__all__ = ["NOT_SWEPT_YET", "Sweep", "quick_kinds"]

NOT_SWEPT_YET: Final = "not read yet: the daemon's first sweep is under way"


def quick_kinds(kinds: tuple[ProjectKind, ...]) -> frozenset[str]:
    """The project controls the audit log does not record: only a read reveals their drift."""
    return frozenset(kind.name for kind in kinds if not kind.audit_event_types)


@dataclass
class Sweep:
    registry: Registry
    organization: Observed | None = None  # the project list and the organization kinds' values
    settings: dict[str, dict[str, Any]] = field(default_factory=dict)  # project id -> kind name -> value
    failures: dict[str, str] = field(default_factory=dict)  # project name -> why its last read failed
    read_whole: set[str] = field(default_factory=set)  # project names read whole at least once
    quick: frozenset[str] = field(init=False)  # the kinds the quick lane reads

    def __post_init__(self) -> None:
        self.quick = quick_kinds(self.registry.project)

    async def read(
        self, api: AdminApi, desired: DesiredState, *, organization: bool, full: frozenset[str], quick: frozenset[str]
    ) -> None:
        """Read the organization (when asked, or never read), then these projects, into what is held."""
        if organization or self.organization is None:
            self.organization = await observe(
                api, desired, self.registry, target=Target(projects=frozenset(), organization=True)
            )
        held = self.organization

        async def read_projects(names: frozenset[str], kinds: frozenset[str] | None) -> Observed | None:
            if not names:
                return None
            return await observe(
                api, desired, self.registry, target=Target(projects=names), organization=held, kinds=kinds
            )

        # Live projects without a file are read (for the organization policy's controls only) with the
        # organization: they are in no lane of the queue.
        outside = self._unmanaged(desired) if organization and desired.organization.policy is not None else set()
        whole, part = await asyncio.gather(
            read_projects(full | outside, None), read_projects(quick - full - outside, self.quick)
        )
        for names, found, replace in ((full | outside, whole, True), (quick - full - outside, part, False)):
            if found is None:
                continue
            for name in names:
                self.failures.pop(name, None)
            self.failures.update(found.failures)
            for project_id, values in found.settings.items():
                if replace:
                    self.settings[project_id] = dict(values)
                else:
                    self.settings.setdefault(project_id, {}).update(values)
        self.read_whole |= {name for name in full if name not in self.failures}
        self._forget_gone()

    def _unmanaged(self, desired: DesiredState) -> frozenset[str]:
        held = self.organization.projects if self.organization is not None else []
        matching = project_kind.match_projects(desired_projects(desired), held)
        return frozenset(live.name or live.id for live in matching.unmanaged)

    def _forget_gone(self) -> None:
        """Drop the values of projects that no longer exist (ids not in the project list)."""
        if self.organization is None:
            return
        live = {p.id for p in self.organization.projects}
        for project_id in [i for i in self.settings if i not in live]:
            del self.settings[project_id]

    def snapshot(self) -> Observed:
        """The organization as last read, in the shape `engine.diff` plans from."""
        held = self.organization or Observed()
        return Observed(
            projects=list(held.projects),
            organization=dict(held.organization),
            settings={project_id: dict(values) for project_id, values in self.settings.items()},
            failures=dict(self.failures),
        )

    def targets(self, desired: DesiredState, *, organization: bool, full: frozenset[str]) -> tuple[Target, Target]:
        """(planned, writable) for a run that read this batch, from one matching of files to live projects.

        Planned: the organization once read, and the projects read whole at least once (plus those with
        nothing to read: not created yet, or not in the files). Writable: the organization's changes and the
        unmanaged projects' when the batch read the organization, and the projects it read whole."""
        if self.organization is None:
            return Target(projects=frozenset(), organization=False, why=NOT_SWEPT_YET), Target(projects=frozenset())
        matching = project_kind.match_projects(desired_projects(desired), self.organization.projects)
        unmanaged = {live.name or live.id for live in matching.unmanaged}
        nothing_to_read = {p.name for p, live in matching.pairs if live is None or live.archived}
        names = frozenset(self.read_whole | self.failures.keys() | nothing_to_read | unmanaged)
        if {p.name for p in desired.projects} <= names:
            planned = Target(projects=None, organization=True)
        else:
            planned = Target(projects=names, organization=True, why=NOT_SWEPT_YET)
        writable = Target(projects=frozenset(full | (unmanaged if organization else set())), organization=organization)
        return planned, writable

    def project_names_by_id(self) -> Mapping[str, str]:
        held = self.organization
        return {p.id: p.name or p.id for p in held.projects} if held is not None else {}
