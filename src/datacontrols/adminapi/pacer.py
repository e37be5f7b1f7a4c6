"""The pace of each endpoint (method + route template), learned from the server's 429s.

The Admin API limits each endpoint to a handful of requests a minute and publishes no numbers. Waiting out a
429 and then trying again (one probe per waiting request) costs about one 429 per throttled read, and the
real API may count those against the limit too. So each endpoint keeps a pace instead:

- An endpoint starts unpaced: requests go as fast as the concurrency limit lets them.
- A 429 paces it (multiplicative decrease of the rate): the interval between its requests becomes at least
  the server's hint (`retry-after-ms` / `Retry-After`) and at least `DECREASE` times the interval before (a
  bare 429, with no hint, the same, from `FIRST_UNHINTED`). No request to the endpoint goes out
  before the hint has passed.
- Each success shortens the interval by `INCREASE` (additive increase of the rate, in small steps), so the
  pace keeps probing for the rate the server allows and settles just around it: about one 429 every dozen
  requests past the burst, instead of one per request.
- Requests go one interval apart, in the order they asked; each one's slot is worked out when it is next in
  line, at the pace of that moment.

Time comes from the transport's clock and sleep, so it behaves the same in real and in virtual time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Final

__all__ = ["DECREASE", "FIRST_UNHINTED", "INCREASE", "Pacer"]

DECREASE: Final = 1.25  # a 429 makes the interval at least this many times longer
INCREASE: Final = 0.96  # a success makes it this many times shorter
FIRST_UNHINTED: Final = 1.0  # seconds: the first interval after a bare 429
MAX_INTERVAL: Final = 120.0  # seconds: a pace is never slower than this (the retry budget ends a call before)
UNPACED_BELOW: Final = 0.005  # seconds: an interval this short is no pace at all


@dataclass
class _Pace:
    interval: float = 0.0  # 0: unpaced
    last: float = float("-inf")  # when the last request was let go
    not_before: float = float("-inf")  # a 429's hint: no request before this
    turn: asyncio.Lock = field(default_factory=asyncio.Lock)  # FIFO: one waiter at a time takes its slot


class Pacer:
    def __init__(
        self, clock: Callable[[], float], sleep: Callable[[float], Awaitable[None]], *, floor: float = 0.0
    ) -> None:
        """`floor`: the shortest interval on any endpoint (a request budget's spacing; 0: none)."""
        self._clock = clock
        self._sleep = sleep
        self.floor = floor
        self._paces: dict[str, _Pace] = {}

    def interval(self, endpoint: str) -> float:
        """The current interval between requests to `endpoint`, in seconds (0: unpaced)."""
        pace = self._paces.get(endpoint)
        return max(pace.interval if pace is not None else 0.0, self.floor)

    async def wait(self, endpoint: str) -> None:
        """Wait for this request's turn on `endpoint`: one interval after the last, and not before a hint.

        The slot is worked out when the request is next in line, at the pace of that moment, so a pace that
        quickens while requests queue is used at once (a slot fixed when it was asked for would not be)."""
        pace = self._paces.setdefault(endpoint, _Pace())
        if not pace.interval and not self.floor and pace.not_before <= self._clock() and not pace.turn.locked():
            pace.last = self._clock()  # unpaced and nobody queued: the common case costs no lock
            return
        async with pace.turn:
            while (due := max(pace.last + max(pace.interval, self.floor), pace.not_before)) > (now := self._clock()):
                await self._sleep(due - now)  # then look again: a 429 meanwhile may have moved the slot
            pace.last = self._clock()

    def throttled(self, endpoint: str, hint: float | None) -> None:
        """The server answered 429; `hint`: the seconds it asked to wait, None when it gave no hint."""
        pace = self._paces.setdefault(endpoint, _Pace())
        floor = FIRST_UNHINTED if hint is None else hint
        pace.interval = min(max(pace.interval * DECREASE, floor), MAX_INTERVAL)
        # The next request waits the whole new interval, not only the hint: the hint says when one token is
        # back, and a queue that rushes in then finds the bucket empty again.
        pace.not_before = max(pace.not_before, self._clock() + pace.interval)

    def succeeded(self, endpoint: str) -> None:
        """The server answered: the endpoint may take a little more."""
        pace = self._paces.get(endpoint)
        if pace is None or not pace.interval:
            return
        pace.interval *= INCREASE
        if pace.interval < UNPACED_BELOW:
            pace.interval = 0.0
