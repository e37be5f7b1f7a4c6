"""Projects themselves: matching desired to live, create, rename, external key, archive, residency.

Matching is by `id` when the file pins one, else by name among live projects. Ambiguity (two live active
projects with one name, a pinned id that does not exist) is never guessed at: it becomes an
`uncorrectable` change that names the way out. Residency cannot change after creation, so a difference is
`uncorrectable`; this tool never archives and re-creates a project to "fix" it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from datacontrols.kinds.base import ARCHIVE_ORDER, CREATE_ORDER, DesiredProject
from datacontrols.plan import OTHER_ID, Change, Facts, FieldChange, required

if TYPE_CHECKING:
    from datacontrols.adminapi import AdminApi
    from datacontrols.adminapi.one_writer import Claim
    from datacontrols.adminapi.projects import Project

__all__ = [
    "AUDIT_EVENT_TYPES",
    "KIND",
    "Matching",
    "ProjectFacts",
    "apply_project_change",
    "compare_project",
    "compare_unmanaged",
    "match_projects",
]

KIND = "project"
# The project lifecycle's changes run first (create, rename: CREATE_ORDER) and last (archive: ARCHIVE_ORDER);
# every kind's changes on the project lie between.
AUDIT_EVENT_TYPES = ("project.created", "project.updated", "project.archived", "project.deleted")


@dataclass(frozen=True, slots=True, kw_only=True)
class ProjectFacts(Facts):
    """A project lifecycle change: the live project it is about (None on a create), and what a create sends
    that is fixed at creation (residency) or names another thing (the customer-managed key)."""

    residency: str | None = None
    external_key_id: str | None = field(default=None, metadata=OTHER_ID)

    def resource_ids(self) -> frozenset[str]:
        # The project is what a lifecycle change is about: its id matches the project's audit events.
        return frozenset({self.project_id}) if self.project_id else frozenset()


@dataclass
class Matching:
    """The outcome of pairing desired projects with live ones."""

    pairs: list[tuple[DesiredProject, Project | None]] = field(default_factory=list)
    unmanaged: list[Project] = field(default_factory=list)
    unmatchable: list[Change] = field(default_factory=list)
    # Desired name -> ids of archived live projects of that name, for projects that will be created anew.
    archived_namesakes: dict[str, list[str]] = field(default_factory=dict)


def match_projects(desired: list[DesiredProject], live: list[Project]) -> Matching:
    """Pair each desired project with its live project (or None: to be created). Pure.

    Pins are matched before names, so a project claimed by a pin is never a name candidate, whatever the
    order of the files; `pairs` keeps the order of `desired`, `unmanaged` is sorted by id.
    """
    result = Matching()
    by_id = {p.id: p for p in live}
    active_by_name: dict[str, list[Project]] = {}
    for p in live:
        if not p.archived and p.name is not None:
            active_by_name.setdefault(p.name, []).append(p)
    pin_count = Counter(p.file.id for p in desired if p.file.id is not None)
    claimed = {pin for pin in pin_count if pin in by_id}
    paired: dict[int, tuple[DesiredProject, Project | None]] = {}

    for index, project in enumerate(desired):
        pin = project.file.id
        if pin is None:
            continue
        if pin_count[pin] > 1:
            result.unmatchable.append(
                _uncorrectable(project.name, f"{pin_count[pin]} files pin id {pin}; a project has one file")
            )
            continue
        match = by_id.get(pin)
        if match is None:
            result.unmatchable.append(
                _uncorrectable(
                    project.name,
                    f"the file pins id {pin}, which is not a project of this organization; "
                    "remove `id:` to match by name, or correct it",
                )
            )
            continue
        paired[index] = (project, match)

    for index, project in enumerate(desired):
        if project.file.id is not None:
            continue
        candidates = [p for p in active_by_name.get(project.name, []) if p.id not in claimed]
        if len(candidates) > 1:
            ids = ", ".join(sorted(p.id for p in candidates))
            result.unmatchable.append(
                _uncorrectable(
                    project.name,
                    f"{len(candidates)} live projects are named {project.name!r} ({ids}); pin one with `id:`",
                )
            )
            claimed.update(p.id for p in candidates)
            continue
        match = candidates[0] if candidates else None
        if match is not None:
            claimed.add(match.id)
        else:
            archived = sorted(p.id for p in live if p.archived and p.name == project.name)
            if archived:
                result.archived_namesakes[project.name] = archived
        paired[index] = (project, match)

    result.pairs = [paired[index] for index in sorted(paired)]
    result.unmanaged = sorted((p for p in live if p.id not in claimed and not p.archived), key=lambda p: p.id)
    return result


def compare_project(
    project: DesiredProject, live: Project | None, archived_namesakes: Sequence[str] = ()
) -> list[Change]:
    """The lifecycle changes for one desired project. Pure.

    `archived_namesakes`: archived live projects with the desired name. Archive is one-way, so a project
    archived by hand is created anew; the plan says so, loudly, because its members, keys and history stay
    with the archived one.
    """
    want = project.file
    if live is None:
        if want.status == "archived":
            return []  # nothing to archive, and nothing worth creating only to archive it
        created = {"name": FieldChange(None, want.name)}
        if want.residency is not None:
            created["residency"] = FieldChange(None, want.residency)
        if want.manages_external_key and want.external_key_id is not None:
            created["external_key_id"] = FieldChange(None, want.external_key_id)
        return [
            Change(
                action="create",
                kind=KIND,
                order=CREATE_ORDER,
                project=want.name,
                fields=created,
                reason=(
                    f"declared in the desired state and not present live: {', '.join(archived_namesakes)} of this "
                    "name is archived (archive is one-way), so a new project is created"
                    if archived_namesakes
                    else "declared in the desired state and not present live"
                ),
                facts=ProjectFacts(residency=want.residency, external_key_id=want.external_key_id),
            )
        ]

    facts = ProjectFacts(project_id=live.id)
    if live.archived:
        if want.status == "archived":
            return []
        return [
            _uncorrectable(
                want.name,
                "the live project is archived and archive is one-way; set `status: archived` or remove the `id:` "
                "pin so a new project is created",
                facts,
            )
        ]

    if want.status == "archived":
        # The attributes of a project being archived no longer matter: only the archive is planned.
        return [
            Change(
                action="archive",
                kind=KIND,
                project=want.name,
                fields={"status": FieldChange("active", "archived")},
                reason="status: archived in the desired state; archiving is one-way",
                facts=facts,
                order=ARCHIVE_ORDER,
                disrupts=ARCHIVE_DISRUPTS,
            )
        ]

    changes: list[Change] = []
    observed_residency = live.effective_residency or "GLOBAL"
    if want.residency is not None and observed_residency != want.residency:
        changes.append(
            Change(
                action="uncorrectable",
                kind=KIND,
                order=CREATE_ORDER,
                project=want.name,
                fields={"residency": FieldChange(observed_residency, want.residency)},
                severity="critical",
                reason="residency is chosen at creation and cannot be changed; create a new project in the "
                "desired region and move traffic to it (this tool never archives and re-creates)",
                facts=facts,
            )
        )
    fields: dict[str, FieldChange] = {}
    if live.name != want.name:  # only possible with an id pin
        fields["name"] = FieldChange(live.name, want.name)
    if want.manages_external_key and live.external_key_id != want.external_key_id:
        fields["external_key_id"] = FieldChange(live.external_key_id, want.external_key_id)
    if fields:
        changes.append(
            Change(
                action="update",
                kind=KIND,
                order=CREATE_ORDER,
                project=want.name,
                fields=fields,
                reason="renamed to match the file pinned by id" if "name" in fields else "external key differs",
                facts=facts,
                weakens=_key_weakening(live.external_key_id, fields["external_key_id"].after)
                if "external_key_id" in fields
                else None,
            )
        )
    return changes


ARCHIVE_DISRUPTS = "archives the project for good: its API keys stop working and nothing can be added to it"


def _key_weakening(before: str | None, after: str | None) -> str | None:
    """Removing or replacing the customer-managed key that encrypts a project's data weakens who holds it."""
    if before is None or before == after:
        return None
    if after is None:
        return f"removes the customer-managed encryption key {before}: data is encrypted with OpenAI-managed keys"
    return f"replaces the customer-managed encryption key {before} with {after}"


