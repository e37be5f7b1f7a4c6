"""The transport's concurrency limiter stays cheap with thousands of reads queued (found by benchmark 2).

A release used to wake every waiter (`notify_all`); each re-checked the limit and went back to sleep. With a
large organization's reads all queued at once that is O(waiters) work per request: 1,000 projects at 50 ms
took 2.4 times the latency bound, bound by CPU. Now a release wakes as many waiters as there are free slots.
"""

from __future__ import annotations

import asyncio

import pytest

from datacontrols.adminapi.transport import AdaptiveLimiter


async def test_a_release_wakes_only_as_many_waiters_as_there_are_free_slots(monkeypatch: pytest.MonkeyPatch) -> None:
    limiter = AdaptiveLimiter(initial=2, maximum=2)
    checks = 0
    room = limiter._room

    def counted() -> int:
        nonlocal checks
        checks += 1
        return room()

    monkeypatch.setattr(limiter, "_room", counted)
    peak = 0

    async def read() -> None:
        nonlocal peak
        await limiter.acquire()
        peak = max(peak, limiter.in_flight)
        await asyncio.sleep(0)
        await limiter.release(throttled=False)

    waiters = 300
    await asyncio.gather(*(read() for _ in range(waiters)))

    assert peak == 2
    assert limiter.in_flight == 0
    # Waking everyone on each release costs about waiters^2 / limit checks (~45,000 here); waking one per
    # free slot costs a few per waiter.
    assert checks < 5 * waiters


async def test_a_waiter_cancelled_after_being_woken_passes_its_slot_on() -> None:
    limiter = AdaptiveLimiter(initial=1, maximum=1)
    await limiter.acquire()
    first = asyncio.create_task(limiter.acquire())
    second = asyncio.create_task(limiter.acquire())
    await asyncio.sleep(0)  # both are waiting now

    await limiter.release(throttled=False)  # wakes `first` for the one free slot ...
    first.cancel()  # ... which is cancelled before it can take it
    await asyncio.wait_for(second, timeout=1.0)  # the slot must not be lost with it

    assert first.cancelled()
    assert limiter.in_flight == 1


async def test_a_throttled_limit_admits_no_one_until_requests_drain_below_it() -> None:
    limiter = AdaptiveLimiter(initial=4, maximum=4)
    for _ in range(4):
        await limiter.acquire()
    waiting = asyncio.create_task(limiter.acquire())
    await limiter.release(throttled=True)  # limit 4 -> 2 with 3 still in flight: no room
    await asyncio.sleep(0)
    assert not waiting.done()

    await limiter.release(throttled=False)
    await limiter.release(throttled=False)  # 1 in flight under a limit of 2: room for one
    await asyncio.wait_for(waiting, timeout=1.0)
    assert limiter.in_flight == 2
