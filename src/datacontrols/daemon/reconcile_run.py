"""The body of one daemon run: read a batch of the work queue, then the engine's one reconcile entry point.

A run reads what its batch names (`sweep.Sweep.read`), then plans the organization as last read, whole (what
has been read at least once), through `datacontrols.reconcile.reconcile` as the CLI does, with the audit
log read in its review when it is due. In enforce mode it writes only what the batch read afresh (the
organization's own changes when it read the organization, the projects it read whole). The daemon around
it loads the desired state first, and afterwards keeps the metrics, /status and alerts; this module only
fills in the `RunRecord` it is given.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

import structlog

from datacontrols.adminapi import AdminApi
from datacontrols.daemon.attribution import AuditTrail
from datacontrols.daemon.metrics import DaemonMetrics
from datacontrols.daemon.notifications import drift_key
from datacontrols.daemon.queue import Batch
from datacontrols.daemon.run_record import RunRecord
from datacontrols.daemon.sweep import Sweep
from datacontrols.desired.schema import DesiredState
from datacontrols.engine import Registry
from datacontrols.observed import Observed
from datacontrols.plan import Change
from datacontrols.reconcile import Intent, Outcome, Phase, reconcile
from datacontrols.target import Target

__all__ = ["RunContext", "read_audit_log", "reconcile_run"]

log = structlog.get_logger("datacontrols.daemon")


@dataclass(frozen=True)
class RunContext:
    """What a run needs from the daemon: the same objects for every run, built once."""

    api: AdminApi
    registry: Registry
    mode: str
    stopping: asyncio.Event
    metrics: DaemonMetrics
    audit: AuditTrail
    clock: Callable[[], float]
    sweep: Sweep
    warned: set[str] = field(default_factory=set)  # warnings said once per process, not once per run
    drift_seen: set[str] = field(default_factory=set)  # the drift keys of the last plan


async def reconcile_run(
    run: RunRecord, desired: DesiredState, ctx: RunContext, batch: Batch, *, read_audit: bool = True
) -> None:
    """Read `batch`, then reconcile `desired` through the one entry point, recording each step in `run`; the
    audit log too when `read_audit` (else drift is attributed from the events read before).

    Enforce mode applies, holding back every weakening change (the ratchet: it waits for a person, never the
    daemon) and with no `--allow-unsafe`: a plan that crosses a threshold or breaks a guard is refused whole
    and waits for a person or a change of the files. Report mode only plans, on a read-only client.
    """
    ctx.api.transport.requests.clear()  # kept per run only: a daemon runs for months
    enforce = ctx.mode == "enforce"
    run.phase = "observe"
    batch_names = batch.full | batch.quick
    await ctx.sweep.read(ctx.api, desired, organization=batch.organization, full=batch.full, quick=batch.quick)
    batch_failures = {name: why for name, why in ctx.sweep.failures.items() if name in batch_names}
    planned, writable = ctx.sweep.targets(desired, organization=batch.organization, full=batch.full)

    async def held(_wanted: DesiredState, _target: Target) -> Observed:
        return ctx.sweep.snapshot()  # read just above; the rest as last read

    async def review(outcome: Outcome) -> bool:
        run.plan, run.read_failures = outcome.plan, dict(outcome.read_failures)
        run.not_read = outcome.not_read
        if outcome.unpinned and "unpinned" not in ctx.warned:
            ctx.warned.add("unpinned")
            log.warning("organization_not_pinned", hint=outcome.unpinned)
        for name, why in sorted(batch_failures.items()):
            log.warning("project_unreadable", project=name, error=why)
        run.phase = "attribute"
        # New drift is alerted with its author: the audit log is read for it even between polls (one request).
        keys = {drift_key(c) for c in outcome.plan.drift}
        if read_audit or keys - ctx.drift_seen:
            await read_audit_log(run, ctx)
        ctx.drift_seen.clear()
        ctx.drift_seen.update(keys)
        _attribute(run, ctx)
        return not ctx.stopping.is_set()

    def phase(name: Phase) -> None:
        run.phase = name

    intent = Intent(apply=enforce, hold_weakening=enforce, target=planned, writable=writable)
    outcome = await reconcile(
        ctx.api,
        desired,
        intent,
        registry=ctx.registry,
        review=review,
        stopping=ctx.stopping,
        on_change=_on_change_for(ctx),
        on_phase=phase,
        read=held,
    )
    if ctx.stopping.is_set() and outcome.result is None:
        run.outcome, run.error = "interrupted", "shutdown began before any write"
        return
    if enforce and outcome.refusal is not None and outcome.plan.applicable:
        run.outcome, run.error = "refused", outcome.refusal.message
        log.error("run_refused_unsafe_plan", error=outcome.refusal.message)
        return
    run.result = outcome.result
    run.phase = "report"
    if run.result is not None and run.result.skipped and ctx.stopping.is_set():
        run.outcome, run.error = "interrupted", "shutdown stopped the remaining writes"
    elif (run.result is not None and run.result.failed) or batch_failures:
        # This batch's own failures: a project that cannot be read fails the runs that read it, not all runs.
        failed = len(run.result.failed) if run.result else 0
        run.outcome = "failure"
        run.error = f"{failed} change(s) failed, {len(batch_failures)} project(s) unreadable"
    else:
        run.outcome = "success"


async def read_audit_log(run: RunRecord | None, ctx: RunContext) -> bool:
    """Follow the audit log; a failure here never fails a run (False). Its new events are `ctx.audit.fresh`."""
    # Read even when there is no drift: an author is then already known when drift shows up.
    try:
        events = await ctx.audit.refresh(ctx.api)
    except Exception as exc:  # whatever went wrong, attribution is a nicety: the run goes on
        ctx.metrics.audit_reads.labels("failure").inc()
        log.warning("audit_log_unreadable", error=getattr(exc, "message", type(exc).__name__))
        return False
    ctx.metrics.audit_reads.labels("success").inc()
    if run is not None:
        run.audit_events_read = events
    return True


def _attribute(run: RunRecord, ctx: RunContext) -> None:
    if run.plan is not None:
        run.attributions = {drift_key(c): ctx.audit.attribute(c) for c in run.plan.drift}


def _on_change_for(ctx: RunContext) -> Callable[[Change, str], None]:
    # Projects are applied side by side, so a write's own start is not known here: the apply's is.
    apply_started = ctx.clock()

    def on_change(change: Change, outcome: str) -> None:
        ctx.metrics.change(change, outcome)
        if outcome == "applied":
            ctx.audit.note_own_write(change, apply_started, ctx.clock())

    return on_change
