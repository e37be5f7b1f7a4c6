"""What the daemon reads when: the work queue, the request budget and the audit-log poll, together.

- `batch(desired, whole)`: the items of the next run (the queue synced to the desired state's projects
  first, so a new project file is due at once), a few seconds of the budget's worth, or everything.
- `audit_due()` / `followed(trail, names)`: the audit log is read every `--audit-poll`; its new events
  make the items they name due at once (`events.rereads_for`).
- `finished(batch, plan, mode)`: the batch's items come due again at their next turn; in enforce mode, drift
  a quick read found makes its project due for a whole read (a write never follows a partial read).
- `progress()`: what /status and the metrics show of it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import structlog
from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED, JobEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from datacontrols.adminapi import RequestBudget
from datacontrols.daemon.attribution import AuditTrail
from datacontrols.daemon.events import rereads_for
from datacontrols.daemon.queue import Batch, WorkQueue
from datacontrols.desired.schema import DesiredState
from datacontrols.plan import Plan

__all__ = ["BATCH_SECONDS", "Schedule", "ticker"]

log = structlog.get_logger("datacontrols.daemon")

BATCH_SECONDS: Final = 20.0  # a run takes about this much of the budget at most, so triggered items wait little
QUICK_DRIFT: Final = "drift found by its quick read: read whole before it is corrected"


@dataclass
class Schedule:
    queue: WorkQueue
    budget: RequestBudget
    audit_poll: float  # seconds
    clock: Callable[[], float]  # wall clock, as the queue's times
    monotonic: Callable[[], float]
    _audit_read_at: float | None = field(default=None)  # monotonic
    behind: bool = False  # some item is more than a period late: the budget cannot keep the interval

    @property
    def batch_limit(self) -> int:
        """How many items one run takes: about `BATCH_SECONDS` of the budget (an item costs about one request
        on each of its endpoints)."""
        return max(1, int(self.budget.per_minute * BATCH_SECONDS / 60))

    def anything_due(self) -> bool:
        return bool(self.queue.due(self.clock()))

    def batch(self, desired: DesiredState, *, whole: bool) -> Batch:
        self.queue.sync((p.name for p in desired.projects), self.clock())
        return self.queue.everything() if whole else self.queue.take(self.clock(), self.batch_limit)

    def finished(self, batch: Batch, plan: Plan | None, mode: str) -> None:
        self.queue.done(batch, self.clock())
        progress = self.queue.progress(self.clock())
        if progress["behind_schedule"] != self.behind:  # said once per change, not once per run
            self.behind = progress["behind_schedule"]
            ages = {lane: values["oldest_read_age_seconds"] for lane, values in progress["lanes"].items()}
            if self.behind:
                log.warning(
                    "sweep_behind_schedule",
                    hint="the request budget cannot read everything within --interval: raise it, or the cap",
                    oldest_read_age_s=ages,
                    queue_depth=progress["queue_depth"],
                )
            else:
                log.info("sweep_on_schedule", oldest_read_age_s=ages)
        if mode != "enforce" or plan is None:
            return
        for name in sorted({c.project for c in plan.applicable if c.project in batch.quick}):
            self.queue.trigger(name, QUICK_DRIFT, self.clock())

    # --- the audit log -------------------------------------------------------------------------------

    def audit_due(self) -> bool:
        last = self._audit_read_at
        return last is None or self.monotonic() - last >= self.audit_poll

    def audit_tried(self) -> None:
        """A read of the audit log failed: tried again at the next poll, not at every tick."""
        self._audit_read_at = self.monotonic()

    def followed(self, trail: AuditTrail, projects_by_id: Mapping[str, str]) -> None:
        """The audit log was just read: make what its new events name due at once."""
        self._audit_read_at = self.monotonic()
        for item, why in rereads_for(trail.fresh, projects_by_id, trail.is_own):
            if self.queue.trigger(item, why, self.clock()):
                log.info("reread_triggered", item=item or "organization", why=why)
        trail.fresh = []

    # --- how it is going -----------------------------------------------------------------------------

    def progress(self) -> dict[str, Any]:
        """Sweep progress, oldest reads, queue depth, and the budget's use (/status `work`)."""
        return {
            **self.queue.progress(self.clock()),
            "max_requests_per_minute": self.budget.per_minute,
            "batch_limit": self.batch_limit,
            "requests_last_minute": self.budget.sent_last_minute(),
        }


def ticker(job: Callable[[], Awaitable[None]], tick: float, on_event: Callable[[JobEvent], None]) -> AsyncIOScheduler:
    """The APScheduler that looks at the queue every `tick` seconds, first at once, one look at a time
    (`on_event` hears of a look skipped while one is going, or missed)."""
    scheduler = AsyncIOScheduler(
        timezone=dt.UTC,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": max(1, int(tick))},
    )
    scheduler.add_listener(on_event, EVENT_JOB_MAX_INSTANCES | EVENT_JOB_MISSED)
    scheduler.add_job(
        job,
        IntervalTrigger(seconds=tick),
        id="reconcile",
        name="reconcile",
        next_run_time=dt.datetime.now(dt.UTC),
        replace_existing=True,
    )
    return scheduler
