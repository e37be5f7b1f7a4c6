"""A repeated warning is written once a minute with a count: thousands of identical lines are one line."""

from __future__ import annotations

import io
import json
import logging

import structlog
from daemon_support import capture_logs

from datacontrols.log_repeats import RepeatLimitedHandler


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def handler(clock: Clock) -> tuple[RepeatLimitedHandler, io.StringIO, logging.Logger]:
    out = io.StringIO()
    limited = RepeatLimitedHandler(out, window=60, clock=clock)
    limited.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger = logging.getLogger(f"test.repeats.{id(out)}")
    logger.propagate = False
    logger.addHandler(limited)
    logger.setLevel(logging.DEBUG)
    return limited, out, logger


def test_ten_thousand_identical_errors_in_a_minute_are_two_lines() -> None:
    clock = Clock()
    limited, out, logger = handler(clock)
    for _ in range(10_000):
        logger.error("socket.accept() out of system resource")
        clock.t += 0.005  # 50 s in all
    assert out.getvalue().splitlines() == ["ERROR socket.accept() out of system resource"]
    clock.t = 61
    logger.error("socket.accept() out of system resource")  # after the window: its count, then a new window
    lines = out.getvalue().splitlines()
    assert lines[1] == (
        "ERROR socket.accept() out of system resource: 9999 more like it in the last 60 s (held back, not "
        "written one by one)"
    )
    assert lines[2] == "ERROR socket.accept() out of system resource" and len(lines) == 3
    limited.close()  # at exit: nothing held back is lost (none is held now)
    assert len(out.getvalue().splitlines()) == 3


def test_different_errors_info_lines_and_arguments_are_not_merged() -> None:
    clock = Clock()
    limited, out, logger = handler(clock)
    for _ in range(3):
        logger.info("run_started")
        logger.warning("project %s unreadable", "A")  # one template: one kind, whatever the argument
        logger.error("another failure")
    lines = out.getvalue().splitlines()
    assert lines.count("INFO run_started") == 3, "normal operation is never held back"
    assert lines.count("WARNING project A unreadable") == 1 and lines.count("ERROR another failure") == 1
    limited.close()
    tail = out.getvalue().splitlines()[len(lines) :]
    assert sorted(tail) == [
        "ERROR another failure: 2 more like it in the last 60 s (held back, not written one by one)",
        "WARNING project %s unreadable: 2 more like it in the last 60 s (held back, not written one by one)",
    ]


def test_structlog_events_are_one_kind_per_event_and_fields_not_per_run() -> None:
    log = structlog.get_logger("datacontrols.daemon")
    with capture_logs() as buffer:
        for run in range(5):
            with structlog.contextvars.bound_contextvars(run_id=f"run{run}"):
                log.warning("project_unreadable", project="A", error="HTTP 500")
                log.warning("project_unreadable", project="B", error="HTTP 500")
    events = [json.loads(line) for line in buffer.getvalue().splitlines()]
    unreadable = [e for e in events if e["event"] == "project_unreadable"]
    assert [e["project"] for e in unreadable] == ["A", "B"], "one line per project, not per run"
