"""Run the benchmarks, print a table for each and write the figures to a JSON file.

    uv run python -m benchmarks                 # all four, a few minutes on 2 cores -> benchmarks/results.json
    uv run python -m benchmarks --quick         # small sizes, seconds -> benchmarks/results-quick.json
    uv run python -m benchmarks --only 1 --only 3
    uv run python benchmarks/run.py --quick     # the same, as a script

1 requests per run, 2 speed at 50 ms, 3 under a rate limit, 4 the pure diff, 7 a pull request's reads; the
naive baseline runs inside 1, 2 and 3. A run with --only updates its benchmarks in the results file and keeps
the others.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import platform
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable from the repository root
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import daemon_budget, latency, pull_request, pure_diff, rate_limit, requests_per_run
from benchmarks.table import Table
from datacontrols.logging import configure_logging

__all__ = ["BENCHMARKS", "machine", "main", "run_benchmarks"]

Benchmark = Callable[[bool], Awaitable[tuple[dict[str, Any], Table]]]
BENCHMARKS: dict[int, tuple[str, Benchmark]] = {
    1: ("requests_per_run", requests_per_run.run),
    2: ("latency", latency.run),
    3: ("rate_limit", rate_limit.run),
    4: ("pure_diff", pure_diff.run),
    7: ("pull_request", pull_request.run),
    8: ("daemon_budget", daemon_budget.run),
}
HERE = Path(__file__).resolve().parent


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": model,
        "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


async def run_benchmarks(
    numbers: Sequence[int], *, quick: bool, echo: Callable[[str], None] = print
) -> dict[str, dict[str, Any]]:
    """Run the numbered benchmarks in order; each result carries its own date and duration."""
    results: dict[str, dict[str, Any]] = {}
    for number in numbers:
        name, benchmark = BENCHMARKS[number]
        started = time.perf_counter()
        data, table = await benchmark(quick)
        results[str(number)] = {
            "name": name,
            "quick": quick,
            "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "seconds": round(time.perf_counter() - started, 1),
            **data,
        }
        echo(table.render())
        echo(f"  ({results[str(number)]['seconds']} s)\n")
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--only", type=int, action="append", choices=sorted(BENCHMARKS), help="run only these")
    parser.add_argument("--quick", action="store_true", help="small sizes: seconds instead of minutes")
    parser.add_argument("--output", type=Path, help="the JSON file (default benchmarks/results[-quick].json)")
    args = parser.parse_args(argv)
    configure_logging("warning")  # the emulator logs every request at debug level
    numbers = sorted(set(args.only or BENCHMARKS))
    output: Path = args.output or HERE / ("results-quick.json" if args.quick else "results.json")

    results = asyncio.run(run_benchmarks(numbers, quick=args.quick))

    document: dict[str, Any] = {}
    if output.exists():
        try:
            document = json.loads(output.read_text(encoding="utf-8"))
        except ValueError:
            document = {}
    command = "uv run python -m benchmarks" + (" --quick" if args.quick else "")
    document.update({"machine": machine(), "command": command})
    document.setdefault("benchmarks", {}).update(results)
    output.write_text(json.dumps(document, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    print(f"results written to {output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
