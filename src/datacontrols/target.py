"""Which projects a run reads, plans and applies: all of them, the ones named (`--project`), or the ones a
pull request can change (`--base-desired-state`).

The Admin API allows a handful of requests a minute per endpoint, and a project costs about one request on
each of a dozen endpoints: reading every project to show a one-project change costs minutes to hours. A
`Target` narrows the per-project reads and the plan to the projects that matter; the organization-level
reads (a few, whatever the size of the organization) are still made, as the projects' plans need them
(the user directory, the organization's retention their `organization_default` resolves to).

- `select(desired, only, exclude)`: `--project` / `--exclude-project`. The organization's own settings are
  not planned then (`organization` False), as in `terraform -target`: the run is about those projects.
- `changed_by(base, head)`: the projects whose file or effective settings differ between the two desired
  states, and those added or removed. A change to the organization file beyond `project_defaults` (the
  enforcement, the unmanaged-project policy, the organization's settings) can change any project's plan:
  then everything is read. A `project_defaults` change reaches every project that inherits it, and those
  are exactly the projects whose effective settings differ.

Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from datacontrols.desired.schema import DesiredState
from datacontrols.errors import ConfigError

__all__ = ["EVERYTHING", "Target", "changed_by", "select"]


@dataclass(frozen=True)
class Target:
    """`projects`: the names of the projects read and planned (None: all). `organization`: whether the
    organization's own settings are planned. `why`: what the output says of the projects left out."""

    projects: frozenset[str] | None = None
    organization: bool = True
    why: str = ""

    @property
    def whole(self) -> bool:
        return self.projects is None and self.organization

    def includes(self, name: str | None) -> bool:
        """Whether a project of this name is read and planned (None: an organization-level change)."""
        if name is None:
            return self.organization
        return self.projects is None or name in self.projects

    def left_out(self, live_names: Iterable[str]) -> list[str]:
        """The live projects not read, by name, sorted."""
        if self.projects is None:
            return []
        return sorted({n for n in live_names if n and n not in self.projects})

    def within(self, other: Target) -> Target:
        """What both targets include (a `--project` run's pull-request view)."""
        if other.whole:
            return self
        if self.whole:
            return other
        if self.projects is None:
            projects = other.projects
        elif other.projects is None:
            projects = self.projects
        else:
            projects = self.projects & other.projects
        why = self.why if self.projects is not None else other.why
        return Target(projects=projects, organization=self.organization and other.organization, why=why)

    def to_json(self) -> dict[str, Any]:
        return {
            "projects": sorted(self.projects) if self.projects is not None else None,
            "organization": self.organization,
            "why": self.why,
        }

    @classmethod
    def from_json(cls, data: Any) -> Target:
        """A saved plan's target; a plan saved without one targeted everything."""
        if data is None:
            return EVERYTHING
        if not isinstance(data, Mapping):
            raise ValueError("target is not an object")
        projects = data.get("projects")
        if projects is not None and (not isinstance(projects, list) or not all(isinstance(p, str) for p in projects)):
            raise ValueError("target.projects is not a list of names")
        return cls(
            projects=frozenset(projects) if projects is not None else None,
            organization=bool(data.get("organization", True)),
            why=str(data.get("why", "")),
        )


EVERYTHING = Target()


def select(desired: DesiredState, only: Sequence[str] = (), exclude: Sequence[str] = ()) -> Target:
    """The target of `--project NAME` (repeatable) and `--exclude-project NAME`; names must be in the files."""
    if not only and not exclude:
        return EVERYTHING
    known = {p.name for p in desired.projects}
    unknown = [name for name in (*only, *exclude) if name not in known]
    if unknown:
        listed = ", ".join(sorted(known)) or "none"
        raise ConfigError(
            f"--project/--exclude-project {unknown[0]!r} is not a project of the desired state "
            f"(its projects: {listed}); names are matched exactly"
        )
    chosen = set(only) if only else set(known)
    chosen -= set(exclude)
    if not chosen:
        raise ConfigError("--project/--exclude-project leave no project to plan")
    flags = " ".join([*(f"--project {n!r}" for n in only), *(f"--exclude-project {n!r}" for n in exclude)])
    return Target(projects=frozenset(chosen), organization=False, why=f"not targeted ({flags})")


def changed_by(base: DesiredState, head: DesiredState) -> Target:
    """The projects a pull request from `base` to `head` can change (see the module's docstring)."""
    if _organization_part(base) != _organization_part(head):
        return EVERYTHING
    before, after = _project_parts(base), _project_parts(head)
    changed = {name for name in before.keys() | after.keys() if before.get(name) != after.get(name)}
    return Target(projects=frozenset(changed), organization=True, why="unchanged by this pull request")


def _organization_part(desired: DesiredState) -> Any:
    return desired.organization.model_dump(mode="json", exclude={"project_defaults"})


def _project_parts(desired: DesiredState) -> dict[str, Any]:
    """Per project name: its file and its effective settings (what `project_defaults` give it)."""
    return {p.name: (p.model_dump(mode="json"), desired.effective(p).model_dump(mode="json")) for p in desired.projects}
