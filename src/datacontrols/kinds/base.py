"""The contract every managed kind fulfils: observe (read), compare (pure), apply (the only write).

Two shapes, by where a control lives:

- `OrganizationKind`: one value for the whole organization (its data retention, its spend limit).
- `ProjectKind`: one value per project (a project's retention, its model policy, its members...).

`compare` is a pure function of the desired value and the observed value; it returns `Change`s and never
performs I/O. `observe` reads only what the desired state manages, so an unmanaged setting costs no request.
A project that does not exist yet is observed as `NOT_CREATED`: its kinds plan the settings it will need
right after its creation.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Final

from datacontrols.desired.schema import DesiredState, ProjectFile, ProjectSettings
from datacontrols.plan import Change

if TYPE_CHECKING:
    from datacontrols.adminapi import AdminApi
    from datacontrols.adminapi.projects import Project

__all__ = [
    "NOT_CREATED",
    "DesiredProject",
    "Kind",
    "NotCreated",
    "OrganizationKind",
    "ProjectKind",
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


@dataclass(frozen=True)
class DesiredProject:
    """A project file together with its effective settings (project_defaults merged in)."""

    file: ProjectFile
    settings: ProjectSettings
    source: str = ""

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


class Kind(ABC):
    """What all kinds share."""

    name: ClassVar[str]  # the plan JSON `kind`
    group: ClassVar[str]  # enforcement group: data_retention, residency, hosted_tools, model_permissions, ...


class OrganizationKind(Kind):
    """A control with one value for the whole organization."""

    @abstractmethod
    def manages(self, desired: DesiredState) -> bool:
        """Whether the desired state says anything about this control (if not, it is never read)."""

    @abstractmethod
    async def observe(self, api: AdminApi) -> Any:
        """Read the live value."""

    @abstractmethod
    def compare(self, desired: DesiredState, observed: Any, world: World) -> list[Change]:
        """Pure: the changes that would make `observed` equal to `desired`."""

    @abstractmethod
    async def apply(self, api: AdminApi, change: Change) -> None:
        """Carry out one change this kind planned."""


class ProjectKind(Kind):
    """A control with one value per project."""

    @abstractmethod
    def manages(self, project: DesiredProject) -> bool:
        """Whether this project's desired state manages this control."""

    @abstractmethod
    async def observe(self, api: AdminApi, project: Project) -> Any:
        """Read the live value for one existing, active project."""

    @abstractmethod
    def compare(self, project: DesiredProject, observed: Any, world: World) -> list[Change]:
        """Pure. `observed` is NOT_CREATED when the project does not exist yet."""

    @abstractmethod
    async def apply(self, api: AdminApi, change: Change, project_id: str) -> None:
        """Carry out one change this kind planned, on the project with this id."""
