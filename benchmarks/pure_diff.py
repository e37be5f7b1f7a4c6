"""Benchmark 4: CPU time and peak memory of `diff(desired, observed)` alone, for 10,000 projects.

The inputs are built in memory, not read: a template organization of 100 projects is observed once from the
emulator by the real engine, and its projects are repeated (new ids and names, the same settings and
members) to 10,000, in the desired state and in the observed state alike. So the values are the real
observed types, and the plan has the template's drift pattern a hundred times over.

A second measure grows everything with the organization: whole generated organizations (users 5 + N/2,
groups 2 + N/20, one service account per project) of 1,000, 2,000 and 4,000 projects are observed and diffed,
and the growth exponent of the diff's CPU time between sizes is reported (1.0 is linear). The repeated
template above has only 55 users, so a lookup that scans the users per project would not show there.

CPU time is `time.process_time` around the call; peak memory is `tracemalloc`'s peak during a second call
(tracing slows Python down, so the two are measured apart). The memory is what the diff allocates, the plan
included, not the inputs. For scale, the diff is set against the least time the reads it compares could take
at 50 ms a request and the default concurrency of 8.
"""

from __future__ import annotations

import gc
import time
import tracemalloc
from typing import Any

from benchmarks.dryrun import REGISTRY, emulator_for
from benchmarks.minimum import PROJECTS as PROJECTS_LIST
from benchmarks.minimum import minimum_reads, pages
from benchmarks.organization import ADMIN_KEY, generate, project_id, project_name
from benchmarks.table import Table, ratio
from datacontrols.desired.schema import DesiredState
from datacontrols.engine import Observed, diff, observe

__all__ = ["PROJECTS", "build_inputs", "run"]

PROJECTS = 10_000
QUICK_PROJECTS = 1_000
TEMPLATE = 100
LATENCY = 0.05
CONCURRENCY = 8


async def build_inputs(projects: int, template: int = TEMPLATE) -> tuple[DesiredState, Observed, int]:
    """(desired, observed, minimum reads) for `projects` projects, repeated from an observed template."""
    from datacontrols.adminapi import AdminApi

    org = generate(template)
    emulator = emulator_for(org)
    async with AdminApi.connect(admin_key=ADMIN_KEY, http_transport=emulator.http_transport(), read_only=True) as api:
        seen = await observe(api, org.desired, REGISTRY)
    by_name = {p.name: p for p in seen.projects}
    files, live, settings = [], [], {}
    for index in range(projects):
        source = org.desired.projects[index % template]
        files.append(source.model_copy(update={"name": project_name(index)}))
        twin = by_name[source.name].model_copy(update={"id": project_id(index), "name": project_name(index)})
        live.append(twin)
        settings[twin.id] = seen.settings[by_name[source.name].id]  # shared values: the diff only reads them
    desired = org.desired.model_copy(
        update={"projects": tuple(files), "sources": {f.name: f"projects/{f.name}.yaml" for f in files}}
    )
    observed = Observed(projects=live, organization=dict(seen.organization), settings=settings)
    # The reads a dry run of this organization would need: the template's organization-wide reads (its
    # project list re-paged) and its per-project reads, repeated.
    need = minimum_reads(org.seed, org.desired)
    per_project = sum(n for endpoint, n in need.items() if "{project_id}" in endpoint)
    organization_wide = sum(need.values()) - per_project - need[PROJECTS_LIST] + pages(projects)
    return desired, observed, organization_wide + per_project * projects // template


SCALING = (1_000, 2_000, 4_000)
QUICK_SCALING = (200, 400)


async def scaling(sizes: tuple[int, ...]) -> list[dict[str, float]]:
    """The diff's CPU time for whole generated organizations, and the growth exponent from the size before."""
    import math

    from datacontrols.adminapi import AdminApi

    rows: list[dict[str, float]] = []
    for size in sizes:
        org = generate(size)
        emulator = emulator_for(org)
        async with AdminApi.connect(
            admin_key=ADMIN_KEY, http_transport=emulator.http_transport(), read_only=True
        ) as api:
            seen = await observe(api, org.desired, REGISTRY)
        gc.collect()
        started = time.process_time()
        diff(org.desired, seen, REGISTRY)
        cpu = time.process_time() - started
        row = {"projects": float(size), "cpu_seconds": cpu}
        if rows:
            before = rows[-1]
            row["exponent"] = math.log(cpu / before["cpu_seconds"]) / math.log(size / before["projects"])
        rows.append(row)
    return rows


async def run(quick: bool) -> tuple[dict[str, Any], Table]:
    projects = QUICK_PROJECTS if quick else PROJECTS
    desired, observed, reads = await build_inputs(projects)
    grown = await scaling(QUICK_SCALING if quick else SCALING)

    gc.collect()
    started = time.process_time()
    plan = diff(desired, observed, REGISTRY)
    cpu = time.process_time() - started

    gc.collect()
    tracemalloc.start()
    diff(desired, observed, REGISTRY)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    io_bound = reads * LATENCY / CONCURRENCY
    data = {
        "projects": projects,
        "cpu_seconds": cpu,
        "microseconds_per_project": cpu / projects * 1e6,
        "peak_memory_mib": peak / 2**20,
        "kib_per_project": peak / projects / 1024,
        "plan_changes": len(plan),
        "reads_for_the_same_organization": reads,
        "read_time_lower_bound_seconds": io_bound,
        "cpu_share_of_read_bound": ratio(cpu, io_bound),
        "scaling": grown,
        "growth_exponent_max": max((r.get("exponent", 0.0) for r in grown), default=0.0),
    }
    table = Table(
        f"4. Pure diff, {projects:,} projects (inputs in memory)",
        ["projects", "plan changes", "CPU s", "us/project", "peak MiB", "KiB/project", "reads' bound s", "CPU/reads"],
    )
    table.add(
        projects,
        len(plan),
        cpu,
        f"{data['microseconds_per_project']:.0f}",
        data["peak_memory_mib"],
        f"{data['kib_per_project']:.1f}",
        io_bound,
        f"{data['cpu_share_of_read_bound']:.1%}",
    )
    table.notes.append(
        f"reads' lower bound: the {reads:,} reads this organization needs x {LATENCY} s / concurrency {CONCURRENCY}"
    )
    steps = ", ".join(
        f"{int(r['projects']):,}: {r['cpu_seconds']:.3f} s"
        + (f" (exponent {r['exponent']:.2f})" if "exponent" in r else "")
        for r in grown
    )
    table.notes.append(f"whole organizations, users and groups growing with projects: {steps}; bound: about 1.0")
    return data, table
