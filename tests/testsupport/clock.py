"""Fake time for tests: a clock that moves only when someone sleeps, and a variant that many tasks share.

    clock = FakeClock()
    api = AdminApi.connect(..., clock=clock, sleep=clock.sleep)    # retries and Retry-After cost nothing
    assert clock.slept == [2.0]

`SharedClock` is for many concurrent sleepers (the daemon, with a client and an emulator on one clock): time
passes for everyone at once, so N requests waiting out one Retry-After of 6 s cost 6 s, not 6 x N. The
benchmarks drive a stricter clock of their own (benchmarks/virtualtime.py) that needs the whole run under it.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools

__all__ = ["START", "FakeClock", "SharedClock"]

START = 1_780_000_000.0


class FakeClock:
    """Time that moves only when told to (`advance`) or when the fake `sleep` is awaited; sleeps are recorded."""

    def __init__(self, start: float = START) -> None:
        self.now = start
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += max(0.0, seconds)
        await asyncio.sleep(0)  # still yield, as a real sleep would


class SharedClock(FakeClock):
    """A FakeClock whose sleepers wake in time order, the clock jumping to each wake-up.

    A sleeper wakes when every other task has had its turn and no sleeper is due sooner.
    """

    def __init__(self, start: float = START) -> None:
        super().__init__(start)
        self._waiters: list[tuple[float, int]] = []
        self._order = itertools.count()

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        entry = (self.now + max(0.0, seconds), next(self._order))
        heapq.heappush(self._waiters, entry)
        try:
            while True:
                for _ in range(20):  # let every ready task run up to its own sleep first
                    await asyncio.sleep(0)
                if self._waiters and self._waiters[0] == entry:
                    heapq.heappop(self._waiters)
                    self.now = max(self.now, entry[0])
                    return
        except BaseException:
            if entry in self._waiters:
                self._waiters.remove(entry)
                heapq.heapify(self._waiters)
            raise
