"""The daemon's work queue: which parts of the organization to read next, and when (pure: no I/O).

The Admin API allows a handful of requests a minute per endpoint, shared with everyone else who uses the
organization, and a project costs about one request on each of a dozen endpoints. So the daemon does not
read the whole organization per interval; it reads it part by part, in the style of controller-runtime's
work queues:

- Work items: the organization (its project list, its own settings, the user directory) and each project.
  A project has two lanes. The *full* lane reads all its controls; the *quick* lane only those the audit
  log does not record (data retention, model and hosted-tool permissions, spend: `QUICK_KINDS`), whose drift
  nothing else would reveal, and which matter most. The quick lane comes round twice as often. A project
  not read yet is read whole first: that read covers both lanes, and a quick read alone would be read again
  by it (a project's plan waits for its first whole read), which at 1,000 projects doubled the first sweep.
- Each item has a fixed phase within its period (from its name), so after the first sweep the reads are
  spread evenly over the period instead of all coming due at once; an item is never due later than one
  period after it was last read. `--interval` is that period for the full lane (the longest a control may
  go unread); the quick lane and the organization have half of it.
- An audit-log event, or drift the quick lane found in enforce mode, makes an item due at once, ahead of
  the rest (`trigger`). The schedule stays level-triggered: a missed event only delays detection until the
  item's next sweep.
- A batch takes the items due now, in order (triggered, then the oldest due first), up to a limit that
  keeps it to a few seconds of the budget, so that a triggered item never waits long behind a sweep.

When the budget cannot read everything within the period, items simply come due faster than they are
read: the queue runs as fast as the budget allows, and `progress()` says how far behind it is.
"""

from __future__ import annotations

import math
import random
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Final, Literal

__all__ = ["QUICK_SHARE", "Batch", "Lane", "WorkQueue"]

Lane = Literal["quick", "full"]
ORGANIZATION: Final = None  # the organization's own item, beside the projects' names
QUICK_SHARE: Final = 0.5  # the quick lane's and the organization's period, as a share of the interval


@dataclass(frozen=True)
class Batch:
    """What one daemon run reads: the organization or not, projects whole, projects' quick controls."""

    organization: bool = False
    full: frozenset[str] = frozenset()
    quick: frozenset[str] = frozenset()
    reasons: tuple[tuple[str, str], ...] = ()  # (item, why) for the items triggered ahead of their turn

    @property
    def empty(self) -> bool:
        return not self.organization and not self.full and not self.quick

    @property
    def size(self) -> int:
        return int(self.organization) + len(self.full) + len(self.quick - self.full)

    def describe(self) -> dict[str, Any]:
        return {
            "organization": self.organization,
            "projects_read_whole": len(self.full),
            "projects_read_quick": len(self.quick - self.full),
            "triggered": [{"item": item, "why": why} for item, why in self.reasons],
        }


@dataclass
class _Item:
    period: float
    phase: float  # seconds into each period
    due: float
    last_read: float | None = None
    triggered: str | None = None  # why it was made due ahead of its turn


