"""The work queue (pure): lanes, order, spreading, triggers, progress; and audit events -> re-reads."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from datacontrols.adminapi.audit_logs import AuditLog
from datacontrols.daemon.events import rereads_for
from datacontrols.daemon.queue import QUICK_SHARE, WorkQueue

T0 = 1_800_000_000.0
HOUR = 3600.0


def queue_of(projects: int, interval: float = HOUR) -> WorkQueue:
    queue = WorkQueue(interval=interval, epoch=T0)
    queue.sync([f"P{i:03d}" for i in range(projects)], T0)
    return queue


def test_the_organization_goes_first_then_each_project_is_read_whole_before_any_quick_read() -> None:
    queue = queue_of(3)
    assert queue.due(T0) == [(None, "full"), ("P000", "full"), ("P001", "full"), ("P002", "full")]
    # A project's quick lane first comes due within its period, after the whole read due at once.
    quick = [item.due for (name, lane), item in queue._items.items() if name and lane == "quick"]
    assert all(T0 < due <= T0 + HOUR * QUICK_SHARE for due in quick)


def test_a_batch_takes_at_most_its_limit_and_the_first_sweep_reads_each_project_once() -> None:
    queue = queue_of(5)
    first = queue.take(T0, 3)
    assert first.organization and first.full == {"P000", "P001"} and first.quick == frozenset() and first.size == 3
    queue.done(first, T0)
    second = queue.take(T0, 4)
    assert not second.organization and second.full == {"P002", "P003", "P004"} and second.quick == frozenset()
    queue.done(second, T0)
    assert queue.due(T0) == [] and queue.swept_once and queue.sweeps_completed == 1


def test_while_the_first_sweep_is_behind_whole_reads_of_unread_projects_go_before_quick_turns() -> None:
    queue = queue_of(4)
    queue.done(queue.take(T0, 2), T0)  # the organization and P000
    later = T0 + HOUR  # every quick turn is due by now, P000's among them
    due = queue.due(later)
    assert due[:3] == [("P001", "full"), ("P002", "full"), ("P003", "full")]
    assert ("P000", "quick") in due[3:]


def test_a_project_whose_quick_turn_comes_before_its_whole_read_counts_once_in_a_batch() -> None:
    queue = queue_of(2)
    queue.done(queue.everything(), T0)
    now = T0 + 2 * HOUR  # both lanes of both projects are due
    batch = queue.take(now, 3)
    assert batch.organization and batch.quick | batch.full == {"P000", "P001"} and batch.size == 3


def test_after_the_first_sweep_reads_are_spread_over_the_period_and_never_later_than_one_period() -> None:
    queue = queue_of(200)
    queue.done(queue.everything(), T0)
    full = sorted(item.due for (name, lane), item in queue._items.items() if name and lane == "full")
    quick = sorted(item.due for (name, lane), item in queue._items.items() if name and lane == "quick")
    assert all(T0 < due <= T0 + HOUR for due in full)
    assert all(T0 < due <= T0 + HOUR * QUICK_SHARE for due in quick)
    # Spread: each tenth of the period holds some of the reads, none holds a quarter of them.
    tenths = [sum(1 for due in full if T0 + k * HOUR / 10 < due <= T0 + (k + 1) * HOUR / 10) for k in range(10)]
    assert min(tenths) > 0 and max(tenths) < 50, tenths


def test_a_trigger_puts_an_item_ahead_of_the_sweep_with_its_reason() -> None:
    queue = queue_of(50)
    queue.done(queue.everything(), T0)
    now = T0 + 60
    assert queue.trigger("P042", "audit event user.added", now)
    assert not queue.trigger("nobody", "audit event user.added", now)  # a project the files do not name
    assert queue.due(now)[0] == ("P042", "full")
    batch = queue.take(now, 1)
    assert batch.full == {"P042"} and batch.reasons == (("P042", "audit event user.added"),)
    queue.done(batch, now)
    assert ("P042", "full") not in queue.due(now)


def test_projects_removed_from_the_files_leave_the_queue_and_new_ones_are_due_at_once() -> None:
    queue = queue_of(3)
    queue.done(queue.everything(), T0)
    queue.sync(["P000", "P001", "NEW"], T0 + 10)
    assert queue.projects == ["NEW", "P000", "P001"]
    assert queue.due(T0 + 10) == [("NEW", "full")]
    assert not queue.swept_once


def test_progress_reports_oldest_reads_depth_and_falling_behind() -> None:
    queue = queue_of(4, interval=600)
    progress = queue.progress(T0)
    assert progress["queue_depth"] == 5 and not progress["swept_once"]  # the organization, 4 whole reads
    assert progress["lanes"]["full"]["oldest_read_age_seconds"] is None  # not all read yet
    queue.done(queue.everything(), T0)
    later = T0 + 2000  # more than a period past every item's turn: nothing was read meanwhile
    progress = queue.progress(later)
    assert progress["swept_once"] and progress["sweeps_completed"] == 1
    assert progress["lanes"]["full"]["oldest_read_age_seconds"] == pytest.approx(2000)
    assert progress["behind_schedule"] and progress["queue_depth"] == 9


_AT = itertools.count(1)


def event(kind: str, project: str | None = None, actor: str = "user", **details: Any) -> AuditLog:
    return AuditLog.model_validate(
        {
            "id": f"e-{kind}-{project}",
            "type": kind,
            "effective_at": next(_AT),
            "project": {"id": project} if project else None,
            "actor": {"type": "session", "session": {"user": {"email": f"{actor}@example.com"}}},
            kind: details,
        }
    )


def test_events_about_a_project_reread_it_and_events_about_the_organization_reread_the_organization() -> None:
    names = {"proj_a": "A", "proj_b": "B"}
    events = [
        event("user.added", "proj_a"),
        event("api_key.created", "proj_a"),  # the same project once
        event("rate_limit.updated", "proj_b"),
        event("invite.sent"),
        event("user.added", "proj_unknown"),  # a project created since the last read of the list
    ]
    found = dict(rereads_for(events, names, lambda _: False))
    assert found == {
        "A": "audit event user.added",
        "B": "audit event rate_limit.updated",
        None: "audit event invite.sent",
    }


def test_a_project_event_rereads_the_organization_too_and_own_writes_reread_nothing() -> None:
    names = {"proj_a": "A"}
    archived = event("project.archived", "proj_a")
    assert dict(rereads_for([archived], names, lambda _: False)) == {
        None: "audit event project.archived",
        "A": "audit event project.archived",
    }
    assert rereads_for([archived, event("user.added", "proj_a")], names, lambda _: True) == []


def test_the_schedule_says_once_when_the_budget_cannot_keep_the_interval() -> None:
    import structlog.testing

    from datacontrols.adminapi import RequestBudget
    from datacontrols.daemon.schedule import Schedule

    now = [T0]
    queue = queue_of(3, interval=600)
    schedule = Schedule(queue, RequestBudget(5, lambda: now[0]), 20.0, clock=lambda: now[0], monotonic=lambda: now[0])
    with structlog.testing.capture_logs() as logs:
        schedule.finished(queue.everything(), None, "report")
        now[0] += 2000  # nothing read for more than a period
        schedule.finished(queue.take(now[0], 1), None, "report")
        schedule.finished(queue.take(now[0], 1), None, "report")
        now[0] += 1
        schedule.finished(queue.take(now[0], 100), None, "report")
    events = [entry["event"] for entry in logs if entry["event"].startswith("sweep_")]
    assert events == ["sweep_behind_schedule", "sweep_on_schedule"]
    assert schedule.batch_limit == 1  # 5 a minute: about 20 s of the budget is one item
