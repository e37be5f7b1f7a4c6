"""Faults: reconcile cycles against an emulator answering about 20% of requests with a 429, a 5xx or a dropped
connection, while the organization keeps drifting. The state converges, nothing is created twice, and no
write other than one the cycle's plan called for is ever made.

Each cycle: a person changes zero to two things by hand (`reliability_drift`), then the real engine observes,
diffs and applies under the safety thresholds. Half the 5xx and drops that hit a write strike after the
emulator applied it (`write_timing="either"`): the client is told it failed when it did not, which is where
a careless retry would create a second project. After every cycle, from the emulator's own request log and
state:

- every write the emulator applied is accounted for by an applicable change of that cycle's plan (same
  endpoint, same project, same member, alert, key or row id; a create names the thing the change creates);
- no create took effect twice within a cycle;
- no active project name, service account, spend alert threshold or pending invite exists twice.

At the end the faults stop, one clean cycle runs, and the plan after it is empty.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field

from reliability_drift import Drifter
from reliability_support import (
    ADMIN_KEY,
    DEMO_SEED,
    DESIRED_STATE,
    creates_applied_twice,
    duplicates,
    faults_by_kind,
    quiet_logs,
    report,
    slow,
    unplanned_writes,
)

from datacontrols.adminapi import AdminApi
from datacontrols.desired import load_desired_state
from datacontrols.desired.schema import DesiredState
from datacontrols.emulator import Emulator, FaultConfig
from datacontrols.engine import ApplyResult, Observed, apply, diff, observe
from datacontrols.errors import DataControlsError, UnsafePlanError
from datacontrols.plan import Plan
from datacontrols.safety import SafetyCheck
from testsupport.clock import FakeClock

# About 20% of all requests: 7% rate limited (with Retry-After), 7% 5xx, 6% dropped connections.
FAULTS = FaultConfig(rate_limited=0.07, server_error=0.07, dropped=0.06, write_timing="either")
# Half of all writes answered with a 5xx or a dropped connection after they were applied: the case where a
# careless client resends a create. Reads stay clean so that every cycle gets to its writes.
WRITES_FAIL_LATE = FaultConfig(server_error=0.3, dropped=0.2, methods=("POST", "DELETE"), write_timing="after")


@dataclass
class Tally:
    cycles: int = 0
    drifts: Counter[str] = field(default_factory=Counter)
    planned: int = 0  # applicable changes, over all cycles
    applied: int = 0
    failed: int = 0
    skipped: int = 0
    refused: int = 0  # plans over a threshold or weakening a control, then applied approved (--allow-unsafe)
    aborted: int = 0  # cycles whose observe failed after every retry: nothing was written
    requests: int = 0
    writes_applied: int = 0
    faults: Counter[str] = field(default_factory=Counter)
    unplanned_writes: int = 0
    duplicates: int = 0


async def apply_safely(
    api: AdminApi, plan: Plan, desired: DesiredState, observed: Observed, tally: Tally
) -> ApplyResult:
    """Apply under the thresholds; a refused plan is acknowledged once, as an operator would."""
    try:
        return await apply(api, plan, safety=SafetyCheck.of(desired, observed))
    except UnsafePlanError:
        tally.refused += 1
        return await apply(api, plan, safety=SafetyCheck.of(desired, observed, allow_unsafe=plan.digest()))


async def run_cycles(cycles: int, seed: int, faults: FaultConfig = FAULTS) -> Tally:
    emulator = Emulator(admin_key=ADMIN_KEY, seed=DEMO_SEED, rng_seed=seed, faults=faults)
    desired = load_desired_state(DESIRED_STATE)
    rng = random.Random(seed)
    drifter = Drifter(emulator, desired, rng)
    time = FakeClock()
    tally = Tally()
    api = AdminApi.connect(admin_key=ADMIN_KEY, http_transport=emulator.http_transport(), sleep=time.sleep, clock=time)
    async with api:
        for cycle in range(cycles):
            for _ in range(rng.randint(0, 2)):
                drifter.drift()
            start = len(emulator.requests)
            plan = Plan()
            try:
                observed = await observe(api, desired)
                plan = diff(desired, observed)
                result = await apply_safely(api, plan, desired, observed, tally)
            except DataControlsError:
                tally.aborted += 1
            else:
                tally.planned += len(plan.applicable)
                tally.applied += len(result.applied)
                tally.failed += len(result.failed)
                tally.skipped += len(result.skipped)
            entries = emulator.requests[start:]
            stray = unplanned_writes(entries, plan, emulator)
            twice = creates_applied_twice(entries)
            held_twice = duplicates(emulator)
            assert not stray, f"cycle {cycle}: writes no planned change accounts for: {stray}"
            assert not twice, f"cycle {cycle}: {twice}"
            assert not held_twice, f"cycle {cycle}: duplicates in the organization: {held_twice}"
            tally.cycles += 1
        tally.drifts = drifter.made
        tally.requests = len(emulator.requests)
        tally.writes_applied = sum(1 for e in emulator.requests if e.applied and e.method != "GET")
        tally.faults = faults_by_kind(emulator.requests)

        emulator.faults = None
        observed = await observe(api, desired)
        settle = diff(desired, observed)
        result = await apply_safely(api, settle, desired, observed, tally)
        assert result.ok, f"the clean cycle failed: {result.failed}"
        final = diff(desired, await observe(api, desired))
    assert not final.has_changes, f"not converged after the faults stopped: {[c.to_json() for c in final.drift]}"
    assert not duplicates(emulator)
    return tally


def check_and_report(name: str, tally: Tally, cycles: int) -> None:
    injected = sum(tally.faults.values())
    share = injected / tally.requests
    assert tally.cycles == cycles
    assert 0.15 < share < 0.25, f"the injected fault share was {share:.1%}, not about 20%"
    assert {"rate_limited", "server_error", "dropped", "server_error_after_write", "dropped_after_write"} <= set(
        tally.faults
    ), f"every kind of fault was injected, writes included: {tally.faults}"
    assert tally.applied > cycles / 2, "the drift was corrected, not merely survived"
    report(
        name,
        cycles=tally.cycles,
        requests=tally.requests,
        faults_injected=injected,
        fault_share=round(share, 3),
        faults_by_kind=dict(sorted(tally.faults.items())),
        drifts=sum(tally.drifts.values()),
        drifts_by_kind=dict(sorted(tally.drifts.items())),
        changes_planned=tally.planned,
        changes_applied=tally.applied,
        changes_failed=tally.failed,
        changes_skipped=tally.skipped,
        writes_applied=tally.writes_applied,
        cycles_aborted=tally.aborted,
        plans_over_threshold=tally.refused,
        unplanned_writes=0,
        duplicates=0,
        converged=True,
    )


async def test_200_cycles_under_20_percent_faults_converge_without_duplicates_or_unplanned_writes() -> None:
    with quiet_logs():
        tally = await run_cycles(200, seed=11)
    check_and_report("faults", tally, 200)


async def test_writes_failing_after_they_were_applied_are_never_applied_twice() -> None:
    with quiet_logs():
        tally = await run_cycles(120, seed=7, faults=WRITES_FAIL_LATE)
    late = tally.faults["server_error_after_write"] + tally.faults["dropped_after_write"]
    assert late > 60, tally.faults  # about 0.6 a cycle: drift makes one or two writes
    report(
        "faults_late_writes",
        cycles=tally.cycles,
        writes_applied=tally.writes_applied,
        faults_after_write=dict(sorted(tally.faults.items())),
        changes_failed=tally.failed,
        unplanned_writes=0,
        duplicates=0,
        converged=True,
    )


@slow
async def test_2000_cycles_under_faults_across_seeds() -> None:
    for seed in (101, 202, 303, 404, 505):
        with quiet_logs():
            tally = await run_cycles(400, seed=seed)
        check_and_report(f"faults_long_seed_{seed}", tally, 400)


async def test_the_checks_catch_an_unplanned_write_a_second_create_and_a_duplicate() -> None:
    """The invariants above are only worth something if they can fail: each is shown failing here."""
    emulator = Emulator(admin_key=ADMIN_KEY, seed=DEMO_SEED, rng_seed=2)
    desired = load_desired_state(DESIRED_STATE)
    ids = {p.name: p.id for p in emulator.state.projects.values()}
    async with AdminApi.connect(admin_key=ADMIN_KEY, http_transport=emulator.http_transport()) as api:
        observed = await observe(api, desired)
        plan = diff(desired, observed)
        retention = {c.project for c in plan.applicable if c.kind == "project_data_retention"}
        assert "Support Bot" in retention and "Research Sandbox" not in retention
        start = len(emulator.requests)
        await apply(api, plan, safety=SafetyCheck.of(desired, observed, allow_unsafe=plan.digest()))
        assert unplanned_writes(emulator.requests[start:], plan, emulator) == [], "the planned writes pass"

        start = len(emulator.requests)
        # A planned kind, written to a project the plan did not name for it; then a project created twice.
        await api.retention.update_project(ids["Research Sandbox"], "zero_data_retention")
        await api.projects.create("Support Bot")
        await api.projects.create("Support Bot")
    entries = emulator.requests[start:]
    stray = unplanned_writes(entries, plan, emulator)
    assert len(stray) == 3 and f"{ids['Research Sandbox']}/data_retention" in stray[0], stray
    assert creates_applied_twice(entries) == ["POST /v1/organization/projects name='Support Bot' applied x2"]
    assert duplicates(emulator) == ["active project 'Support Bot' x3"]
