"""A token-bucket rate limit per endpoint (method + route template), like the Admin API's.

The real Admin API was measured near 7-10 requests a minute per endpoint; it publishes no numbers. Each
endpoint gets its own bucket of `capacity` tokens refilled at `per_minute` tokens a minute; a request takes
one token or is refused with 429. `retry-after-ms` (exact) and `Retry-After` (whole seconds, at least 1) say
when the next token will be there, unless `send_retry_after=False` (the real API has been seen to omit both).

Time comes from the emulator's clock, so a test can run a minute of traffic in a millisecond.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

__all__ = ["RateLimitConfig", "RateLimiter"]


@dataclass(frozen=True)
class RateLimitConfig:
    per_minute: float = 10.0  # refill rate
    capacity: float | None = None  # burst size; None = per_minute
    send_retry_after: bool = True
    # `"METHOD /template"` -> its own per_minute (and capacity), e.g. {"GET /organization/projects": 60}
    overrides: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.per_minute <= 0 or any(rate <= 0 for rate in self.overrides.values()):
            raise ValueError("per_minute must be positive")
        if self.capacity is not None and self.capacity < 1:
            raise ValueError("capacity must be at least 1")

    def limits(self, endpoint: str) -> tuple[float, float]:
        """(capacity, per_minute) for an endpoint."""
        if endpoint in self.overrides:
            rate = self.overrides[endpoint]
            return max(rate, 1.0), rate
        return (self.capacity if self.capacity is not None else max(self.per_minute, 1.0)), self.per_minute


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    def __init__(self, config: RateLimitConfig, clock: Callable[[], float]) -> None:
        self.config = config
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}

    def take(self, endpoint: str) -> float | None:
        """Take a token. None when allowed; otherwise the seconds until a token is available."""
        capacity, per_minute = self.config.limits(endpoint)
        now = self._clock()
        bucket = self._buckets.setdefault(endpoint, _Bucket(tokens=capacity, updated=now))
        elapsed = max(0.0, now - bucket.updated)  # a clock that steps back must not drain the bucket
        bucket.tokens = min(capacity, bucket.tokens + elapsed * per_minute / 60.0)
        bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return None
        return (1.0 - bucket.tokens) * 60.0 / per_minute
