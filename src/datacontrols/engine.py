"""observe -> diff -> apply: one reconcile of an organization against its desired state.

- `observe` reads every live thing the desired state manages, once, concurrently within the transport's
  limits. A project whose reads fail is recorded as failed; the others are still observed.
- `diff` is pure: `diff(desired, observed)` always gives the same `Plan`.
- `apply` carries out a plan's applicable changes. The organization's changes go first; then each project's
  changes run in order (create, settings, archive), projects side by side. One failing project does not
  stop the others; its remaining changes are skipped, and the result says which failed.

There is no state file: the organization is the state, and every run starts by reading it.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Final

import structlog

from datacontrols.adminapi import AdminApi
from datacontrols.adminapi.one_writer import Claim
from datacontrols.adminapi.projects import Project
from datacontrols.desired.schema import DesiredState
from datacontrols.errors import ApiError, AuthError, DataControlsError, WriteRefused
from datacontrols.guards import check_guards
from datacontrols.kinds import NOT_CREATED, ORGANIZATION_KINDS, PROJECT_KINDS, DesiredProject, World
from datacontrols.kinds import project as project_kind
from datacontrols.kinds.base import ARCHIVE_ORDER, CREATE_ORDER, OrganizationKind, ProjectKind
from datacontrols.kinds.directory import group_pins
from datacontrols.kinds.organization_retention import OrganizationDataRetention
from datacontrols.kinds.policy import policy_findings, policy_reads
from datacontrols.observed import Observed
from datacontrols.plan import Change, Facts, Plan
from datacontrols.safety import SafetyCheck, restrict
from datacontrols.safety import enforce as enforce_thresholds
from datacontrols.target import EVERYTHING, Target

__all__ = ["ApplyResult", "Observed", "OnChange", "Registry", "apply", "desired_projects", "diff", "observe"]

log = structlog.get_logger("datacontrols.engine")

# Told of each change as apply reaches it: "applied" or "failed".
OnChange = Callable[[Change, str], Awaitable[None] | None]


@dataclass(frozen=True)
class Registry:
    """The kinds a run manages; tests and future features can pass their own."""

    organization: tuple[OrganizationKind, ...] = ORGANIZATION_KINDS
    project: tuple[ProjectKind, ...] = PROJECT_KINDS

    def project_kind(self, name: str) -> ProjectKind:
        for kind in self.project:
            if kind.name == name:
                return kind
        raise KeyError(name)

    def organization_kind(self, name: str) -> OrganizationKind:
        for kind in self.organization:
            if kind.name == name:
                return kind
        raise KeyError(name)


DEFAULT_REGISTRY = Registry()


def desired_projects(desired: DesiredState) -> list[DesiredProject]:
    pins = group_pins(desired.organization.organization.groups)
    return [
        DesiredProject(file=p, settings=desired.effective(p), source=desired.sources.get(p.name, ""), group_pins=pins)
        for p in desired.projects
    ]


async def observe(
    api: AdminApi,
    desired: DesiredState,
    registry: Registry = DEFAULT_REGISTRY,
    *,
    target: Target = EVERYTHING,
    organization: Observed | None = None,
    kinds: frozenset[str] | None = None,
) -> Observed:
    """Read what the desired state manages, of the projects `target` includes. Raises only for failures that
    doom the run.

    The project list and the organization-level reads are made whatever the target, unless `organization`
    holds them already (the daemon reads them as a work item of their own, not once per project). `kinds`:
    the names of the project kinds to read (None: all that are managed), for a daemon sweep of some controls.
    """
    with api.transport.read_once.open():  # kinds that read the same listing share one request
        return await _observe(api, desired, registry, target, organization, kinds)


async def _observe(
    api: AdminApi,
    desired: DesiredState,
    registry: Registry,
    target: Target,
    organization: Observed | None,
    kinds: frozenset[str] | None,
) -> Observed:
    if organization is not None:
        observed = Observed(projects=list(organization.projects), organization=dict(organization.organization))
    else:
        observed = Observed(projects=await api.projects.list(include_archived=True))
    matching = project_kind.match_projects(desired_projects(desired), observed.projects)

    async def read_organization(kind: OrganizationKind) -> None:
        observed.organization[kind.name] = await kind.observe_for(api, desired)

    rules = desired.organization.policy

    async def read_project(project: DesiredProject, live: Project) -> None:
        # The controls the file manages, and those the organization policy checks where the file is silent.
        policy = policy_reads(desired, project.file, project.settings)
        await read(project.name, live, lambda k: _manages(desired, k, project), policy, project)

    async def read_unmanaged(live: Project) -> None:
        await read(live.name or live.id, live, lambda k: False, policy_reads(desired, None, None))

    async def read(
        name: str,
        live: Project,
        managed: Callable[[ProjectKind], bool],
        for_policy: frozenset[str],
        project: DesiredProject | None = None,
    ) -> None:
        def reading(k: ProjectKind) -> Awaitable[Any]:
            if project is not None and managed(k):
                return k.observe_for(api, live, project)
            return k.observe_for_policy(api, live, rules) if rules is not None else k.observe(api, live)

        wanted = [
            k for k in registry.project if (managed(k) or k.name in for_policy) and (kinds is None or k.name in kinds)
        ]
        try:
            found = await asyncio.gather(*(reading(k) for k in wanted))
        except AuthError as exc:
            if exc.status == 401:
                raise
            observed.failures[name] = exc.message
        except ApiError as exc:
            observed.failures[name] = exc.message
        else:
            observed.settings[live.id] = {k.name: v for k, v in zip(wanted, found, strict=True)}

    org_reads = (
        [] if organization is not None else [read_organization(k) for k in registry.organization if _reads(desired, k)]
    )
    project_reads = [
        read_project(project, live)
        for project, live in matching.pairs
        if live is not None and not live.archived and project.file.status == "active" and target.includes(project.name)
    ]
    unmanaged_reads = [
        read_unmanaged(live)
        for live in matching.unmanaged
        if desired.organization.policy is not None and target.includes(live.name or live.id)
    ]
    await asyncio.gather(*org_reads, *project_reads, *unmanaged_reads)
    return observed


def diff(
    desired: DesiredState, observed: Observed, registry: Registry = DEFAULT_REGISTRY, *, target: Target = EVERYTHING
) -> Plan:
    """The plan that would make the organization equal to the desired state, for what `target` includes. Pure."""
    world = World(desired=desired, organization=observed.organization, projects=tuple(observed.projects))
    changes: list[Change] = []
    for org_kind in registry.organization:
        if (
            target.organization
            and org_kind.manages(desired)
            and (level := desired.enforcement(org_kind.group)) != "ignore"
        ):
            found_org = org_kind.compare(desired, observed.organization.get(org_kind.name), world)
            changes += _held(found_org, level, f"enforcement for {org_kind.group} is report")

    matching = project_kind.match_projects(desired_projects(desired), observed.projects)
    org_retention = observed.organization.get(OrganizationDataRetention.name)
    org_retention = org_retention if isinstance(org_retention, str) else None
    changes += [c for c in matching.unmatchable if target.includes(c.project)]
    for project, live in matching.pairs:
        if project.name in observed.failures or not target.includes(project.name):
            continue
        lifecycle = _lifecycle(
            desired,
            project,
            project_kind.compare_project(project, live, matching.archived_namesakes.get(project.name, ())),
        )
        changes += lifecycle
        # Settings planned for a project whose creation is held back cannot be applied either.
        creation_held = any(c.action == "create" and c.enforcement == "report" for c in lifecycle)
        if project.file.status != "active" or (live is not None and live.archived):
            continue
        values = observed.settings.get(live.id, {}) if live is not None else {}
        for kind in registry.project:
            if not _manages(desired, kind, project):
                continue
            if live is None:
                found: Any = NOT_CREATED
            elif kind.name in values:
                found = values[kind.name]
            else:
                # Not read is not "not created": planning as if the project were new would hide drift.
                changes.append(_unread(kind, project, live))
                continue
            level = "report" if creation_held else desired.enforcement(kind.group, project.file)
            why = "the project's creation is held back" if creation_held else f"enforcement for {kind.group} is report"
            # The kind may consult its siblings' observed values for this project (the owner guard does).
            sibling_world = dataclasses.replace(world, project=values)
            for change in _held(_ordered(kind, kind.compare(project, found, sibling_world)), level, why):
                facts = dataclasses.replace(change.facts, project_id=live.id if live is not None else None)
                changes.append(dataclasses.replace(change, facts=facts))
        if live is not None:
            changes += policy_findings(desired, live, values, org_retention, project=project)
    policy = desired.organization.unmanaged_projects
    for live in matching.unmanaged:
        if not target.includes(live.name or live.id):
            continue  # a project this run does not read: not called unmanaged on the strength of a partial view
        changes += _held(
            project_kind.compare_unmanaged(live, policy, organization_policy=desired.organization.policy is not None),
            desired.enforcement(None),
            "enforcement for project lifecycle is report",
        )
        values = observed.settings.get(live.id, {})
        changes += policy_findings(desired, live, values, org_retention)
    # Protected projects are never archived and never lose an owner: such changes are shown, not applied.
    return restrict(Plan.of(changes), desired)


WRITES_UNDER_WAY: Final = 4  # the client's default concurrency


def _ordered(kind: ProjectKind, changes: list[Change]) -> list[Change]:
    """A kind's changes run after its project's creation and before its archiving: anything else is a bug in
    the kind (a setting written to a project that does not exist yet), refused here rather than sent."""
    for change in changes:
        if not CREATE_ORDER < change.order < ARCHIVE_ORDER:
            raise ValueError(
                f"{kind.key} planned a change with order {change.order}, outside its project's lifecycle "
                f"({CREATE_ORDER} < order < {ARCHIVE_ORDER})"
            )
    return changes


def _manages(desired: DesiredState, kind: ProjectKind, project: DesiredProject) -> bool:
    """A kind is read and compared for a project when the file manages it and its group is not ignored."""
    return kind.manages(project) and desired.enforcement(kind.group, project.file) != "ignore"


def _reads(desired: DesiredState, kind: OrganizationKind) -> bool:
    if not kind.reads(desired):
        return False
    if kind.manages(desired) and desired.enforcement(kind.group) != "ignore":
        return True
    # Read for the projects' sake (a project's `organization_default` resolves to the organization's value).
    return any(desired.enforcement(kind.group, p) != "ignore" for p in desired.projects)


def _lifecycle(desired: DesiredState, project: DesiredProject, changes: list[Change]) -> list[Change]:
    """A project's own changes under enforcement: residency has its group, the rest follow `default`."""
    kept: list[Change] = []
    for change in changes:
        group = "residency" if change.action == "uncorrectable" and "residency" in change.fields else None
        level = desired.enforcement(group, project.file)
        if level != "ignore":
            kept += _held([change], level, f"enforcement for {group or 'project lifecycle'} is report")
    return kept


