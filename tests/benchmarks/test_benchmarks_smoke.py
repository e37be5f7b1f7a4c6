"""The benchmarks at toy sizes, so their code cannot rot: every figure they compute is checked here.

The full runs (`uv run python -m benchmarks`) take minutes; these take seconds.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # `benchmarks/` sits at the repository root, beside `src/` and `tests/`
    sys.path.insert(0, str(REPO))

from benchmarks import (  # noqa: E402
    dryrun,
    latency,
    minimum,
    organization,
    pull_request,
    pure_diff,
    rate_limit,
    requests_per_run,
    virtualtime,
)
from datacontrols.adminapi import RetryPolicy  # noqa: E402
from datacontrols.engine import diff  # noqa: E402


def test_pages_count_an_empty_list_and_a_full_last_page_as_one_request() -> None:
    assert [minimum.pages(n) for n in (0, 1, 100, 101, 1000)] == [1, 1, 1, 2, 10]


def test_the_minimum_is_eight_organization_reads_and_twelve_per_project() -> None:
    org = organization.generate(10)
    need = minimum.minimum_reads(org.seed, org.desired)

    per_project = {endpoint: n for endpoint, n in need.items() if "{project_id}" in endpoint}
    assert set(per_project.values()) == {10}  # one read of each of 12 endpoints for each of 10 projects
    assert len(per_project) == 12
    assert sum(need.values()) == 8 + 12 * 10
    bigger = organization.generate(101)
    assert minimum.minimum_reads(bigger.seed, bigger.desired)[minimum.PROJECTS] == 2  # the project list's pages


async def test_a_dry_run_makes_exactly_the_minimum_number_of_requests() -> None:
    result = await requests_per_run.measure(10)

    assert result["requests"] == result["minimum"] == 128
    assert result["surplus_by_endpoint"] == {}
    assert result["failed_requests"] == 0
    assert result["plan_changes"] > 0  # the generated drift is planned: the run compared something
    naive = result["naive"]
    # The naive client sees all 10 projects but never reads roles, role assignments or the admin key list.
    assert naive["projects_seen"] == 10
    assert naive["needed_reads_completed"] == 128 - 10 - 10 - 1
    assert naive["requests"] == naive["needed_reads_completed"]


async def test_latency_run_is_never_faster_than_its_lower_bound() -> None:
    result = await latency.measure(5, latency=0.005, settings=(("4", {"concurrency": 4, "max_concurrency": 4}),))

    (ours,) = result["runs"]
    assert ours["requests"] == result["minimum"]
    assert ours["wall_seconds"] >= ours["bound_seconds"] * 0.99  # 4 in flight at most, each 5 ms long
    naive = result["naive"]
    assert naive["projects_seen"] == 5
    assert naive["wall_seconds"] >= naive["requests"] * 0.005 * 0.99  # strictly one at a time


async def test_under_the_rate_limit_a_patient_client_fails_nothing_and_keeps_pace() -> None:
    patient = (("patient", RetryPolicy(budget_seconds=3600.0)),)
    result = await rate_limit.measure(10, burst=1, policies=patient)

    (ours,) = result["ours"]
    assert ours["failed_requests"] == 0
    assert ours["throttled_429"] > 0  # the limit did bite
    # 10 reads per project endpoint, one token at first and one more every 6 s: 54 s at best.
    assert result["ideal_seconds"] == 54.0
    # The pacer keeps to the pace it learned instead of probing each token with a 429: a little slower at
    # a burst of one (measured 72 s), with a third of the 429s.
    assert 54.0 <= ours["virtual_seconds"] <= 1.35 * 54.0
    assert ours["throttled_429"] < 0.5 * 99  # the probing client drew 99
    assert result["naive"]["failed_reads"] > 0  # 3 retries 1 s apart cannot wait 6 s for a token


async def test_the_pure_diff_inputs_repeat_the_template() -> None:
    desired, observed, reads = await pure_diff.build_inputs(20, template=10)
    template_desired, template_observed, template_reads = await pure_diff.build_inputs(10, template=10)

    assert len(desired.projects) == len(observed.projects) == 20
    plan = diff(desired, observed, dryrun.REGISTRY)
    template_plan = diff(template_desired, template_observed, dryrun.REGISTRY)
    assert len(plan) == 2 * len(template_plan) > 0
    assert reads - template_reads == 12 * 10  # twelve more reads for each of ten more projects


def test_the_command_prints_tables_and_writes_the_results(tmp_path: Path) -> None:
    output = tmp_path / "results.json"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--only", "1", "--output", str(output)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert "1. Requests per full dry run" in done.stdout
    document = json.loads(output.read_text())
    assert document["command"] == "uv run python -m benchmarks --quick"
    assert document["machine"]["cores"] >= 1
    first = document["benchmarks"]["1"]
    assert first["quick"] is True
    assert [(s["projects"], s["requests"] == s["minimum"]) for s in first["sizes"]] == [(10, True), (100, True)]


async def test_the_virtual_clock_jumps_to_each_timer_while_everyone_sleeps() -> None:
    clock = virtualtime.VirtualClock(start=100.0)
    woke: list[tuple[str, float]] = []

    async def nap(name: str, seconds: float) -> None:
        await clock.sleep(seconds)
        woke.append((name, clock.now()))

    async def both() -> None:
        await asyncio.gather(nap("long", 600.0), nap("short", 60.0))

    started = time.perf_counter()
    await clock.run(both())

    assert woke == [("short", 160.0), ("long", 700.0)]
    assert clock.elapsed == 600.0  # concurrent sleeps overlap: ten minutes, not eleven
    assert time.perf_counter() - started < 1.0


async def test_a_pull_request_changing_one_project_reads_it_and_the_organization_only() -> None:
    result = await pull_request.measure(10)
    assert result["introduced_changes"] == 1 and result["projects_not_read"] == 9
    assert result["requests"] <= pull_request.BOUND < result["full_read_requests"]
    # The changed project's twelve reads, once each; every other read is an organization-level one.
    per_project = {e: n for e, n in result["per_endpoint"].items() if "{project_id}" in e}
    assert len(per_project) == 12 and set(per_project.values()) == {1}


async def test_the_budgeted_daemon_keeps_its_cap_and_sees_an_audited_change_within_a_minute() -> None:
    from benchmarks import daemon_budget

    result = await daemon_budget.measure(10)
    assert result["cap_kept"] and result["busiest_endpoint_minute"] <= daemon_budget.CAP
    assert result["audited_worst"] <= 60
    assert result["retention_worst"] <= result["retention_bound"]
    assert result["first_sweep_requests"] > 0 and result["requests_per_hour"] > 0
