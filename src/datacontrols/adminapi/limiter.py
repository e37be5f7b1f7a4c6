"""The adaptive concurrency limit of a run's requests (additive increase, multiplicative decrease)."""

from __future__ import annotations

import asyncio

__all__ = ["AdaptiveLimiter"]


class AdaptiveLimiter:
    """Caps requests in flight; halves the cap on 429 and grows it back by one per `limit` successes.

    Only an exchange the server handled (`succeeded`) grows the cap: a 5xx or a dropped connection is no
    evidence that the API can take more.
    """

    def __init__(self, initial: int = 4, maximum: int = 8, minimum: int = 1) -> None:
        self.maximum = max(1, maximum)
        self.minimum = max(1, min(minimum, self.maximum))
        self.limit = float(min(max(initial, self.minimum), self.maximum))
        self.in_flight = 0
        self._cond = asyncio.Condition()

    def _room(self) -> int:
        return int(self.limit) - self.in_flight

    async def acquire(self) -> None:
        async with self._cond:
            try:
                await self._cond.wait_for(lambda: self._room() > 0)
            except asyncio.CancelledError:
                # This waiter may have been woken for a free slot and then cancelled: pass the wake-up on
                # (Python 3.11's Condition would lose it, and with it the slot, until the next release).
                self._cond.notify(max(self._room(), 0))
                raise
            self.in_flight += 1

    async def release(self, *, throttled: bool, succeeded: bool = True) -> None:
        async with self._cond:
            self.in_flight -= 1
            if throttled:
                self.limit = max(float(self.minimum), self.limit / 2)
            elif succeeded:
                self.limit = min(float(self.maximum), self.limit + 1 / max(self.limit, 1.0))
            # Wake only as many waiters as there are free slots. notify_all woke every waiter on every
            # release: with thousands of reads queued (a large organization) that cost O(waiters) per
            # request and made a dry run CPU-bound (measured in benchmarks/: 2.4x the latency bound).
            self._cond.notify(max(self._room(), 0))
