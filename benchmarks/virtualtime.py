"""Virtual time: minutes of rate-limited traffic in milliseconds, with one clock for client and server.

    clock = VirtualClock()
    emulator = Emulator(..., clock=clock.now, sleep=clock.sleep, rate_limit=RateLimitConfig(per_minute=10))
    api = AdminApi.connect(..., clock=clock.now, sleep=clock.sleep)
    result = await clock.run(observe(api, desired))

`sleep` parks the caller on a timer in virtual time. `run` drives the work: whenever nothing is ready to run
(every task waits on a virtual timer), it moves the clock to the earliest timer and wakes its sleepers. The
emulator is in-process and sends nothing over sockets, so "nothing ready" means "everyone is sleeping".

Telling "nothing ready" needs the event loop's ready queue, `loop._ready`: private, but present in every
CPython asyncio loop since 3.4. A loop without it (uvloop) is refused rather than run wrong.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Awaitable
from typing import Any, TypeVar

__all__ = ["VirtualClock"]

T = TypeVar("T")


class VirtualClock:
    def __init__(self, start: float = 1_780_000_000.0) -> None:
        self.start = start
        self._now = start
        self._timers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()  # ties wake in the order they slept

    def now(self) -> float:
        return self._now

    @property
    def elapsed(self) -> float:
        return self._now - self.start

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        wake = asyncio.get_running_loop().create_future()
        heapq.heappush(self._timers, (self._now + seconds, next(self._order), wake))
        await wake

    async def run(self, work: Awaitable[T]) -> T:
        """Await `work`, advancing virtual time whenever every task is asleep."""
        loop = asyncio.get_running_loop()
        ready: Any = getattr(loop, "_ready", None)
        if ready is None:
            raise RuntimeError("VirtualClock needs CPython's asyncio event loop (it reads its ready queue)")
        task = asyncio.ensure_future(work)
        while not task.done():
            await asyncio.sleep(0)  # let everything that can run, run
            if task.done() or len(ready):
                continue
            if not self._advance():
                await asyncio.sleep(0.001)  # waiting on something real (there should be nothing): do not spin
        return task.result()

    def _advance(self) -> bool:
        """Move to the earliest live timer and wake everyone due then; False if no timer is set."""
        while self._timers and self._timers[0][2].done():  # a sleeper that was cancelled
            heapq.heappop(self._timers)
        if not self._timers:
            return False
        self._now = max(self._now, self._timers[0][0])
        while self._timers and self._timers[0][0] <= self._now:
            _, _, wake = heapq.heappop(self._timers)
            if not wake.done():
                wake.set_result(None)
        return True
