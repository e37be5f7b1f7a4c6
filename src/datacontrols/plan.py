"""The plan: a typed, sortable, hashable value describing what a reconcile would change.

A `Plan` is produced by the pure diff and consumed by renderers, safety checks and apply. It holds no
secrets and no live handles; everything in it is plain data, so the same inputs give the same digest.

Actions (the plan JSON `action`):
    create         something declared is missing and will be created
    update         something exists and differs; `fields` says how
    delete         something exists that should not (members, keys, policies)
    archive        a project is archived (one-way)
    uncorrectable  live state differs and the API cannot change it (residency); never applied
    report         nothing to change, but something to say (unmanaged project, key finding); never applied

Severity is one thing: the risk of applying the change, in words a reviewer can act on.
    critical  it weakens a data control (`weakens`: retention, a tool enabled, a model policy widened,
              access given, a spend limit raised...): a person must approve the exact plan
    high      it may interrupt traffic or lock someone out (`disrupts`: a key or member removed, a tool
              disabled, models withdrawn, a limit lowered, a project archived)
    normal    it tightens or corrects, and nothing that works today stops working
For the changes apply makes it is derived from `weakens` and `disrupts`, never set by hand; a report or an
uncorrectable difference says how serious the finding is (critical for a data control, high otherwise).

Drift has a second question, what the live state exposes now (`exposes`: zero data retention turned off in
the dashboard, a tool enabled by hand). Restoring it is normal or high risk, but the drift itself is
critical: `Change.alert_severity` is what the daemon alerts and counts it as.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, ClassVar, Final, Literal, TypeVar

__all__ = [
    "ACTIONS",
    "APPLIED_ACTIONS",
    "FORMAT_VERSION",
    "OTHER_ID",
    "SEVERITIES",
    "Action",
    "Change",
    "Facts",
    "FieldChange",
    "Plan",
    "Severity",
    "plan_json_digest",
    "required",
]

FORMAT_VERSION = 1

Action = Literal["create", "update", "delete", "archive", "uncorrectable", "report"]
Severity = Literal["critical", "high", "normal"]

ACTIONS: tuple[Action, ...] = ("create", "update", "delete", "archive", "uncorrectable", "report")
APPLIED_ACTIONS: frozenset[Action] = frozenset({"create", "update", "delete", "archive"})
SEVERITIES: tuple[Severity, ...] = ("critical", "high", "normal")

# Order of execution within one project: make it exist, then tighten, then remove, then archive.
_ACTION_ORDER = {"create": 0, "update": 1, "delete": 2, "archive": 3, "uncorrectable": 4, "report": 5}


@dataclass(frozen=True)
class FieldChange:
    """One field's value before (observed) and after (desired). `None` means absent."""

    before: Any
    after: Any

    def to_json(self) -> dict[str, Any]:
        return {"before": self.before, "after": self.after}


# Field metadata for a `*_id` field of `Facts` that names another thing than the one the change is about
# (a role's id, a customer-managed key's id): `Facts.resource_ids` leaves it out.
OTHER_ID: Final = MappingProxyType({"other_id": True})

_T = TypeVar("_T")
_F = TypeVar("_F", bound="Facts")


@dataclass(frozen=True, slots=True, kw_only=True)
class Facts:
    """What apply, the guards and drift attribution need to know about a change, beyond its rendered fields.

    Each kind declares its own subclass (`kinds/*.py`) with the ids and values its `apply` sends; a change
    that needs none carries this base. Facts are not part of the rendered plan or of plan JSON, and never
    hold a secret.

    `project_id` is the live project the change is in: the engine sets it on every project kind's change
    (None while the project is yet to be created: apply takes the id from the creation).
    """

    project_id: str | None = field(default=None, metadata=OTHER_ID)
    # Whether the engine goes on with the project's other changes when this one fails (members, keys).
    independent: ClassVar[bool] = False

    def resource_ids(self) -> frozenset[str]:
        """The ids of what the change is about, to match audit events with: the values of the fields named
        `*_id`, except those marked `OTHER_ID` (a role's, a key's) and `project_id` (the project the change is
        in; project changes override this, as their project is what they are about)."""
        found: set[str] = set()
        for spec in dataclasses.fields(self):
            if spec.name.endswith("_id") and not spec.metadata.get("other_id"):
                value = getattr(self, spec.name)
                if isinstance(value, str) and value:
                    found.add(value)
        return frozenset(found)


def required(value: _T | None, what: str) -> _T:
    """A fact apply needs: None means the kind planned the change without it, a bug refused before a write."""
    if value is None:
        raise ValueError(f"the change carries no {what}")
    return value


