"""The contract every managed kind fulfils: observe (read), compare (pure), apply (the only write).

Two shapes, by where a control lives:

- `OrganizationKind`: one value for the whole organization (its data retention, its spend limit).
- `ProjectKind`: one value per project (a project's retention, its model policy, its members...).

`compare` is a pure function of the desired value and the observed value; it returns `Change`s and never
performs I/O. `observe` reads only what the desired state manages, so an unmanaged setting costs no request.
A project that does not exist yet is observed as `NOT_CREATED`: its kinds plan the settings it will need
right after its creation.

Each kind declares, on itself, everything the rest of the tool needs to know about it, so adding a control
edits no other module: its `name` (the plan JSON `kind`), `scope`, enforcement `group`, `order` in its
project's lifecycle (between the project's creation and its archiving), the `audit_event_types` that can
reveal its drift (empty: the audit log does not record it), and whether it `exports` (then `export` is
implemented). `reads` and `count_items` have defaults a kind may override. The registry derives every list
from these, and tests/kinds/test_kind_registry.py fails when a kind leaves one out.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Final, Literal

from datacontrols.desired.enforcement import EnforcementGroup
from datacontrols.desired.schema import DesiredState, ProjectFile, ProjectSettings
from datacontrols.plan import Change

if TYPE_CHECKING:
    from datacontrols.adminapi import AdminApi
    from datacontrols.adminapi.one_writer import Claim
    from datacontrols.adminapi.projects import Project
    from datacontrols.desired.policy import Policy

__all__ = [
    "ARCHIVE_ORDER",
    "CREATE_ORDER",
    "NOT_CREATED",
    "DesiredProject",
    "Kind",
    "NotCreated",
    "NotExportable",
    "OrganizationKind",
    "ProjectKind",
    "Scope",
    "World",
]


class NotCreated:
    """The observed value of a setting on a project that the plan has yet to create."""

    _instance: ClassVar[NotCreated | None] = None

    def __new__(cls) -> NotCreated:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NOT_CREATED"


NOT_CREATED: Final = NotCreated()

Scope = Literal["organization", "project"]
# A project's lifecycle frames its kinds' changes: it is created first (everything else needs its id) and
# archived last; each kind's `order` lies strictly between (`Plan.of` checks it for created projects).
CREATE_ORDER: Final = 0
ARCHIVE_ORDER: Final = 100


class NotExportable(ValueError):
    """A live value that no desired-state file can hold; export leaves it out with this note."""


@dataclass(frozen=True)
class DesiredProject:
    """A project file together with its effective settings (project_defaults merged in)."""

    file: ProjectFile
    settings: ProjectSettings
    source: str = ""
    # organization.groups' pins (declared name -> group id): which groups its members and role assignments mean
    group_pins: Mapping[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.file.name


@dataclass(frozen=True)
class World:
    """Organization-wide facts that project kinds may consult while comparing (read-only).

    `organization` maps an organization kind's name to what it observed (e.g. the organization's data
    retention, needed to tell what `organization_default` means for a project). `project` maps the name of
    each kind read for the project being compared to its observed value, so a kind can consult a sibling
    (the lock-out guard counts owners among users and groups alike); it is empty for organization kinds
    and for projects not created yet.
    """

    desired: DesiredState
    organization: dict[str, Any] = field(default_factory=dict)
    project: Mapping[str, Any] = field(default_factory=dict)
    # The live projects, for organization kinds that name projects (federation rules); read once per run.
    projects: tuple[Project, ...] = ()


class Kind(ABC):
    """What all kinds share: the declarations (see the module docstring) and their defaults."""

    name: ClassVar[str]  # the plan JSON `kind`; unique within a scope
    scope: ClassVar[Scope]
    group: ClassVar[EnforcementGroup]
    order: ClassVar[int]  # CREATE_ORDER < order < ARCHIVE_ORDER; lower runs first within a project
    audit_event_types: ClassVar[tuple[str, ...]]  # the spec's AuditLogEventType names; () = not audited
    exports: ClassVar[bool]  # whether `export` is implemented
    # False: `reconcile export` writes this kind only when asked (its flag), because once in the files it
    # costs every later plan a read that most users would not choose (rate limits: one per project).
    export_by_default: ClassVar[bool] = True

    @property
    def key(self) -> str:
        """Unique across the registry: two scopes may share a plan name (`spend_limit`)."""
        return f"{self.scope}/{self.name}"

    def count_items(self, value: Any) -> int:
        """How many managed items an observed value holds, for the safety thresholds' shares."""
        if value is None:
            return 0
        if isinstance(value, Mapping | list | tuple | set | frozenset):
            return len(value)
        return 1

    def export(self, observed: Any) -> Mapping[str, Any] | None:
        """The desired-state part (keys of a project or organization file) that describes `observed`.

        None: nothing to write. Raises `NotExportable` when no file can hold the value.
        """
        raise NotImplementedError(f"{self.key} does not export (exports = False)")

    async def export_files(self, api: AdminApi, observed: Any) -> tuple[Any, Mapping[str, str]]:
        """Files `reconcile export` writes beside the YAML (path relative to the desired-state directory ->
        text) for what a file of the desired state names (certificates' PEM), read only by export; and the
        value `export` is then given, which may now say which files exist. Default: no files."""
        return observed, {}


