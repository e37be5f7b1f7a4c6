"""Benchmark 7: the requests of a pull-request view (`--dry-run --base-desired-state`) for a one-project change.

The head branch gives one project of the generated organization a hosted-tools setting of its own; the
view runs as the CLI runs it: one reconcile with the base branch, through the read cache that answers the
base's reads from the head's. Counted where the server sees them (the emulator's request log). The time
under the Admin API's limit is what the busiest endpoint alone needs at 10 requests a minute: the floor of
any client, however well paced. The full read (benchmark 1) is the figure before reads followed the change.
"""

from __future__ import annotations

import math
from typing import Any

from benchmarks.dryrun import REGISTRY, emulator_for
from benchmarks.organization import ADMIN_KEY, Organization, generate
from benchmarks.table import Table
from datacontrols.adminapi import AdminApi
from datacontrols.adminapi.read_cache import ReadCache
from datacontrols.desired.schema import DesiredState, ProjectFile
from datacontrols.reconcile import Intent, reconcile

__all__ = ["SIZES", "measure", "run"]

SIZES = (10, 100, 1000)
QUICK_SIZES = (10, 100)
PER_MINUTE = 10  # per endpoint: about what the real Admin API allows
BOUND = 25  # requests a one-project pull request may send


def one_project_changed(desired: DesiredState) -> DesiredState:
    """The head branch: the first project turns web search off explicitly."""
    first, *rest = desired.projects
    changed = ProjectFile.model_validate({**first.model_dump(exclude_none=True), "hosted_tools": {"web_search": False}})
    return desired.model_copy(update={"projects": (changed, *rest)})


def minutes_at_the_limit(per_endpoint: dict[str, int]) -> float:
    return math.ceil(max(per_endpoint.values(), default=0) / PER_MINUTE * 60) / 60


async def view(org: Organization, head: DesiredState, base: DesiredState) -> tuple[dict[str, int], int, int]:
    """Requests per endpoint, introduced changes, projects not read."""
    emulator = emulator_for(org)
    cache = ReadCache(emulator.http_transport())
    async with AdminApi.connect(admin_key=ADMIN_KEY, http_transport=cache, read_only=True) as api:
        outcome = await reconcile(api, head, Intent(base=base), registry=REGISTRY)
    assert outcome.view is not None
    return dict(emulator.requests.count_by_endpoint()), len(outcome.view.introduced.changes), len(outcome.not_read)


async def measure(projects: int) -> dict[str, Any]:
    org = generate(projects)
    head = one_project_changed(org.desired)
    per_endpoint, introduced, not_read = await view(org, head, org.desired)
    full, _, _ = await view(org, head, DesiredState())  # a base that differs everywhere: everything is read
    return {
        "projects": projects,
        "requests": sum(per_endpoint.values()),
        "bound": BOUND,
        "introduced_changes": introduced,
        "projects_not_read": not_read,
        "minutes_at_limit": minutes_at_the_limit(per_endpoint),
        "full_read_requests": sum(full.values()),
        "full_read_minutes_at_limit": minutes_at_the_limit(full),
        "per_endpoint": per_endpoint,
    }


async def run(quick: bool) -> tuple[dict[str, Any], Table]:
    results = [await measure(n) for n in (QUICK_SIZES if quick else SIZES)]
    table = Table(
        f"7. A pull request changing one project (requests; minutes at {PER_MINUTE}/min per endpoint)",
        ["projects", "requests", "bound", "introduced", "not read", "minutes", "full read", "full minutes"],
    )
    for r in results:
        table.add(
            r["projects"],
            r["requests"],
            r["bound"],
            r["introduced_changes"],
            r["projects_not_read"],
            r["minutes_at_limit"],
            r["full_read_requests"],
            r["full_read_minutes_at_limit"],
        )
    table.notes.append("minutes: what the busiest endpoint alone needs at the limit (the floor for any client)")
    table.notes.append("full read: the same view when everything is read (an organization.yaml change)")
    return {"sizes": results}, table
