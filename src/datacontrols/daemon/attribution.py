"""Drift attribution: who changed a drifted resource, and when, from the organization's audit log.

`AuditTrail` follows `GET /organization/audit_logs` from a cursor kept in memory: the first read goes back
`lookback` seconds; each later one asks for events from the newest one seen minus `overlap` (the audit log
may publish an event late) and drops the ids it already has. Events are kept, bounded, so drift that outlives
many runs keeps its author.

A drift item (a plan `Change`) is matched to events by its kind's event types and the ids in its facts
(a project id for a project, a user id for a member, ...). The newest matching event names the author:
its session's email, or the API key's tracking id. Some controls emit no event at all (data retention,
residency, model and hosted-tool permissions, spend): their drift says so instead of guessing.

The daemon's own writes are not anyone else's drift: each write it makes is noted (`note_own_write`) with
its time, and an `api_key` event on the same resource in that window is recognised as its own; the key's
tracking id is learned from it. The newest event on a drifted resource being the daemon's own means the
change after it left no trace: the attribution says so rather than blame the daemon.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, Literal

import structlog

from datacontrols.adminapi import AdminApi
from datacontrols.adminapi.audit_logs import AuditLog
from datacontrols.kinds import audit_event_types
from datacontrols.plan import Change

__all__ = [
    "EVENT_TYPES_BY_KIND",
    "KINDS_WITHOUT_EVENTS",
    "NO_AUDIT_EVENT",
    "Attribution",
    "AuditTrail",
    "change_resource_ids",
]

log = structlog.get_logger("datacontrols.daemon")

NO_AUDIT_EVENT: Final = "changed out of band, no audit event available"

# The audit-log event types that record a change to each plan kind (the spec's AuditLogEventType names), as
# each kind declares them; the kinds with none are the controls the audit log does not cover.
_DECLARED: Final = audit_event_types()
EVENT_TYPES_BY_KIND: Final[dict[str, tuple[str, ...]]] = {kind: types for kind, types in _DECLARED.items() if types}
KINDS_WITHOUT_EVENTS: Final = frozenset(kind for kind, types in _DECLARED.items() if not types)
ALL_EVENT_TYPES: Final = tuple(sorted({t for types in EVENT_TYPES_BY_KIND.values() for t in types}))

Status = Literal["audit_event", "no_audit_event", "not_found", "unavailable"]


@dataclass(frozen=True)
class Attribution:
    """Who changed a drifted resource, and when; or why that cannot be said."""

    status: Status
    note: str
    actor: str | None = None  # an email, or `api key <tracking id> (owner)`
    actor_type: str | None = None  # session | api_key
    effective_at: int | None = None
    event_id: str | None = None
    event_type: str | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"status": self.status, "note": self.note}
        if self.actor is not None:
            data |= {
                "actor": self.actor,
                "actor_type": self.actor_type,
                "at": _iso(self.effective_at),
                "effective_at": self.effective_at,
                "event_id": self.event_id,
                "event_type": self.event_type,
            }
        return data

    def describe(self) -> str:
        if self.actor is None:
            return self.note
        return f"{self.actor} at {_iso(self.effective_at)} ({self.event_type})"


def change_resource_ids(change: Change) -> frozenset[str]:
    """The ids a drift item is about (`Facts.resource_ids`: a project's own id only for `project`)."""
    return change.facts.resource_ids()


@dataclass(frozen=True)
class _OwnWrite:
    kind: str
    resource_ids: frozenset[str]
    name: str | None  # a created project has no id yet: its name
    started: float
    finished: float


@dataclass
class AuditTrail:
    """The audit log as this process has read it, and the writes this process made."""

    lookback: float = 3600.0
    overlap: float = 300.0
    tolerance: float = 120.0  # clock difference allowed between this host and the API
    max_events: int = 10_000
    clock: Callable[[], float] = time.time
    events: dict[str, AuditLog] = field(default_factory=dict)
    own_key_ids: set[str] = field(default_factory=set)
    available: bool | None = None  # None: not read yet
    fresh: list[AuditLog] = field(default_factory=list)  # the events the last read found new
    error: str | None = None
    _watermark: float | None = None
    _own: list[_OwnWrite] = field(default_factory=list)

    async def refresh(self, api: AdminApi) -> int:
        """Read the events published since the last read; returns how many were new. Raises ApiError."""
        since = self._watermark - self.overlap if self._watermark is not None else self.clock() - self.lookback
        try:
            found = await api.audit_logs.list(effective_at={"gte": int(since)}, event_types=list(ALL_EVENT_TYPES))
        except Exception as exc:
            self.available = False
            self.error = getattr(exc, "message", type(exc).__name__)
            raise
        new = [event for event in found if event.id not in self.events]
        self.fresh = new
        for event in new:
            self.events[event.id] = event
        newest = max((event.effective_at for event in found), default=None)
        self._watermark = max(filter(None, (self._watermark, newest, since)))
        self._prune()
        self.available, self.error = True, None
        for event in new:
            if self.is_own(event) and event.actor is not None and event.actor.key_id:
                self.own_key_ids.add(event.actor.key_id)
        return len(new)

    def note_own_write(self, change: Change, started: float, finished: float) -> None:
        """Remember a write this process made, so its audit event is not taken for someone else's."""
        name = change.fields["name"].after if change.action == "create" and "name" in change.fields else None
        self._own.append(_OwnWrite(change.kind, change_resource_ids(change), name, started, finished))
        horizon = self.clock() - self.lookback - self.overlap
        self._own = [write for write in self._own if write.finished >= horizon]

    def attribute(self, change: Change) -> Attribution:
        """Who made this drift, as far as the audit log tells."""
        residency = change.kind == "project" and change.action == "uncorrectable" and "residency" in change.fields
        if change.kind in KINDS_WITHOUT_EVENTS or residency:
            return Attribution("no_audit_event", NO_AUDIT_EVENT)
        types = EVENT_TYPES_BY_KIND.get(change.kind)
        if types is None:
            return Attribution("no_audit_event", f"{NO_AUDIT_EVENT} (no audit event type is known for this kind)")
        if not self.available:
            why = f": {self.error}" if self.error else ""
            return Attribution("unavailable", f"the audit log could not be read{why}")
        ids = change_resource_ids(change)
        if not ids:
            return Attribution("not_found", "the drifted resource has no id to look up in the audit log")
        matching = sorted(
            (e for e in self.events.values() if e.type in types and e.resource_ids & ids),
            key=lambda e: (e.effective_at, e.id),
            reverse=True,
        )
        if not matching:
            return Attribution("not_found", "no matching audit event in the period read")
        newest = matching[0]
        if self.is_own(newest):
            return Attribution("not_found", "no audit event after this daemon's own last write to it")
        actor = newest.actor
        return Attribution(
            "audit_event",
            "from the audit log",
            actor=actor.describe() if actor is not None else "unknown",
            actor_type=actor.type if actor is not None else None,
            effective_at=newest.effective_at,
            event_id=newest.id,
            event_type=newest.type,
        )

    def attribute_all(self, changes: Iterable[Change]) -> list[Attribution]:
        return [self.attribute(change) for change in changes]

    # --- internals ---------------------------------------------------------------------------------------

    def is_own(self, event: AuditLog) -> bool:
        """Whether this event records a write this process made (its own audit trail, not drift)."""
        actor = event.actor
        if actor is None or actor.type != "api_key":
            return False
        if self.own_key_ids and actor.key_id not in self.own_key_ids:
            return False  # another key wrote in the same window: not ours
        created_name = (event.details.get("data") or {}).get("name") if event.type == "project.created" else None
        for write in self._own:
            if not write.started - self.tolerance <= event.effective_at <= write.finished + self.tolerance:
                continue
            if event.type not in EVENT_TYPES_BY_KIND.get(write.kind, ()):
                continue
            if event.resource_ids & write.resource_ids or (write.name is not None and created_name == write.name):
                return True
        return False

    def _prune(self) -> None:
        if len(self.events) <= self.max_events:
            return
        keep = sorted(self.events.values(), key=lambda e: (e.effective_at, e.id))[-self.max_events :]
        self.events = {event.id: event for event in keep}


def _iso(moment: float | None) -> str | None:
    if moment is None:
        return None
    return datetime.fromtimestamp(moment, UTC).isoformat().replace("+00:00", "Z")
