"""How the daemon's runs have been going: when the organization was last checked, and backing off while the
Admin API is down.

- **Staleness.** A run that read the organization and planned (whatever it then applied or refused) has
  checked it; readiness turns false once the last check is older than `--max-staleness` (default three
  intervals), counted from the start when there has been none, so a daemon that cannot reach the API for
  hours says so instead of staying ready with a rising `last_success_age_seconds`.
- **Backoff.** A failed run has already spent its retry budget on an API that did not answer. When runs take
  longer than the interval, the scheduler would start the next one at once: back to back, spending the
  organization's rate budget on nothing. After `n` failures in a row the next run waits at least
  `min(first_delay * 2**(n-1), interval)` from the end of the last one; a run that checks resets it. The cap
  is the interval, so the daemon never checks less often than it was told to.
"""

from __future__ import annotations

from typing import Final

__all__ = ["FIRST_DELAY", "RunHealth"]

FIRST_DELAY: Final = 15.0  # seconds after the first failure


class RunHealth:
    def __init__(self, interval: float, *, started_at: float, first_delay: float = FIRST_DELAY) -> None:
        self.interval = interval
        self.first_delay = first_delay
        self.failures = 0
        self.last_checked_at: float | None = None  # wall clock, like the run records
        self.key_rejected: int | None = None  # the HTTP status of the API's refusal of the key, until a run checks
        self._started_at = started_at
        self._not_before = 0.0

    def record(self, *, checked: bool, failed: bool, at: float, now: float) -> None:
        """After a run ends: `checked` when it read the organization and planned; `at` on the wall clock,
        `now` on a monotonic clock."""
        if checked:
            self.last_checked_at, self.key_rejected = at, None
        if not failed:
            self.failures, self._not_before = 0, 0.0
            return
        self.failures += 1
        delay = min(self.first_delay * 2.0 ** min(self.failures - 1, 30), self.interval)
        self._not_before = now + delay

    def wait(self, now: float) -> float:
        """Seconds before the next run may start (0: now)."""
        return max(0.0, self._not_before - now)

    def unchecked_for(self, at: float) -> float:
        """Seconds since the organization was last checked (since the start, when it never was)."""
        return at - (self.last_checked_at if self.last_checked_at is not None else self._started_at)