def compare_unmanaged(live: Project, policy: str, *, organization_policy: bool = False) -> list[Change]:
    """What to do with a live active project that no file describes. Pure. `organization_policy`: the
    organization's `policy:` checks it (its findings are separate changes)."""
    name = live.name or live.id
    facts = ProjectFacts(project_id=live.id)
    if policy == "ignore":
        return []
    if policy == "archive":
        return [
            Change(
                action="archive",
                kind=KIND,
                project=name,
                fields={"status": FieldChange("active", "archived")},
                reason="not in the desired state and unmanaged_projects is archive; archiving is one-way",
                facts=facts,
                order=ARCHIVE_ORDER,
                disrupts=ARCHIVE_DISRUPTS,
            )
        ]
    return [
        Change(
            action="report",
            kind=KIND,
            order=CREATE_ORDER,
            project=name,
            severity="normal",
            reason=f"live project {live.id} is not in the desired state, so its data controls are "
            + ("checked only against the organization policy" if organization_policy else "not checked"),
            facts=facts,
        )
    ]


async def apply_project_change(api: AdminApi, change: Change) -> Project | Claim[Project] | None:
    """Carry out a project lifecycle change; returns the project when one was modified, and for a create the
    claim: the project its settings go to, which another writer may have created (see `one_writer`)."""
    facts = change.facts_as(ProjectFacts)
    if change.action == "create":
        return await api.projects.create_once(
            change.fields["name"].after,
            residency=facts.residency,
            external_key_id=facts.external_key_id,
        )
    project_id = required(facts.project_id, "project id")
    if change.action == "update":
        return await api.projects.modify(project_id, **{k: fc.after for k, fc in change.fields.items()})
    if change.action == "archive":
        return await api.projects.archive(project_id)
    raise ValueError(f"project changes of action {change.action!r} are not applied")


def _uncorrectable(name: str, reason: str, facts: ProjectFacts | None = None) -> Change:
    return Change(
        action="uncorrectable",
        kind=KIND,
        project=name,
        severity="high",
        reason=reason,
        facts=facts or ProjectFacts(),
        order=CREATE_ORDER,
    )
