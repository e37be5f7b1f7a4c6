"""Benchmark 4: CPU time and peak memory of `diff(desired, observed)` alone, for 10,000 projects.

The inputs are built in memory, not read: a template organization of 100 projects is observed once from the
emulator by the real engine, and its projects are repeated (new ids and names, the same settings and
members) to 10,000, in the desired state and in the observed state alike. So the values are the real
observed types, and the plan has the template's drift pattern a hundred times over.

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


async def run(quick: bool) -> tuple[dict[str, Any], Table]:
    projects = QUICK_PROJECTS if quick else PROJECTS
    desired, observed, reads = await build_inputs(projects)

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
    return data, table
