"""Daemon soak: `reconcile serve` (the real Daemon: APScheduler, the uvicorn probes, enforce mode) runs on a
short interval against an emulator failing about 20% of its requests while someone keeps changing the
organization by hand. Its memory stays flat, its runs never overlap, and its probes tell the truth.

Scaled time: an interval of 0.1 s instead of the default 5 minutes, so the CI variant's ~15 s hold about as
many runs as half a day of the real schedule, and the long variant's 10 minutes about three weeks' worth.
Retries sleep on a fake clock (a Retry-After costs nothing); the schedule and the probes run in real time.

- Memory: the bytes the daemon keeps, measured between two runs by walking everything reachable from it (its
  client, scheduler, HTTP server, ledger, last run) after a full garbage collection, stopping at the
  in-process emulator (a real API is not in our process; its request log grows by design). From the end of
  the warm-up to the end it grows by less than MAX_GROWTH. Two parts that grow on purpose are measured apart
  and must be what their counts explain: the audit trail (audit events up to `AuditTrail.max_events`, the
  daemon's own writes for `lookback`) and the metrics registry (one series per label set seen: an endpoint's
  first 502 adds one). The process's RSS is reported.
  (tracemalloc was tried: with the frames needed to tell the emulator's allocations apart it slows a run
  twentyfold, and the soak would measure its own overhead.)
- Overlap: every run's start and end are recorded around the daemon's own `_reconcile`; no run starts
  before the previous one ended, and at most one is ever in flight.
- Probes: /healthz and /readyz, fetched over HTTP throughout, agree with the daemon's state at that moment.
  Midway the desired state is broken on disk: /readyz turns 503 and /status and /metrics say why; once it is
  fixed, ready again.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import logging
import random
import sys
import time
import types
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from daemon_support import ADMIN_KEY, daemon_for, metric_value
from reliability_drift import Drifter
from reliability_support import DEMO_SEED, desired_copy, quiet_logs, report, slow

from datacontrols.daemon import Daemon
from datacontrols.desired import load_desired_state
from datacontrols.emulator import Emulator, FaultConfig
from testsupport.clock import FakeClock

FAULTS = FaultConfig(rate_limited=0.07, server_error=0.07, dropped=0.06, write_timing="either")
# Real latency on some requests, so that some runs outlast the interval and the schedule tries to overlap them.
SLOW_ANSWERS = FaultConfig(latency=0.002, latency_jitter=0.012, latency_rate=0.5)
INTERVAL = 0.1
SAMPLE_EVERY = 2.0  # seconds between memory samples
PROBE_EVERY = 0.2
DRIFT_EVERY = 0.4
BROKEN = "name: [this is not a name\n"
MAX_GROWTH = 64 * 1024  # bytes the daemon may gain after warm-up, outside the audit trail and the metrics
EVENT_BYTES = 8 * 1024  # generous sizes of a kept audit event, a remembered own write, a metric series
OWN_WRITE_BYTES = 1024
SERIES_BYTES = 2 * 1024


@dataclass(frozen=True)
class Sample:
    runs: int
    kept: int  # bytes the daemon keeps, outside the audit trail and the metrics registry
    audit: int  # bytes of the audit trail ...
    events: int  # ... holding this many audit events
    own_writes: int  # ... and this many of its own writes
    metrics: int  # bytes of the metrics registry ...
    series: int  # ... holding this many series


def sample(daemon: Daemon, emulator: Emulator) -> Sample:
    outside = (emulator, emulator.app)
    metrics = daemon.metrics
    return Sample(
        runs=daemon.runs_completed,
        kept=retained_bytes(daemon, stop=(*outside, daemon.audit, metrics)),
        audit=retained_bytes(daemon.audit, stop=(*outside, daemon)),
        events=len(daemon.audit.events),
        own_writes=len(daemon.audit._own),
        metrics=retained_bytes(metrics, stop=(*outside, daemon)),
        series=sum(1 for line in metrics.render().decode().splitlines() if line and not line.startswith("#")),
    )


@dataclass
class Soak:
    intervals: list[tuple[float, float]] = field(default_factory=list)
    in_flight: int = 0
    most_in_flight: int = 0
    memory: list[Sample] = field(default_factory=list)
    rss: list[int] = field(default_factory=list)
    probes: int = 0
    probe_mismatches: list[str] = field(default_factory=list)
    saw_unready_for_invalid: bool = False


# Not followed: code and modules are shared with everything else, a loop reaches every task in the process, a
# frame belongs to a call in progress (its locals are transient, and its globals are a whole module's), and the
# logging tree is the process's (under pytest, its capture handler keeps every warning logged: the scheduler's
# "skipped: maximum number of running instances" among them).
_SHARED = (
    type,
    types.ModuleType,
    types.FunctionType,
    types.BuiltinFunctionType,
    types.CodeType,
    types.FrameType,
    asyncio.AbstractEventLoop,
    logging.Logger,
    logging.Handler,
)


def retained_bytes(root: object, *, stop: tuple[object, ...]) -> int:
    """The size of everything reachable from `root`, not going past `stop` nor into code, modules, frames or
    loops: what `root` itself keeps alive."""
    gc.collect()
    seen = {id(obj) for obj in stop} | {id(vars(module)) for module in list(sys.modules.values())}
    pending = [root]
    total = 0
    while pending:
        obj = pending.pop()
        if id(obj) in seen or isinstance(obj, _SHARED):
            continue
        seen.add(id(obj))
        total += sys.getsizeof(obj)
        pending.extend(gc.get_referents(obj))
    return total


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096


def watch_runs(daemon: Daemon, soak: Soak) -> None:
    """Record every run's start and end around the daemon's own run body."""
    original: Callable[..., Awaitable[None]] = daemon._reconcile

    async def recorded(run: Any, *rest: Any) -> None:
        soak.in_flight += 1
        soak.most_in_flight = max(soak.most_in_flight, soak.in_flight)
        started = time.monotonic()
        try:
            await original(run, *rest)
        finally:
            soak.intervals.append((started, time.monotonic()))
            soak.in_flight -= 1

    daemon._reconcile = recorded  # type: ignore[method-assign]


async def probe(http: httpx.AsyncClient, daemon: Daemon, soak: Soak) -> None:
    """Each probe's answer must match the daemon's state, when that state did not change during the fetch."""
    for path, truth in (("/healthz", daemon.liveness), ("/readyz", daemon.readiness)):
        before, inputs_before = truth()[0], readiness_inputs(daemon, soak)
        answer = await http.get(path)
        after = truth()[0]
        soak.probes += 1
        # Readiness goes stale with time and fresh with a finished run, and a run's first step reloads the
        # desired state: any of these during the fetch may have flipped it twice (False, True, False again),
        # so such a sample proves nothing. Time alone only ever turns it false.
        unchanged = before == after and readiness_inputs(daemon, soak) == inputs_before
        if unchanged and (answer.status_code == 200) != before:
            soak.probe_mismatches.append(f"{path} answered {answer.status_code} while the daemon said {before}")


def readiness_inputs(daemon: Daemon, soak: Soak) -> tuple[object, ...]:
    """What, besides the passing of time, moves the daemon's readiness."""
    return (
        len(soak.intervals),
        daemon.runs_completed,
        daemon.last_success_at,
        daemon.desired_check.valid,
        daemon.health.key_rejected,
        daemon.stopping.is_set(),
    )


