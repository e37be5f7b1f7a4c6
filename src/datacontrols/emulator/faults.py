"""Injected trouble: latency, 429s with and without Retry-After, 5xx and dropped connections.

    FaultConfig(server_error=0.2, paths=("/organization/projects",), methods=("GET",))
    FaultConfig(dropped=1.0, methods=("POST",), write_timing="after")   # state changed, then no answer

Each `FaultConfig` applies to the requests it matches: `paths` holds spec templates
(`/organization/projects/{project_id}`) or globs matched against the template or the concrete path, both
without the `/v1` prefix (`*` stays within one path segment, `**` crosses segments:
`/organization/projects/*/data_retention`, `/organization/**`); `methods` holds HTTP methods. Empty means all.
Rates are probabilities per matching request; the error rates of one config add up to at most 1.

When a fault strikes a write, `write_timing` says whether it comes before the handler runs (refused, state
unchanged) or after it (state changed, the client gets a 5xx or a dropped connection: "outcome unknown").
A 429 always comes before: answering 429 after acting would be a lie no real server tells.

Draws come from one seeded `random.Random`, so a run with the same seed and the same request order injects
the same faults.
"""

from __future__ import annotations

import functools
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = ["FaultConfig", "FaultDecision", "FaultInjector", "FaultKind"]

FaultKind = Literal["rate_limited", "rate_limited_no_retry_after", "server_error", "dropped"]
WriteTiming = Literal["before", "after", "either"]


@dataclass(frozen=True)
class FaultConfig:
    latency: float = 0.0  # seconds added to each matching request ...
    latency_jitter: float = 0.0  # ... plus a uniform 0..jitter
    latency_rate: float = 1.0  # the share of matching requests that get the latency
    rate_limited: float = 0.0  # 429 with Retry-After
    rate_limited_no_retry_after: float = 0.0  # 429 without it (the API omits it when a human must act)
    server_error: float = 0.0  # 5xx, status drawn from server_error_statuses
    server_error_statuses: tuple[int, ...] = (500, 502, 503)
    dropped: float = 0.0  # the connection closes without a complete answer
    retry_after: int = 1  # seconds, for rate_limited
    paths: tuple[str, ...] = ()
    methods: tuple[str, ...] = ()
    write_timing: WriteTiming = "before"

    def __post_init__(self) -> None:
        rates = {
            "latency_rate": self.latency_rate,
            "rate_limited": self.rate_limited,
            "rate_limited_no_retry_after": self.rate_limited_no_retry_after,
            "server_error": self.server_error,
            "dropped": self.dropped,
        }
        for name, rate in rates.items():
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"fault rate {name} must be between 0 and 1, got {rate}")
        if self.error_rate > 1.0 + 1e-9:
            raise ValueError(f"the error rates add up to {self.error_rate:.2f}, more than 1")
        if self.latency < 0 or self.latency_jitter < 0:
            raise ValueError("latency and latency_jitter must not be negative")
        if not self.server_error_statuses or any(not 500 <= s <= 599 for s in self.server_error_statuses):
            raise ValueError("server_error_statuses must be 5xx statuses")
        if self.retry_after < 1:
            raise ValueError("retry_after must be at least 1 second (the spec's minimum)")
        if self.write_timing not in ("before", "after", "either"):
            raise ValueError("write_timing must be before, after or either")

    @property
    def error_rate(self) -> float:
        return self.rate_limited + self.rate_limited_no_retry_after + self.server_error + self.dropped

    def matches(self, method: str, path: str, template: str) -> bool:
        if self.methods and method.upper() not in {m.upper() for m in self.methods}:
            return False
        if not self.paths:
            return True
        return any(
            pattern == template or _glob(pattern).fullmatch(path) or _glob(pattern).fullmatch(template)
            for pattern in self.paths
        )


@functools.cache
def _glob(pattern: str) -> re.Pattern[str]:
    """A path glob: `**` matches anything, `*` anything but `/`; everything else literally."""
    parts = re.split(r"(\*\*|\*)", pattern)
    return re.compile("".join({"**": ".*", "*": "[^/]*"}.get(part, re.escape(part)) for part in parts))


@dataclass(frozen=True)
class FaultDecision:
    """What happens to one request: extra latency, and at most one error fault."""

    latency: float = 0.0
    kind: FaultKind | None = None
    status: int | None = None  # for server_error
    retry_after: int | None = None  # for rate_limited
    after_apply: bool = False  # strike after the handler ran (writes only)


NO_FAULT = FaultDecision()


class FaultInjector:
    def __init__(self, configs: Sequence[FaultConfig], seed: int | None) -> None:
        self.configs = tuple(configs)
        self._rng = random.Random(None if seed is None else f"faults:{seed}")

    def decide(self, method: str, path: str, template: str) -> FaultDecision:
        latency = 0.0
        chosen: FaultDecision | None = None
        for config in self.configs:
            if not config.matches(method, path, template):
                continue
            has_latency = config.latency > 0 or config.latency_jitter > 0
            if has_latency and self._rng.random() < config.latency_rate:
                latency += config.latency + self._rng.uniform(0.0, config.latency_jitter)
            if chosen is None and config.error_rate > 0:
                chosen = self._draw(config, is_write=method != "GET")
        if chosen is None:
            return FaultDecision(latency=latency) if latency else NO_FAULT
        return FaultDecision(
            latency=latency,
            kind=chosen.kind,
            status=chosen.status,
            retry_after=chosen.retry_after,
            after_apply=chosen.after_apply,
        )

    def _draw(self, config: FaultConfig, *, is_write: bool) -> FaultDecision | None:
        roll = self._rng.random()
        kinds: tuple[tuple[FaultKind, float], ...] = (
            ("rate_limited", config.rate_limited),
            ("rate_limited_no_retry_after", config.rate_limited_no_retry_after),
            ("server_error", config.server_error),
            ("dropped", config.dropped),
        )
        for kind, rate in kinds:
            if roll < rate:
                return FaultDecision(
                    kind=kind,
                    status=self._rng.choice(config.server_error_statuses) if kind == "server_error" else None,
                    retry_after=config.retry_after if kind == "rate_limited" else None,
                    after_apply=is_write and kind in ("server_error", "dropped") and self._after(config),
                )
            roll -= rate
        return None

    def _after(self, config: FaultConfig) -> bool:
        if config.write_timing == "either":
            return self._rng.random() < 0.5
        return config.write_timing == "after"