@dataclass
class WorkQueue:
    """Items and when each is due. Times are the daemon's wall clock (seconds)."""

    interval: float
    epoch: float  # when the schedule began: the phases count from here
    jitter: float = 0.0  # at most this many seconds are added at random to each item's next turn
    _items: dict[tuple[str | None, Lane], _Item] = field(default_factory=dict)
    sweeps_completed: int = 0  # times every item had been read since the last count
    _sweep_reads: set[tuple[str | None, Lane]] = field(default_factory=set)

    def __post_init__(self) -> None:
        self._add((ORGANIZATION, "full"), self.epoch - 1.0)  # first: the projects' reads need its list

    # --- what there is -------------------------------------------------------------------------------

    def sync(self, projects: Iterable[str], now: float) -> None:
        """Make the projects of the desired state the queue's projects: new ones are due at once for a whole
        read (their quick lane's first turn comes after it), removed ones are forgotten."""
        wanted = set(projects)
        for key in [k for k in self._items if k[0] is not None and k[0] not in wanted]:
            del self._items[key]
            self._sweep_reads.discard(key)
        for name in sorted(wanted):
            self._add((name, "full"), now)
            self._add((name, "quick"), now, next_slot=True)  # the whole read due now reads it first

    def _add(self, key: tuple[str | None, Lane], due: float, *, next_slot: bool = False) -> None:
        """Add an item due at `due`, or with `next_slot` at its first phase slot after `due`."""
        if key in self._items:
            return
        name, lane = key
        period = self.interval * (QUICK_SHARE if lane == "quick" or name is None else 1.0)
        phase = (zlib.crc32(f"{name}/{lane}".encode()) / 2**32) * period
        item = _Item(period=period, phase=phase, due=due)
        if next_slot:
            item.due = self._next_slot(item, due)
        self._items[key] = item

    @property
    def projects(self) -> list[str]:
        return sorted({name for name, _ in self._items if name is not None})

    # --- what comes next -----------------------------------------------------------------------------

    def trigger(self, project: str | None, why: str, now: float) -> bool:
        """Make an item (a project, read whole; None: the organization) due at once, ahead of the sweep.
        False when the queue does not know the project."""
        item = self._items.get((project, "full"))
        if item is None:
            return False
        item.due = min(item.due, now)
        item.triggered = item.triggered or why
        return True

    def due(self, now: float) -> list[tuple[str | None, Lane]]:
        """The items due now, in the order they are taken: triggered first, then the oldest due."""
        ready = [(key, item) for key, item in self._items.items() if item.due <= now]
        ready.sort(key=lambda pair: (pair[1].triggered is None, pair[1].due, str(pair[0])))
        return [key for key, _ in ready]

    def take(self, now: float, limit: int) -> Batch:
        """Up to `limit` items due now (a project's two lanes count once: its full read covers both)."""
        organization = False
        full: set[str] = set()
        quick: set[str] = set()
        reasons: list[tuple[str, str]] = []
        for name, lane in self.due(now):
            if len(full | quick) + organization >= max(1, limit):
                break
            item = self._items[(name, lane)]
            if item.triggered is not None:
                reasons.append((name or "organization", item.triggered))
            if name is None:
                organization = True
            elif lane == "full":
                full.add(name)
            else:
                quick.add(name)
        return Batch(organization, frozenset(full), frozenset(quick - full), tuple(reasons))

    def everything(self) -> Batch:
        """A batch of every item: a whole sweep at once (`Daemon.run_once`, and tests)."""
        return Batch(organization=True, full=frozenset(self.projects))

    def done(self, batch: Batch, now: float) -> None:
        """The batch was read at `now`: each item read comes due again at its next phase slot."""
        keys: list[tuple[str | None, Lane]] = [(ORGANIZATION, "full")] if batch.organization else []
        for name in batch.full:
            keys += [(name, "full"), (name, "quick")]
        keys += [(name, "quick") for name in batch.quick]
        for key in keys:
            item = self._items.get(key)
            if item is None:
                continue
            item.last_read = now
            item.triggered = None
            item.due = self._next_slot(item, now) + (random.uniform(0, self.jitter) if self.jitter > 0 else 0.0)
            self._sweep_reads.add(key)
        if len(self._sweep_reads) >= len(self._items) and set(self._items) <= self._sweep_reads:
            self.sweeps_completed += 1
            self._sweep_reads.clear()

    def _next_slot(self, item: _Item, after: float) -> float:
        slots = math.floor((after - self.epoch - item.phase) / item.period) + 1
        return self.epoch + item.phase + slots * item.period

    # --- how it is going -----------------------------------------------------------------------------

    def progress(self, now: float) -> dict[str, Any]:
        """What /status and the metrics show: sweep progress, the oldest read per lane, the queue's depth."""
        lanes: dict[str, dict[str, Any]] = {}
        for lane_name in ("organization", "quick", "full"):
            items = [
                item
                for (name, lane), item in self._items.items()
                if (lane_name == "organization") == (name is None) and (name is None or lane == lane_name)
            ]
            read = [item.last_read for item in items if item.last_read is not None]
            lanes[lane_name] = {
                "items": len(items),
                "read_once": len(read),
                "period_seconds": round(items[0].period, 3) if items else None,
                "oldest_read_age_seconds": round(now - min(read), 3) if len(read) == len(items) and read else None,
                "overdue": sum(1 for item in items if item.due <= now - item.period),
            }
        behind = any(lane["overdue"] for lane in lanes.values())
        return {
            "sweeps_completed": self.sweeps_completed,
            "swept_once": self.swept_once,
            "sweep_progress": round(len(self._sweep_reads) / max(1, len(self._items)), 4),
            "queue_depth": len(self.due(now)),
            "behind_schedule": behind,
            "lanes": lanes,
        }

    @property
    def swept_once(self) -> bool:
        """Every item has been read at least once: the daemon has seen the whole organization."""
        return all(item.last_read is not None for item in self._items.values())