async def soak_daemon(tmp_path: Path, seconds: float) -> dict[str, Any]:
    desired_dir = desired_copy(tmp_path / "desired")
    emulator = Emulator(admin_key=ADMIN_KEY, seed=DEMO_SEED, rng_seed=9, faults=(FAULTS, SLOW_ANSWERS))
    fake = FakeClock()
    daemon = daemon_for(
        emulator,
        mode="enforce",
        interval=INTERVAL,
        jitter=0,
        desired_state=desired_dir,
        api_options={"sleep": fake.sleep, "clock": fake},
    )
    # No renames: each makes a new project, and a growing organization would rightly grow the plan.
    drifter = Drifter(emulator, load_desired_state(desired_dir), random.Random(9), renames=False)
    soak = Soak()
    watch_runs(daemon, soak)
    broken = desired_dir / "projects" / "broken.yaml"
    serving = asyncio.create_task(daemon.serve())
    try:
        while daemon.http_port is None or daemon.runs_completed < 1:
            await asyncio.sleep(0.01)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{daemon.http_port}", timeout=5) as http:
            start = time.monotonic()
            next_probe = next_drift = next_sample = start
            phase = "valid"
            while (elapsed := time.monotonic() - start) < seconds:
                now = time.monotonic()
                if now >= next_probe:
                    await probe(http, daemon, soak)
                    next_probe = now + PROBE_EVERY
                if now >= next_drift:
                    drifter.drift()
                    next_drift = now + DRIFT_EVERY
                if now >= next_sample and phase == "valid" and daemon.current_run is None:
                    # Between two runs, so what is measured is what the daemon keeps, not a run's working set.
                    soak.memory.append(sample(daemon, emulator))
                    soak.rss.append(rss_bytes())
                    emulator.requests.clear()  # test infrastructure; the daemon never sees it
                    next_sample = time.monotonic() + SAMPLE_EVERY
                if phase == "valid" and 0.45 * seconds <= elapsed < 0.55 * seconds:
                    broken.write_text(BROKEN)
                    phase = "broken"
                elif phase == "broken" and daemon.desired_check.valid is False:
                    await check_invalid_is_reported(http, daemon)
                    soak.saw_unready_for_invalid = True
                    broken.unlink()
                    phase = "fixed"
                elif phase == "fixed" and daemon.desired_check.valid:
                    phase = "valid"
                await asyncio.sleep(0.02)
            assert phase == "valid", f"the soak ended in phase {phase}"
            # Ready again once the desired state was fixed. Polled with a deadline: with a 0.1 s interval the
            # staleness limit is 0.3 s, which a loaded machine can exceed for a moment (then 503 is the truth).
            ready_by = time.monotonic() + 10
            while (answer := await http.get("/readyz")).status_code != 200:
                assert time.monotonic() < ready_by, f"not ready again after the fix: {answer.text}"
                await asyncio.sleep(0.05)
            status = (await http.get("/status")).json()
            assert daemon.runs_completed - 1 <= status["runs"]["finished"] <= daemon.runs_completed
            metrics = (await http.get("/metrics")).text
    finally:
        daemon.request_stop()
        exit_code = await asyncio.wait_for(serving, 30)
    assert exit_code == 0
    return summarize(daemon, soak, metrics, seconds=seconds)


