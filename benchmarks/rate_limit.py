"""Benchmark 3: a full dry run under a per-endpoint token bucket of 10 requests a minute, in virtual time.

The emulator limits each endpoint (method + path template) on its own, as the Admin API seems to: a bucket of
`burst` tokens refilled at 10 a minute; a request without a token gets 429 with Retry-After. Client and
server share one `VirtualClock`, so the client's retry sleeps and the server's refill agree while a run of
many simulated minutes takes a second or two.

The ideal duration: endpoint e needs n_e reads; it has `burst` tokens at once and 10 more a minute, so it
cannot finish before (n_e - burst) / 10 minutes; the run cannot finish before its slowest endpoint. Share =
ideal / measured (100%: as fast as the limit allows). Failed requests are reads whose last answer was still
an error when the client gave up (goal: 0); a run that gave up has no share.

The engine runs twice: with the retry budget `reconcile --dry-run` uses by default (120 s a call), and with
one long enough for the longest queue. 1,000 projects is left out: at 10 a minute each per-project endpoint
needs 100 virtual minutes, and the figures would only repeat the 100-project ones (the limit sets the pace).
"""

from __future__ import annotations

from typing import Any

from benchmarks.dryrun import run_engine, run_naive
from benchmarks.minimum import minimum_reads
from benchmarks.organization import generate
from benchmarks.table import Table, ratio, share
from benchmarks.virtualtime import VirtualClock
from datacontrols.adminapi import RetryPolicy
from datacontrols.emulator import RateLimitConfig

__all__ = ["PER_MINUTE", "POLICIES", "ideal_seconds", "measure", "run"]

PER_MINUTE = 10.0
SIZES = (10, 100)
QUICK_SIZES = (10,)
# The bucket's capacity, 10 (a minute's worth, the emulator's default) or 1 (no burst), and whether its 429s
# say when to come back (peers saw the real API answer 429 without Retry-After).
CASES = ((10, True), (1, True), (1, False))
# `reconcile --dry-run` gives each call a retry budget of 120 s (`--retry-budget`); a budget that covers the
# longest queue shows what the transport does when patience is not the limit.
POLICIES: tuple[tuple[str, RetryPolicy], ...] = (
    ("--retry-budget 120 (CLI default)", RetryPolicy(budget_seconds=120.0)),
    ("--retry-budget 3600", RetryPolicy(budget_seconds=3600.0)),
)


def ideal_seconds(needed: dict[str, int], burst: float, per_minute: float = PER_MINUTE) -> float:
    """The shortest possible run: the slowest endpoint's wait for its last token."""
    return max((max(0.0, n - burst) * 60.0 / per_minute for n in needed.values()), default=0.0)


async def measure(
    projects: int, burst: int, hinted: bool = True, policies: tuple[tuple[str, RetryPolicy], ...] = POLICIES
) -> dict[str, Any]:
    """One organization size and bucket: the engine under each retry policy, and the naive client."""
    org = generate(projects)
    needed = minimum_reads(org.seed, org.desired)
    limit = RateLimitConfig(per_minute=PER_MINUTE, capacity=burst, send_retry_after=hinted)
    ideal = ideal_seconds(dict(needed), burst)
    runs = []
    for label, policy in policies:
        ours = await run_engine(org, rate_limit=limit, clock=VirtualClock(), transport={"retry": policy})
        measured = ours.virtual_seconds or 0.0
        # A run that gave up finished sooner than the ideal: that is no achievement, so it has no share.
        achieved = None if ours.failed_requests else ratio(ideal, measured) if measured else 1.0
        runs.append(
            {
                "retry_policy": label,
                "budget_seconds": policy.budget_seconds,
                "requests": ours.total,
                "throttled_429": ours.statuses[429],
                "failed_requests": ours.failed_requests,
                "projects_unread": ours.projects_unread,
                "virtual_seconds": measured,
                "share_of_limit": achieved,
                "wall_seconds": ours.wall_seconds,
            }
        )
    naive = await run_naive(org, rate_limit=limit, clock=VirtualClock())
    return {
        "projects": projects,
        "burst": burst,
        "retry_after": hinted,
        "per_minute": PER_MINUTE,
        "minimum": sum(needed.values()),
        "ideal_seconds": ideal,
        "slowest_endpoint": max(needed, key=lambda e: needed[e]),
        "slowest_endpoint_reads": max(needed.values()),
        "ours": runs,
        "naive": {
            "requests": naive.total,
            "throttled_429": naive.statuses[429],
            "failed_reads": naive.result.failed,
            "reads": len(naive.result.reads),
            "projects_seen": naive.result.projects_seen,
            "virtual_seconds": naive.virtual_seconds,
        },
    }


async def run(quick: bool) -> tuple[dict[str, Any], Table]:
    results = [await measure(n, burst, hinted) for n in (QUICK_SIZES if quick else SIZES) for burst, hinted in CASES]
    table = Table(
        f"3. Full dry run under a token bucket of {PER_MINUTE:.0f} requests/minute per endpoint (virtual time)",
        ["client", "projects", "burst", "requests", "429s", "failed", "virtual s", "ideal s", "share"],
    )
    for r in results:
        for ours in r["ours"]:
            table.add(
                f"ours, {ours['retry_policy']}",
                r["projects"],
                r["burst"] if r["retry_after"] else f"{r['burst']}, no Retry-After",
                ours["requests"],
                ours["throttled_429"],
                ours["failed_requests"],
                ours["virtual_seconds"],
                r["ideal_seconds"],
                share(ours["share_of_limit"]) if ours["share_of_limit"] is not None else "gave up",
            )
        naive = r["naive"]
        table.add(
            f"naive, 3 retries 1 s apart ({naive['projects_seen']} projects seen)",
            r["projects"],
            r["burst"] if r["retry_after"] else f"{r['burst']}, no Retry-After",
            naive["requests"],
            naive["throttled_429"],
            f"{naive['failed_reads']}/{naive['reads']}",
            naive["virtual_seconds"],
            "-",
            "-",
        )
    table.notes.append("ideal = max over endpoints of (reads - burst) x 60 / 10 s; share = ideal / virtual duration")
    table.notes.append("failed = reads still answered 429 when the client gave up (goal: 0)")
    return {"runs": results}, table