def _held(changes: Iterable[Change], level: str, why: str) -> list[Change]:
    """At level `report`, mark applicable changes as held back: shown in the plan, skipped by apply."""
    if level != "report":
        return list(changes)
    return [
        dataclasses.replace(change, enforcement="report", reason=f"{change.reason} (not applied: {why})".lstrip())
        if change.applies
        else change
        for change in changes
    ]


def _unread(kind: ProjectKind, project: DesiredProject, live: Project) -> Change:
    return Change(
        action="report",
        kind=kind.name,
        project=project.name,
        severity="high",
        reason=f"{kind.name} of live project {live.id} was not read, so its drift is unknown",
        facts=Facts(project_id=live.id),
    )


@dataclass
class ApplyResult:
    """What an apply did: each applicable change lands in exactly one of applied, failed, skipped.

    `notes`: applied changes whose outcome differs from the plan's, and why (a create another writer made
    meanwhile, or a racing duplicate this run removed again)."""

    applied: list[Change] = field(default_factory=list)
    failed: list[tuple[Change, str]] = field(default_factory=list)
    skipped: list[Change] = field(default_factory=list)
    notes: list[tuple[Change, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.skipped

    def to_json(self) -> dict[str, Any]:
        """The `result` of `--format json`: each change named as the plan names it, with why it failed."""

        def named(change: Change) -> dict[str, Any]:
            ref = {"action": change.action, "kind": change.kind, "project": change.project}
            return ref | ({"subject": change.subject} if change.subject is not None else {})

        return {
            "ok": self.ok,
            "applied": [named(c) for c in self.applied],
            "failed": [named(c) | {"error": why} for c, why in self.failed],
            "skipped": [named(c) for c in self.skipped],
            "notes": [named(c) | {"note": note} for c, note in self.notes],
        }


async def apply(
    api: AdminApi,
    plan: Plan,
    registry: Registry = DEFAULT_REGISTRY,
    *,
    stopping: asyncio.Event | None = None,
    on_change: OnChange | None = None,
    safety: SafetyCheck | None = None,
) -> ApplyResult:
    """Carry out the plan's applicable changes. `stopping` set: no new write starts; the rest is skipped.

    `safety`: the thresholds, what is managed and an `--allow-unsafe` acknowledgement; pass
    `SafetyCheck.of(desired, observed, allow_unsafe=...)`. The default knows no population and so refuses any
    bulk archive, removal or update (see `datacontrols.safety`).
    """
    check_guards(plan)  # before any write: a plan that would lock people out is refused whole
    enforce_thresholds(plan, safety if safety is not None else SafetyCheck())  # before any write, too
    result = ApplyResult()
    groups = plan.by_project()
    # Projects apply side by side, but only this many writes are under way at once: the client would queue
    # the rest anyway, and a write that has not started can still be skipped when `stopping` is set (an
    # interrupt then finishes a few writes, not every project's first one).
    gate = asyncio.Semaphore(WRITES_UNDER_WAY)

    async def run(change: Change, write: Callable[[], Awaitable[Any]]) -> Any:
        async with gate:
            return await attempt(change, write)

    async def attempt(change: Change, write: Callable[[], Awaitable[Any]]) -> Any:
        if stopping is not None and stopping.is_set():
            result.skipped.append(change)
            return _SKIPPED
        try:
            outcome = await write()
        except WriteRefused:
            raise
        except DataControlsError as exc:
            if isinstance(exc, AuthError) and exc.status == 401:
                raise
            result.failed.append((change, exc.message))
            log.warning(
                "change_failed", kind=change.kind, project=change.project, action=change.action, error=exc.message
            )
            await _notify(on_change, change, "failed")
            return _FAILED
        result.applied.append(change)
        log.info(
            "change_applied", kind=change.kind, project=change.project, action=change.action, subject=change.subject
        )
        if isinstance(outcome, Claim) and (note := outcome.note) is not None:
            result.notes.append((change, note))
            log.warning("change_raced", kind=change.kind, project=change.project, subject=change.subject, note=note)
        await _notify(on_change, change, "applied")
        return outcome

    # The organization's own settings first: projects may inherit them.
    for change in _applicable(groups.pop(None, [])):
        org_kind = registry.organization_kind(change.kind)
        await run(change, lambda k=org_kind, c=change: k.apply(api, c))  # type: ignore[misc]

    async def run_project(changes: list[Change]) -> None:
        project_id: str | None = None
        pending = _applicable(changes)
        for index, change in enumerate(pending):
            if change.kind == project_kind.KIND:
                outcome = await run(change, lambda c=change: project_kind.apply_project_change(api, c))  # type: ignore[misc]
                if isinstance(outcome, Claim):
                    project_id = outcome.kept.id  # the settings follow the project kept, whoever created it
                elif isinstance(outcome, Project):
                    project_id = outcome.id
            else:
                target = change.facts.project_id or project_id
                kind = registry.project_kind(change.kind)
                outcome = await run(change, lambda k=kind, c=change, t=target: k.apply(api, c, t))  # type: ignore[misc]
            if outcome is _FAILED and change.facts.independent:
                continue  # a member or key change: its failure does not doom the project's other changes
            if outcome is _FAILED or outcome is _SKIPPED:
                # Later changes of this project depend on the earlier ones (a create, then its settings).
                result.skipped.extend(c for c in pending[index + 1 :] if c not in result.skipped)
                return

    await asyncio.gather(*(run_project(changes) for changes in groups.values()))
    return result


_FAILED = object()
_SKIPPED = object()


def _applicable(changes: Iterable[Change]) -> list[Change]:
    return [c for c in changes if c.applies]


async def _notify(callback: OnChange | None, change: Change, what: str) -> None:
    if callback is None:
        return
    maybe = callback(change, what)
    if maybe is not None:
        await maybe