async def check_invalid_is_reported(http: httpx.AsyncClient, daemon: Daemon) -> None:
    ready = await http.get("/readyz")
    assert ready.status_code == 503 and "invalid" in " ".join(ready.json()["reasons"]), ready.text
    status = (await http.get("/status")).json()
    assert status["desired_state"]["valid"] is False and status["desired_state"]["problems"], status
    assert "broken.yaml" in status["desired_state"]["problems"][0]
    assert metric_value((await http.get("/metrics")).text, "datacontrols_desired_state_invalid") == 1
    assert (await http.get("/healthz")).status_code == 200, "an invalid desired state is not a reason to restart"


def summarize(daemon: Daemon, soak: Soak, metrics: str, *, seconds: float) -> dict[str, Any]:
    starts = sorted(soak.intervals)
    overlaps = [(a, b) for a, b in itertools.pairwise(starts) if b[0] < a[1]]
    assert not overlaps, f"runs overlapped: {overlaps[:3]}"
    assert soak.most_in_flight == 1
    assert not soak.probe_mismatches, soak.probe_mismatches[:5]
    assert soak.saw_unready_for_invalid
    runs = len(soak.intervals)
    assert runs >= seconds / INTERVAL / 4, f"only {runs} runs in {seconds} s"
    skipped = int(metric_value(metrics, "datacontrols_runs_skipped_total", reason="overlap") or 0)
    assert skipped > 0, "no run outlasted the interval: the overlap rule was never put to the test"

    # Memory: from the end of the warm-up (a fifth of the samples) to the last sample.
    warm, last = soak.memory[max(1, len(soak.memory) // 5)], soak.memory[-1]
    growth = last.kept - warm.kept
    per_run = growth / max(1, last.runs - warm.runs)
    assert growth <= MAX_GROWTH, (
        f"the daemon's memory grew {growth / 1024:.0f} KiB over {last.runs - warm.runs} runs ({per_run:.0f} B a run): "
        f"{[(s.runs, s.kept) for s in soak.memory]}"
    )
    for s in soak.memory:
        assert s.events <= daemon.audit.max_events
        assert s.audit <= 64 * 1024 + s.events * EVENT_BYTES + s.own_writes * OWN_WRITE_BYTES, s
        assert s.metrics <= 128 * 1024 + s.series * SERIES_BYTES, s
    outcomes = {
        outcome: int(metric_value(metrics, "datacontrols_runs_total", mode="enforce", result=outcome) or 0)
        for outcome in ("success", "failure", "refused", "invalid_desired_state", "skipped")
    }
    return {
        "seconds": seconds,
        "interval_seconds": INTERVAL,
        "runs": runs,
        "outcomes": outcomes,
        "runs_skipped_overlap": skipped,
        "changes_applied": int(sum_metric(metrics, "datacontrols_changes_applied_total")),
        "api_requests": int(sum_metric(metrics, "datacontrols_api_requests_total")),
        "api_rate_limited": int(sum_metric(metrics, "datacontrols_api_rate_limited_total")),
        "most_runs_in_flight": soak.most_in_flight,
        "overlaps": 0,
        "probes_checked": soak.probes,
        "probe_mismatches": 0,
        "memory_samples": len(soak.memory),
        "daemon_kib_after_warmup": round(warm.kept / 1024),
        "daemon_kib_at_end": round(last.kept / 1024),
        "daemon_growth_bytes_per_run": round(per_run, 1),
        "daemon_kib_by_runs": {s.runs: round(s.kept / 1024) for s in soak.memory[:: max(1, len(soak.memory) // 10)]},
        "audit_trail_kib_first_last": [round(soak.memory[0].audit / 1024), round(last.audit / 1024)],
        "audit_events_kept_first_last": [soak.memory[0].events, last.events],
        "own_writes_remembered_last": last.own_writes,
        "metrics_kib_first_last": [round(soak.memory[0].metrics / 1024), round(last.metrics / 1024)],
        "metric_series_first_last": [soak.memory[0].series, last.series],
        "rss_mib_first_last": [round(soak.rss[0] / 2**20, 1), round(soak.rss[-1] / 2**20, 1)],
    }


def sum_metric(text: str, name: str) -> float:
    return sum(
        float(line.rpartition(" ")[2])
        for line in text.splitlines()
        if line.startswith(name) and line[len(name)] in "{ "
    )


async def run_soak(tmp_path: Path, seconds: float) -> dict[str, Any]:
    with quiet_logs():
        return await soak_daemon(tmp_path, seconds)


async def test_the_daemon_soaks_flat_without_overlap_and_with_truthful_probes(tmp_path: Path) -> None:
    report("daemon_soak", **await run_soak(tmp_path, 15.0))


@slow
async def test_the_daemon_soaks_for_ten_minutes(tmp_path: Path) -> None:
    report("daemon_soak_long", **await run_soak(tmp_path, 600.0))