class OrganizationKind(Kind):
    """A control with one value for the whole organization."""

    scope: ClassVar[Scope] = "organization"

    def reads(self, desired: DesiredState) -> bool:
        """Whether a run reads this control: when it is managed, unless a kind also reads it for another's sake
        (a project's `organization_default` needs the organization's retention)."""
        return self.manages(desired)

    @abstractmethod
    def manages(self, desired: DesiredState) -> bool:
        """Whether the desired state says anything about this control (if not, it is never read)."""

    @abstractmethod
    async def observe(self, api: AdminApi) -> Any:
        """Read the live value (all of it: `reconcile export` reads this way)."""

    async def observe_for(self, api: AdminApi, desired: DesiredState) -> Any:
        """Read what a run of `desired` needs. A kind whose reads depend on what the files name overrides
        it (a group's members are read only for the declared groups, role assignments only for the
        principals listed); `observe` alone reads all, for export."""
        return await self.observe(api)

    @abstractmethod
    def compare(self, desired: DesiredState, observed: Any, world: World) -> list[Change]:
        """Pure: the changes that would make `observed` equal to `desired`."""

    @abstractmethod
    async def apply(self, api: AdminApi, change: Change) -> Claim[Any] | None:
        """Carry out one change this kind planned (a create without a natural id returns its `Claim`)."""


class ProjectKind(Kind):
    """A control with one value per project."""

    scope: ClassVar[Scope] = "project"

    @abstractmethod
    def manages(self, project: DesiredProject) -> bool:
        """Whether this project's desired state manages this control."""

    @abstractmethod
    async def observe(self, api: AdminApi, project: Project) -> Any:
        """Read the live value for one existing, active project."""

    async def observe_for(self, api: AdminApi, project: Project, desired: DesiredProject) -> Any:
        """Read what the project's file needs (see `OrganizationKind.observe_for`)."""
        return await self.observe(api, project)

    async def observe_for_policy(self, api: AdminApi, project: Project, policy: Policy) -> Any:
        """Read what the organization policy checks on a project whose file leaves this control out (or
        that has no file); a kind whose policy rule needs more than `observe` reads overrides it."""
        return await self.observe(api, project)

    @abstractmethod
    def compare(self, project: DesiredProject, observed: Any, world: World) -> list[Change]:
        """Pure. `observed` is NOT_CREATED when the project does not exist yet."""

    @abstractmethod
    async def apply(self, api: AdminApi, change: Change, project_id: str) -> Claim[Any] | None:
        """Carry out one change this kind planned, on the project with this id.

        A create made by POST without a natural id returns its `Claim` (see `adminapi.one_writer`), so the
        run can report one another writer made meanwhile."""
