"""The daemon while the Admin API is down: it backs off between failed runs and stops saying it is ready."""

from __future__ import annotations

from typing import Any

import httpx
from daemon_support import ADMIN_KEY, approved_demo_seed, daemon_for

from datacontrols.adminapi import RetryPolicy
from datacontrols.daemon.notifications import Notifier, Transitions
from datacontrols.daemon.readiness import answer_readiness
from datacontrols.daemon.run_health import RunHealth
from datacontrols.emulator import Emulator
from testsupport.clock import SharedClock


def refuse(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


def test_backoff_doubles_from_the_first_delay_up_to_the_interval() -> None:
    health = RunHealth(300, started_at=0, first_delay=15)
    waits = []
    for n in range(7):
        health.record(checked=False, failed=True, at=n, now=100.0)
        waits.append(health.wait(100.0))
    assert waits == [15, 30, 60, 120, 240, 300, 300]
    health.record(checked=True, failed=False, at=10, now=100.0)
    assert health.wait(100.0) == 0 and health.failures == 0


def test_readiness_turns_false_when_the_organization_has_not_been_checked_for_too_long() -> None:
    common = {"stopping": False, "desired_valid": True, "desired_problems": 0, "completed_once": True}
    ready, _ = answer_readiness(**common, last_success_age=10, unchecked_for=899, max_staleness=900)
    assert ready
    ready, body = answer_readiness(
        **common, last_success_age=None, unchecked_for=901, max_staleness=900, last_error="could not connect"
    )
    assert not ready
    assert body["reasons"] == [
        "the organization has not been checked for 901s (--max-staleness 900s); the last run: could not connect"
    ]


async def test_a_daemon_whose_api_is_down_skips_runs_while_it_backs_off_and_then_is_not_ready() -> None:
    clock = SharedClock()
    emulator = Emulator(admin_key=ADMIN_KEY, seed=approved_demo_seed(), rng_seed=7)
    options = {"http_transport": httpx.MockTransport(refuse), "retry": RetryPolicy(max_retries=0)}
    daemon = daemon_for(emulator, clock=clock, api_options=options, mode="report", interval=300)
    try:
        await daemon._scheduled_run()
        assert daemon.last_run is not None and daemon.last_run.outcome == "failure"
        skipped = daemon.runs_skipped
        await daemon._scheduled_run()  # at once: backing off
        assert daemon.runs_skipped == skipped + 1
        clock.advance(16)
        await daemon._scheduled_run()  # the first delay (15 s) has passed: tried again, failed again
        assert daemon.runs_skipped == skipped + 1 and daemon.health.failures == 2
        assert daemon.health.wait(clock()) == 30
        clock.advance(3 * 300 + 1)
        ready, body = daemon.readiness()
        assert not ready
        assert any("has not been checked for" in reason for reason in body["reasons"])
    finally:
        await daemon.aclose()


class _Item:
    def to_json(self) -> dict[str, str]:
        return {"kind": "project"}


async def test_webhook_summaries_are_plural_where_english_puts_it() -> None:
    sent: list[dict[str, object]] = []

    class Recording(Notifier):
        async def send(self, event: str, body: dict[str, object], **_: object) -> None:  # type: ignore[override]
            sent.append({"event": event, **body})

    items: list[Any] = [_Item(), _Item()]
    notifier = Recording(None, "json")
    await notifier.announce(Transitions(corrected=items, resolved=items[:1]), run_id="r", mode="enforce", at="t")
    summaries = [message["summary"] for message in sent]
    assert summaries == ["2 drift items corrected (enforce mode)", "1 drift item resolved (enforce mode)"]
