"""One full dry run of the real engine (observe + diff, read-only client) against an emulated organization.

Requests are counted where the server sees them, in the emulator's request log, so nothing the client does
(retries, pagination) escapes the count. The naive baseline is run the same way, for the same figures.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from benchmarks.naive import NaiveClient, NaiveResult
from benchmarks.organization import ADMIN_KEY, NOW, Organization
from benchmarks.virtualtime import VirtualClock
from datacontrols.adminapi import AdminApi
from datacontrols.emulator import Emulator, FaultConfig, RateLimitConfig, RequestLog
from datacontrols.engine import DEFAULT_REGISTRY, Registry, diff, observe
from datacontrols.kinds.api_keys import ProjectApiKeys

__all__ = ["REGISTRY", "DryRun", "NaiveRun", "emulator_for", "failed_requests", "run_engine", "run_naive"]

# Key ages are measured against the emulator's fixed clock, so the plan is the same whatever the date.
REGISTRY: Registry = dataclasses.replace(
    DEFAULT_REGISTRY,
    project=tuple(
        ProjectApiKeys(clock=lambda: NOW) if k.name == "project_api_key" else k for k in DEFAULT_REGISTRY.project
    ),
)


@dataclass
class DryRun:
    requests: Counter[str]  # per `METHOD template`, retries included
    statuses: Counter[int | None]
    wall_seconds: float
    cpu_seconds: float  # the client's and the in-process emulator's together
    virtual_seconds: float | None  # when the clock was virtual
    changes: int  # in the plan
    projects_unread: int  # projects the engine recorded as failed to read
    failed_requests: int  # reads whose last answer was an error (429, 5xx, no answer)

    @property
    def total(self) -> int:
        return sum(self.requests.values())


@dataclass
class NaiveRun:
    result: NaiveResult
    requests: Counter[str]
    statuses: Counter[int | None]
    wall_seconds: float
    virtual_seconds: float | None

    @property
    def total(self) -> int:
        return sum(self.requests.values())


def emulator_for(
    org: Organization,
    *,
    faults: FaultConfig | None = None,
    rate_limit: RateLimitConfig | None = None,
    clock: VirtualClock | None = None,
) -> Emulator:
    """An emulator holding the generated organization; on `clock` when given, else on real time from NOW."""
    now: Callable[[], float]
    sleep: Callable[[float], Awaitable[None]]
    if clock is not None:
        now, sleep = clock.now, clock.sleep
    else:
        started = time.monotonic()
        now, sleep = (lambda: NOW + (time.monotonic() - started)), asyncio.sleep
    return Emulator(
        admin_key=ADMIN_KEY, seed=org.seed, rng_seed=0, faults=faults, rate_limit=rate_limit, clock=now, sleep=sleep
    )


def failed_requests(log: RequestLog) -> int:
    """Logical reads whose last answer was an error: a read is its path and query, retries share both."""
    last: dict[tuple[str, str, tuple[tuple[str, str], ...]], int | None] = {}
    for entry in log:
        last[(entry.method, entry.path, tuple(sorted(entry.query.items())))] = entry.status
    return sum(status is None or status == 429 or status >= 500 for status in last.values())


@dataclass
class Timing:
    wall: float
    cpu: float  # of this process: the client and the in-process emulator together
    virtual: float | None


async def _timed(work: Awaitable[Any], clock: VirtualClock | None) -> tuple[Any, Timing]:
    started, cpu = time.perf_counter(), time.process_time()
    result = await (clock.run(work) if clock is not None else work)
    elapsed = Timing(time.perf_counter() - started, time.process_time() - cpu, clock.elapsed if clock else None)
    return result, elapsed


async def run_engine(
    org: Organization,
    *,
    faults: FaultConfig | None = None,
    rate_limit: RateLimitConfig | None = None,
    clock: VirtualClock | None = None,
    transport: Mapping[str, Any] | None = None,
) -> DryRun:
    """observe + diff with a read-only client, as `reconcile --dry-run` does. `transport`: options for
    `AdminApi.connect` (concurrency, max_concurrency, retry)."""
    emulator = emulator_for(org, faults=faults, rate_limit=rate_limit, clock=clock)
    transport_options = dict(transport or {})
    if clock is not None:
        transport_options = {"clock": clock.now, "sleep": clock.sleep, **transport_options}
    api = AdminApi.connect(
        admin_key=ADMIN_KEY, http_transport=emulator.http_transport(), read_only=True, **transport_options
    )
    async with api:
        observed, timing = await _timed(observe(api, org.desired, REGISTRY), clock)
    plan = diff(org.desired, observed, REGISTRY)
    if emulator.requests.methods() - {"GET"}:
        raise RuntimeError("a dry run sent a write")  # cannot happen with a read-only client: say so if it does
    return DryRun(
        requests=emulator.requests.count_by_endpoint(),
        statuses=Counter(e.status for e in emulator.requests),
        wall_seconds=timing.wall,
        cpu_seconds=timing.cpu,
        virtual_seconds=timing.virtual,
        changes=len(plan.changes),
        projects_unread=len(observed.failures),
        failed_requests=failed_requests(emulator.requests),
    )


async def run_naive(
    org: Organization,
    *,
    faults: FaultConfig | None = None,
    rate_limit: RateLimitConfig | None = None,
    clock: VirtualClock | None = None,
) -> NaiveRun:
    emulator = emulator_for(org, faults=faults, rate_limit=rate_limit, clock=clock)
    sleep: Callable[[float], Awaitable[None]] = clock.sleep if clock is not None else asyncio.sleep
    client = NaiveClient(emulator.http_transport(), admin_key=ADMIN_KEY, sleep=sleep)
    try:
        result, timing = await _timed(client.read_organization(), clock)
    finally:
        await client.aclose()
    return NaiveRun(
        result=result,
        requests=emulator.requests.count_by_endpoint(),
        statuses=Counter(e.status for e in emulator.requests),
        wall_seconds=timing.wall,
        virtual_seconds=timing.virtual,
    )
