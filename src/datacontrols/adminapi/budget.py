"""A hard cap on the requests one process sends to each endpoint: `reconcile serve --max-requests-per-minute N`.

The Admin API's limit is per endpoint and shared by everyone who uses the organization: its people in the
dashboard, SCIM, other tools. A daemon that learns the limit from 429s (`pacer`) would take all of it; the
cap keeps it to its share, whatever the server would allow.

The cap is a spacing, not a count per window: requests to one endpoint go out at least `60 / N` seconds
apart. That bounds every window, not only whole minutes: at 60 a minute, no 10 seconds hold more than 10.
A count per minute would allow all N in the first second. Every request counts, retries and 429s too: the
check is made where a request is sent (`Transport._send`), after it has its concurrency slot.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["RequestBudget"]

WINDOW = 60.0  # seconds: what `sent_last_minute` counts


@dataclass
class _Sent:
    last: float = float("-inf")
    times: deque[float] = field(default_factory=deque)  # kept for the metrics only, within the last minute


class RequestBudget:
    """`per_minute` requests a minute per endpoint at most, as a spacing of `60 / per_minute` seconds."""

    def __init__(self, per_minute: float, clock: Callable[[], float]) -> None:
        if not math.isfinite(per_minute) or per_minute <= 0:
            raise ValueError("the request budget is a positive number of requests a minute")
        self.per_minute = per_minute
        self.spacing = WINDOW / per_minute
        self._clock = clock
        self._sent: dict[str, _Sent] = {}

    def __repr__(self) -> str:
        return f"RequestBudget(per_minute={self.per_minute:g})"

    def claim(self, endpoint: str) -> float:
        """0 and the send is counted, when `endpoint` may take a request now; else the seconds to wait first."""
        now = self._clock()
        sent = self._sent.setdefault(endpoint, _Sent())
        wait = sent.last + self.spacing - now
        if wait > 0:
            return wait
        sent.last = now
        sent.times.append(now)
        self._forget(sent, now)
        return 0.0

    def sent_last_minute(self) -> dict[str, int]:
        """Requests sent to each endpoint in the last minute (the metrics' and /status's "against the cap")."""
        now = self._clock()
        for sent in self._sent.values():
            self._forget(sent, now)
        return {endpoint: len(sent.times) for endpoint, sent in sorted(self._sent.items()) if sent.times}

    @staticmethod
    def _forget(sent: _Sent, now: float) -> None:
        while sent.times and sent.times[0] <= now - WINDOW:
            sent.times.popleft()
