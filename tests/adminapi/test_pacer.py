"""The pacer: an endpoint is unpaced until a 429, then requests go one interval apart, at the pace of the moment."""

from __future__ import annotations

import asyncio

import pytest

from datacontrols.adminapi.pacer import DECREASE, FIRST_UNHINTED, INCREASE, Pacer
from testsupport.clock import FakeClock

E = "GET /organization/projects/{project_id}/data_retention"


async def test_an_unpaced_endpoint_never_waits_and_a_429_paces_it() -> None:
    clock = FakeClock()
    pacer = Pacer(clock, clock.sleep)
    for _ in range(5):
        await pacer.wait(E)
    assert clock.slept == []
    pacer.throttled(E, 6.0)
    await pacer.wait(E)
    await pacer.wait(E)
    assert clock.slept == [6.0, 6.0] and pacer.interval(E) == 6.0
    pacer.throttled("GET /organization/users", None)  # another endpoint: its own pace
    assert pacer.interval(E) == 6.0 and pacer.interval("GET /organization/users") == FIRST_UNHINTED


async def test_429s_slow_the_pace_and_successes_quicken_it() -> None:
    clock = FakeClock()
    pacer = Pacer(clock, clock.sleep)
    pacer.throttled(E, None)
    pacer.throttled(E, None)
    assert pacer.interval(E) == pytest.approx(FIRST_UNHINTED * DECREASE)
    pacer.succeeded(E)
    assert pacer.interval(E) == pytest.approx(FIRST_UNHINTED * DECREASE * INCREASE)
    for _ in range(500):
        pacer.succeeded(E)
    assert pacer.interval(E) == 0.0  # quick enough to be no pace at all


async def test_queued_requests_go_in_order_one_interval_apart_at_the_current_pace() -> None:
    clock = FakeClock()
    pacer = Pacer(clock, clock.sleep)
    pacer.throttled(E, 10.0)
    order: list[tuple[int, float]] = []

    async def one(index: int) -> None:
        await pacer.wait(E)
        order.append((index, clock.now))
        if index == 0:
            pacer.succeeded(E)  # the pace quickens while the others queue: they use the new one

    started = clock.now
    await asyncio.gather(*(one(i) for i in range(3)))
    assert [i for i, _ in order] == [0, 1, 2]
    gaps = [round(b - a, 6) for (_, a), (_, b) in zip([(0, started), *order[:-1]], order, strict=True)]
    assert gaps == [10.0, round(10.0 * INCREASE, 6), round(10.0 * INCREASE, 6)]
