"""Benchmark 1: requests a full dry run makes, against the minimum (`minimum.py`), and the naive baseline's.

No latency, no rate limit: a count, not a timing. A surplus on any endpoint is a redundant read and is listed
by endpoint; a shortfall would mean the engine skipped something it manages (also listed).
"""

from __future__ import annotations

from typing import Any

from benchmarks.dryrun import run_engine, run_naive
from benchmarks.minimum import minimum_reads
from benchmarks.organization import generate
from benchmarks.table import Table, ratio, share

__all__ = ["SIZES", "measure", "run"]

SIZES = (10, 100, 1000)
QUICK_SIZES = (10, 100)


async def measure(projects: int) -> dict[str, Any]:
    """One organization size: the engine's and the naive client's requests against the minimum."""
    org = generate(projects)
    minimum = minimum_reads(org.seed, org.desired)
    ours = await run_engine(org)
    naive = await run_naive(org)
    endpoints = sorted(set(minimum) | set(ours.requests))
    surplus = {e: ours.requests[e] - minimum[e] for e in endpoints if ours.requests[e] != minimum[e]}
    needed = sum(minimum.values())
    completed = naive.result.completed()
    covered = sum(min(completed[e], minimum[e]) for e in minimum)
    return {
        "projects": projects,
        "minimum": needed,
        "requests": ours.total,
        "ratio_to_minimum": ratio(ours.total, needed),
        "surplus_by_endpoint": surplus,  # empty: no redundant (or missing) reads
        "per_endpoint": {e: {"requests": ours.requests[e], "minimum": minimum[e]} for e in endpoints},
        "plan_changes": ours.changes,
        "failed_requests": ours.failed_requests,
        "wall_seconds_no_latency": ours.wall_seconds,
        "cpu_seconds": ours.cpu_seconds,
        "naive": {
            "requests": naive.total,
            "ratio_to_minimum": ratio(naive.total, needed),
            "projects_seen": naive.result.projects_seen,
            "lists_cut_short": naive.result.truncated,
            "needed_reads_completed": covered,
            "coverage": ratio(covered, needed),
            "failed_reads": naive.result.failed,
        },
    }


async def run(quick: bool) -> tuple[dict[str, Any], Table]:
    results = [await measure(n) for n in (QUICK_SIZES if quick else SIZES)]
    table = Table(
        "1. Requests per full dry run (every control managed)",
        ["projects", "minimum", "ours", "ours/min", "redundant", "naive", "naive/min", "naive saw", "naive coverage"],
    )
    for r in results:
        extra = sum(v for v in r["surplus_by_endpoint"].values() if v > 0)
        naive = r["naive"]
        table.add(
            r["projects"],
            r["minimum"],
            r["requests"],
            f"{r['ratio_to_minimum']:.3f}",
            extra,
            naive["requests"],
            f"{naive['ratio_to_minimum']:.3f}",
            f"{naive['projects_seen']}/{r['projects']} projects",
            share(naive["coverage"]),
        )
    for r in results:
        for endpoint, delta in r["surplus_by_endpoint"].items():
            table.notes.append(f"{r['projects']} projects: {endpoint}: {delta:+d} against the minimum")
    table.notes.append("naive coverage: share of the needed reads it completed (not failed, not cut at page one)")
    return {"sizes": results}, table
