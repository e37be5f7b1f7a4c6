"""The budgeted daemon, in virtual time: `--max-requests-per-minute 60 --interval 1h`.

- no endpoint gets more than 10 requests in any 10 seconds, every request counted;
- the first sweep finds all the drift a whole read finds, and readiness waits for it;
- a hand-made change that the audit log records is alerted within a minute, with its author;
- a retention change (no audit event) is found within the quick lane's period, and in enforce mode
  corrected only after a read of the whole project.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from daemon_support import ADMIN_KEY, BASE_URL, approved_demo_seed, daemon_for

from datacontrols.adminapi.transport import RequestRecord
from datacontrols.daemon.queue import QUICK_SHARE
from datacontrols.daemon.service import Daemon
from datacontrols.emulator import Emulator
from testsupport.clock import SharedClock
from testsupport.windows import most_in_any_window

HOUR = 3600.0
CAROL = "user-DemoCarol000000000001"  # a member of Support Bot in the approved demo organization


@pytest.fixture
def clock() -> SharedClock:
    return SharedClock()


@pytest.fixture
def emulator(clock: SharedClock) -> Emulator:
    return Emulator(admin_key=ADMIN_KEY, seed=approved_demo_seed(), rng_seed=5, clock=clock, sleep=clock.sleep)


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch, clock: SharedClock) -> dict[str, list[float]]:
    """When each request went out, by endpoint: every request the daemon's client sends passes here."""
    times: dict[str, list[float]] = defaultdict(list)
    original = Daemon._on_request

    def record(self: Daemon, request: RequestRecord) -> None:
        times[request.template].append(clock())
        original(self, request)

    monkeypatch.setattr(Daemon, "_on_request", record)
    return times


@pytest.fixture
async def person(emulator: Emulator) -> AsyncIterator[Callable[[str], httpx.AsyncClient]]:
    clients: list[httpx.AsyncClient] = []

    def as_person(email: str) -> httpx.AsyncClient:
        client = httpx.AsyncClient(
            transport=emulator.http_transport(),
            base_url=BASE_URL,
            headers={"Authorization": f"Bearer {ADMIN_KEY}", "x-emulator-actor": email},
        )
        clients.append(client)
        return client

    yield as_person
    for client in clients:
        await client.aclose()


def budgeted(emulator: Emulator, clock: SharedClock, mode: str = "report") -> Daemon:
    return daemon_for(emulator, clock=clock, mode=mode, interval=HOUR, jitter=0, max_requests_per_minute=60)


async def tick_until(daemon: Daemon, clock: SharedClock, done: Callable[[], Any], within: float) -> float:
    """Drive the schedule (one look a second, as `serve` does) until `done()`; the virtual seconds it took."""
    started = clock()
    while not done():
        assert clock() - started <= within, f"not done within {within} s"
        await daemon.run_due()
        if not done():
            await clock.sleep(1.0)
    return clock() - started


def open_drift(daemon: Daemon, kind: str, project: str) -> list[dict[str, Any]]:
    return [
        item.to_json()
        for item in daemon.ledger.open.values()
        if item.change.get("kind") == kind and item.project == project
    ]


async def test_the_budget_holds_the_first_sweep_finds_everything_and_an_audited_change_is_alerted_within_a_minute(
    emulator: Emulator, clock: SharedClock, sent: dict[str, list[float]], person: Callable[[str], httpx.AsyncClient]
) -> None:
    whole = budgeted(emulator, clock)
    try:
        reference = await whole.run_once()  # a whole read at once: what the first sweep must find too
        assert reference is not None and reference.plan is not None
        expected = {item for item in whole.ledger.open}
    finally:
        await whole.aclose()
    sent.clear()

    daemon = budgeted(emulator, clock)
    try:
        took = await tick_until(daemon, clock, lambda: daemon.queue.swept_once, within=600)
        assert daemon.readiness()[0]
        assert set(daemon.ledger.open) == expected  # nothing a whole read finds is missed
        assert daemon.last_run is not None and daemon.last_run.not_read == []
        progress = daemon.work_progress()
        assert progress["sweeps_completed"] >= 1 and progress["max_requests_per_minute"] == 60
        assert took < 120, took  # 4 projects: each endpoint has a handful of reads at one a second

        support = next(p.id for p in daemon.sweep.snapshot().projects if p.name == "Support Bot")
        answer = await person("dave@example.com").post(
            f"/organization/projects/{support}/users/{CAROL}", json={"role": "owner"}
        )
        assert answer.is_success

        def promoted() -> list[dict[str, Any]]:
            return [d for d in open_drift(daemon, "project_user", "Support Bot") if d["subject"] == "carol@example.com"]

        assert await tick_until(daemon, clock, lambda: any(promoted()), within=60) <= 60
        assert promoted()[0]["attribution"]["actor"] == "dave@example.com"

        # An hour at the budget: the sweep goes on, never past the cap.
        await tick_until(daemon, clock, lambda: clock() >= daemon.started_at + HOUR, HOUR + 60)
    finally:
        await daemon.aclose()
    for endpoint, times in sent.items():
        assert most_in_any_window(times, 10.0) <= 10, endpoint
        assert most_in_any_window(times, 60.0) <= 60, endpoint
    # Not idle either: every project was read again within the hour.
    assert daemon.queue.progress(clock())["lanes"]["full"]["oldest_read_age_seconds"] <= HOUR


async def test_a_retention_change_is_found_by_the_quick_lane_and_corrected_after_a_whole_read(
    emulator: Emulator, clock: SharedClock, sent: dict[str, list[float]], person: Callable[[str], httpx.AsyncClient]
) -> None:
    daemon = budgeted(emulator, clock, mode="enforce")
    try:
        await tick_until(daemon, clock, lambda: daemon.queue.swept_once, within=600)
        support = next(p.id for p in daemon.sweep.snapshot().projects if p.name == "Support Bot")
        before = (await person("eve@example.com").get(f"/organization/projects/{support}/data_retention")).json()
        answer = await person("eve@example.com").post(
            f"/organization/projects/{support}/data_retention", json={"retention_type": "modified_abuse_monitoring"}
        )
        assert answer.is_success
        changed_at = clock()
        run_before = daemon.last_run
        reads_before = len(sent["/organization/projects/{project_id}/users"])

        def corrected() -> bool:
            run = daemon.last_run
            if run is run_before:
                return False
            applied = run.result.applied if run is not None and run.result is not None else []
            return any(c.kind == "project_data_retention" and c.project == "Support Bot" for c in applied)

        await tick_until(daemon, clock, corrected, within=HOUR * QUICK_SHARE + 60)
        assert clock() - changed_at <= HOUR * QUICK_SHARE + 60
        after = (await person("eve@example.com").get(f"/organization/projects/{support}/data_retention")).json()
        assert after["type"] == before["type"]
        # The correction followed a whole read of the project (its members too), not the quick read alone.
        assert len(sent["/organization/projects/{project_id}/users"]) > reads_before
    finally:
        await daemon.aclose()
