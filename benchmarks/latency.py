"""Benchmark 2: wall time of a full dry run when every request takes 50 ms (real sleeps), no rate limit.

The lower bound is `requests x latency / concurrency`: the transport never has more than its concurrency
limit (`max_concurrency`, the adaptive limiter's ceiling) in flight, and each request holds a slot for the
whole latency. The ratio wall / bound says how much of the allowed parallelism the run actually uses.

The naive client is strictly sequential, so its time is `requests x latency` plus CPU. It reads only the
projects on the list's first page; "to read everything" is what it would take at its pace to make the
minimum number of reads (computed, not run: it would take many minutes).
"""

from __future__ import annotations

from typing import Any

from benchmarks.dryrun import run_engine, run_naive
from benchmarks.minimum import minimum_reads
from benchmarks.organization import generate
from benchmarks.table import Table, ratio
from datacontrols.emulator import FaultConfig

__all__ = ["LATENCY", "SETTINGS", "measure", "run"]

LATENCY = 0.05
PROJECTS = 1000
# --quick: a smaller organization at a shorter latency, so the sequential baseline takes seconds, not minutes
QUICK_PROJECTS = 50
QUICK_LATENCY = 0.01
# (label, transport options): the default adaptive limiter (starts at 4, grows to 8), and two wider ceilings.
SETTINGS: tuple[tuple[str, dict[str, int]], ...] = (
    ("default (4 -> 8)", {}),
    ("16", {"concurrency": 16, "max_concurrency": 16}),
    ("32", {"concurrency": 32, "max_concurrency": 32}),
)
DEFAULT_MAX_CONCURRENCY = 8


async def measure(
    projects: int, latency: float = LATENCY, settings: tuple[tuple[str, dict[str, int]], ...] = SETTINGS
) -> dict[str, Any]:
    """The engine at each concurrency setting, and the naive client, all at `latency` a request."""
    org = generate(projects)
    minimum = sum(minimum_reads(org.seed, org.desired).values())
    faults = FaultConfig(latency=latency)
    runs = []
    for label, options in settings:
        ours = await run_engine(org, faults=faults, transport=options)
        limit = options.get("max_concurrency", DEFAULT_MAX_CONCURRENCY)
        bound = ours.total * latency / limit
        runs.append(
            {
                "concurrency": label,
                "max_concurrency": limit,
                "requests": ours.total,
                "wall_seconds": ours.wall_seconds,
                "cpu_seconds": ours.cpu_seconds,
                "bound_seconds": bound,
                "ratio_to_bound": ratio(ours.wall_seconds, bound),
                "seconds_per_project": ours.wall_seconds / projects,
                "failed_requests": ours.failed_requests,
            }
        )
    naive = await run_naive(org, faults=faults)
    seen = naive.result.projects_seen
    return {
        "projects": projects,
        "latency_seconds": latency,
        "minimum": minimum,
        "runs": runs,
        "naive": {
            "requests": naive.total,
            "wall_seconds": naive.wall_seconds,
            "bound_seconds": naive.total * latency,
            "projects_seen": seen,
            "seconds_per_project_seen": naive.wall_seconds / seen if seen else None,
            "seconds_to_read_everything": minimum * latency,  # sequential, at the minimum number of reads
        },
    }


async def run(quick: bool) -> tuple[dict[str, Any], Table]:
    data = await measure(QUICK_PROJECTS, QUICK_LATENCY) if quick else await measure(PROJECTS, LATENCY)
    latency, minimum, naive = data["latency_seconds"], data["minimum"], data["naive"]
    table = Table(
        f"2. Full dry run at {latency * 1000:.0f} ms a request, {data['projects']:,} projects, no rate limit",
        ["client", "requests", "wall s", "bound s", "wall/bound", "CPU s", "s/project", "vs naive s/project"],
    )
    per_project_naive = naive["seconds_per_project_seen"]
    for r in data["runs"]:
        speedup = ratio(per_project_naive, r["seconds_per_project"]) if per_project_naive else None
        table.add(
            f"ours, concurrency {r['concurrency']}",
            r["requests"],
            r["wall_seconds"],
            r["bound_seconds"],
            f"{r['ratio_to_bound']:.2f}",
            r["cpu_seconds"],
            f"{r['seconds_per_project']:.4f}",
            f"{speedup:.1f}x faster" if speedup else "-",
        )
    table.add(
        f"naive, sequential ({naive['projects_seen']} projects seen)",
        naive["requests"],
        naive["wall_seconds"],
        naive["bound_seconds"],
        f"{ratio(naive['wall_seconds'], naive['bound_seconds']):.2f}",
        "-",
        f"{per_project_naive:.4f}" if per_project_naive else "-",
        "1.0x",
    )
    table.notes.append(
        f"bound = requests x {latency} s / max concurrency (naive: requests x {latency} s). A sequential client "
        f"making the {minimum:,} needed reads would take {minimum * latency:,.0f} s"
    )
    return data, table
