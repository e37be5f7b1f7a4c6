"""The body of one daemon run: the engine's one reconcile entry point, with the audit log read in its review.

Everything a run does to the organization happens in `datacontrols.reconcile.reconcile`, as for the CLI. The
daemon around it loads the desired state first, and afterwards keeps the metrics, /status and alerts; this
module only fills in the `RunRecord` it is given.
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
from datacontrols.daemon.run_record import RunRecord
from datacontrols.desired.schema import DesiredState
from datacontrols.engine import Registry
from datacontrols.plan import Change
from datacontrols.reconcile import Intent, Outcome, Phase, reconcile

__all__ = ["RunContext", "reconcile_run"]

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
    warned: set[str] = field(default_factory=set)  # warnings said once per process, not once per run


async def reconcile_run(run: RunRecord, desired: DesiredState, ctx: RunContext) -> None:
    """Reconcile `desired` through the one entry point, recording each step's result in `run`.

    Enforce mode applies, holding back every weakening change (the ratchet: it waits for a person, never the
    daemon) and with no `--allow-unsafe`: a plan that crosses a threshold or breaks a guard is refused whole
    and waits for a person or a change of the files. Report mode only plans, on a read-only client.
    """
    ctx.api.transport.requests.clear()  # kept per run only: a daemon runs for months
    enforce = ctx.mode == "enforce"

    async def review(outcome: Outcome) -> bool:
        run.plan, run.read_failures = outcome.plan, dict(outcome.read_failures)
        if outcome.unpinned and "unpinned" not in ctx.warned:
            ctx.warned.add("unpinned")
            log.warning("organization_not_pinned", hint=outcome.unpinned)
        for name, why in sorted(outcome.read_failures.items()):
            log.warning("project_unreadable", project=name, error=why)
        run.phase = "attribute"
        await _read_audit_log(run, ctx)
        return not ctx.stopping.is_set()

    def phase(name: Phase) -> None:
        run.phase = name

    intent = Intent(apply=enforce, hold_weakening=enforce)
    outcome = await reconcile(
        ctx.api,
        desired,
        intent,
        registry=ctx.registry,
        review=review,
        stopping=ctx.stopping,
        on_change=_on_change_for(ctx),
        on_phase=phase,
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
    elif (run.result is not None and run.result.failed) or run.read_failures:
        failed = len(run.result.failed) if run.result else 0
        run.outcome = "failure"
        run.error = f"{failed} change(s) failed, {len(run.read_failures)} project(s) unreadable"
    else:
        run.outcome = "success"


async def _read_audit_log(run: RunRecord, ctx: RunContext) -> None:
    """Follow the audit log and attribute each drift item; a failure here never fails the run."""
    # Read even when there is no drift: an author is then already known when drift shows up.
    plan = run.plan
    try:
        run.audit_events_read = await ctx.audit.refresh(ctx.api)
        ctx.metrics.audit_reads.labels("success").inc()
    except Exception as exc:  # whatever went wrong, attribution is a nicety: the run goes on
        ctx.metrics.audit_reads.labels("failure").inc()
        log.warning("audit_log_unreadable", error=getattr(exc, "message", type(exc).__name__))
    if plan is not None:
        run.attributions = {drift_key(c): ctx.audit.attribute(c) for c in plan.drift}


def _on_change_for(ctx: RunContext) -> Callable[[Change, str], None]:
    # Projects are applied side by side, so a write's own start is not known here: the apply's is.
    apply_started = ctx.clock()

    def on_change(change: Change, outcome: str) -> None:
        ctx.metrics.change(change, outcome)
        if outcome == "applied":
            ctx.audit.note_own_write(change, apply_started, ctx.clock())

    return on_change