@dataclass(frozen=True)
class Change:
    """One thing the plan would do, or say.

    `kind` is the plan JSON kind (`project_data_retention`, ...). `project` is the project's name, or None
    for organization-level changes. `subject` names the thing inside the project when a kind has many
    (a user's email, a model, an alert threshold). `facts` carries, typed by the kind, the ids and values
    apply needs (project id, member id, ...) and what the guards check; it is not part of the rendered plan
    and never holds a secret. `order` places the change within its project (see `kinds.base`); the engine
    refuses a project kind's change outside its project's lifecycle.
    """

    action: Action
    kind: str
    project: str | None
    fields: Mapping[str, FieldChange] = field(default_factory=dict)
    severity: Severity = "normal"
    reason: str = ""
    subject: str | None = None
    facts: Facts = field(default_factory=Facts, compare=False)
    order: int = field(default=0, compare=False)
    # "report": the desired state's `enforcement` holds this change back; it is shown, never applied.
    # Not a key of plan JSON v1: the engine also says so at the end of `reason`.
    enforcement: Literal["enforce", "report"] = "enforce"
    # Set when applying this change weakens a data control (the ratchet, `datacontrols.safety`): what it
    # weakens, in words ("weakens zero data retention (zero_data_retention -> none)"). Such a change is
    # applied only with a person's approval of the exact plan; the daemon never applies it.
    weakens: str | None = None
    # Set when applying this change may interrupt traffic or lock someone out: what, in words ("requests to
    # gpt-4o will be refused"). It makes the change's severity high.
    disrupts: str | None = None
    # Set on drift the live state opened: what it allows that the files do not, in words. The change closes it.
    exposes: str | None = None

    def __post_init__(self) -> None:
        if self.action not in APPLIED_ACTIONS:
            return
        derived: Severity = "critical" if self.weakens else "high" if self.disrupts else "normal"
        if self.severity not in ("normal", derived):
            raise ValueError(
                f"a {self.kind} {self.action} gives its own severity {self.severity!r}: an applied change's "
                "severity comes from weakens and disrupts"
            )
        object.__setattr__(self, "severity", derived)  # frozen: set once, here

    def facts_as(self, cls: type[_F]) -> _F:
        """The facts, as the kind's own class `cls`; other facts are a bug in the kind, refused here."""
        if not isinstance(self.facts, cls):
            raise TypeError(f"a {self.kind} change carries {type(self.facts).__name__}, not {cls.__name__}")
        return self.facts

    @property
    def alert_severity(self) -> Severity:
        """How serious the drift is for an alert: critical when the live state exposes what the files forbid,
        else the risk of applying the change."""
        return "critical" if self.exposes is not None else self.severity

    @property
    def where(self) -> str:
        """`organization` or `project 'Name'`, for one-line messages."""
        return f"project {self.project!r}" if self.project else "organization"

    @property
    def needs_approval(self) -> bool:
        """Whether apply would write this change, and it weakens a data control."""
        return self.weakens is not None and self.applies

    @property
    def applies(self) -> bool:
        """Whether apply would write something for this change."""
        return self.action in APPLIED_ACTIONS and self.enforcement == "enforce"

    def sort_key(self) -> tuple[Any, ...]:
        return (
            self.project is not None,
            self.project or "",
            self.order,
            _ACTION_ORDER[self.action],
            self.kind,
            self.subject or "",
        )

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "action": self.action,
            "kind": self.kind,
            "project": self.project,
            "fields": {name: fc.to_json() for name, fc in sorted(self.fields.items())},
            "severity": self.severity,
            "reason": self.reason,
        }
        if self.subject is not None:
            data["subject"] = self.subject
        if self.weakens is not None:
            data["weakens"] = self.weakens
        if self.disrupts is not None:
            data["disrupts"] = self.disrupts
        if self.exposes is not None:
            data["exposes"] = self.exposes
        return data


@dataclass(frozen=True)
class Plan:
    """An ordered, immutable collection of changes."""

    changes: tuple[Change, ...] = ()

    @classmethod
    def of(cls, changes: Iterable[Change]) -> Plan:
        return cls(tuple(sorted(changes, key=Change.sort_key)))

    def __len__(self) -> int:
        return len(self.changes)

    def __iter__(self) -> Iterator[Change]:
        return iter(self.changes)

    @property
    def applicable(self) -> tuple[Change, ...]:
        """The changes apply would carry out."""
        return tuple(c for c in self.changes if c.applies)

    @property
    def project_creations(self) -> tuple[Change, ...]:
        """The project creations apply would carry out. Changes on these projects weaken and risk nothing
        that exists yet: the thresholds do not count them and the ratchet does not hold them."""
        return tuple(c for c in self.changes if c.kind == "project" and c.action == "create" and c.applies)

    @property
    def drift(self) -> tuple[Change, ...]:
        """Everything that differs from the desired state: applicable and uncorrectable changes."""
        return tuple(c for c in self.changes if c.action != "report")

    @property
    def has_changes(self) -> bool:
        """True when live state differs from the desired state (reports alone do not count)."""
        return bool(self.drift)

    def summary(self) -> dict[str, int]:
        counts = Counter(c.action for c in self.changes)
        return {action: counts.get(action, 0) for action in ACTIONS}

    def to_json(self) -> dict[str, Any]:
        return {
            "format_version": FORMAT_VERSION,
            "changes": [c.to_json() for c in self.changes],
            "summary": self.summary(),
        }

    def digest(self) -> str:
        """sha256 of the canonical JSON of the plan; same inputs, same digest."""
        return plan_json_digest(self.to_json())

    def by_project(self) -> dict[str | None, list[Change]]:
        """Changes grouped by project name (None = organization), in plan order."""
        groups: dict[str | None, list[Change]] = {}
        for change in self.changes:
            groups.setdefault(change.project, []).append(change)
        return groups


def plan_json_digest(data: Mapping[str, Any]) -> str:
    """`Plan.digest()` of a plan's JSON (`Plan.to_json()`), as a saved plan file holds it."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()
