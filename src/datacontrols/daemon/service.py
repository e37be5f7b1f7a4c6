"""The daemon: a reconcile run on a schedule, with probes, metrics, status, attribution, alerts and a clean stop.

One asyncio loop holds everything: the APScheduler 3 `AsyncIOScheduler` that starts runs, the uvicorn server
that answers the probes (so a wedged loop fails them), and the runs themselves.

A run (`Daemon.run_once`):

    load the desired state (re-read every time: a changed ConfigMap applies without a restart; invalid ->
    reported, not ready, nothing applied) -> observe -> diff -> read the audit log (never fails the run)
    -> apply (enforce mode only; changes held back by `enforcement: report` are skipped) -> metrics,
    /status, alerts -> one closing log line with the counts.

Runs never overlap: the scheduler allows one instance (a run still going when the next is due is skipped
and counted), and a lock guards any other caller. Report mode uses a read-only client: it cannot write.

Stopping (SIGTERM/SIGINT, or `request_stop()`): readiness fails at once, the scheduler starts nothing new,
`engine.apply` starts no new write, a write in flight finishes, and `serve()` returns 0 within the grace
period. A run still reading when the stop comes is cancelled (reads are safe to abandon); a run that is
writing is waited for. Only when the grace period runs out is a writing run cancelled (exit code 1).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import signal
import time
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import structlog
from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED, JobEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from pydantic import SecretStr

from datacontrols.adminapi import DEFAULT_BASE_URL, AdminApi
from datacontrols.adminapi.transport import RequestRecord
from datacontrols.daemon.attribution import Attribution, AuditTrail
from datacontrols.daemon.metrics import DaemonMetrics
from datacontrols.daemon.notifications import DriftLedger, Notifier, drift_key, now_iso
from datacontrols.daemon.settings import DaemonSettings
from datacontrols.desired import load_desired_state
from datacontrols.desired.schema import DesiredState
from datacontrols.engine import DEFAULT_REGISTRY, ApplyResult, Registry, apply, diff, observe
from datacontrols.errors import AuthError, ConfigError, DataControlsError, DesiredStateError, UnsafePlanError
from datacontrols.plan import Change, Plan
from datacontrols.ratchet import hold_weakening
from datacontrols.redaction import redact, redact_value
from datacontrols.render.notation import redact_plan
from datacontrols.safety import SafetyCheck

__all__ = ["Daemon", "RunRecord"]

log = structlog.get_logger("datacontrols.daemon")

Outcome = Literal["running", "success", "failure", "refused", "invalid_desired_state", "interrupted"]
Phase = Literal["load", "observe", "attribute", "apply", "report", "done"]
_CANCELLABLE_PHASES = frozenset({"load", "observe", "attribute"})  # nothing is being written


@dataclass
class RunRecord:
    """One run, as /status and the closing log line show it."""

    run_id: str
    mode: str
    started_at: float
    finished_at: float | None = None
    outcome: Outcome = "running"
    phase: Phase = "load"
    error: str | None = None
    plan: Plan | None = None
    result: ApplyResult | None = None
    read_failures: dict[str, str] = field(default_factory=dict)
    attributions: dict[str, Attribution] = field(default_factory=dict)  # drift key -> attribution
    requests: Counter[tuple[str, str, str]] = field(default_factory=Counter)  # (method, template, code) -> count
    audit_events_read: int | None = None

    @property
    def duration(self) -> float | None:
        return None if self.finished_at is None else max(0.0, self.finished_at - self.started_at)

    def counts(self) -> dict[str, int]:
        plan, result = self.plan, self.result
        return {
            "changes": len(plan) if plan is not None else 0,
            "drift": len(plan.drift) if plan is not None else 0,
            "held_back": sum(1 for c in plan.drift if c.enforcement == "report") if plan is not None else 0,
            "applied": len(result.applied) if result else 0,
            "failed": len(result.failed) if result else 0,
            "skipped": len(result.skipped) if result else 0,
            "requests": sum(self.requests.values()),
            "rate_limited": sum(n for (_, _, code), n in self.requests.items() if code == "429"),
            "read_failures": len(self.read_failures),
        }

    def to_json(self) -> dict[str, Any]:
        plan = self.plan
        drift = []
        for change in plan.drift if plan is not None else ():
            key = drift_key(change)
            attribution = self.attributions.get(key)
            drift.append(
                {"key": key, **change.to_json(), "attribution": attribution.to_json() if attribution else None}
            )
        result = self.result
        by_endpoint = [
            {"method": method, "endpoint": template, "status": code, "count": count}
            for (method, template, code), count in sorted(self.requests.items())
        ]
        counts = self.counts()
        return {
            "run_id": self.run_id,
            "mode": self.mode,
            "started_at": now_iso(self.started_at),
            "finished_at": now_iso(self.finished_at) if self.finished_at is not None else None,
            "duration_seconds": round(self.duration, 3) if self.duration is not None else None,
            "outcome": self.outcome,
            "error": self.error,
            "counts": counts,
            "plan": redact_plan(plan).to_json() if plan is not None else None,
            "plan_digest": plan.digest() if plan is not None else None,
            "drift": drift,
            "findings": [c.to_json() for c in plan.changes if c.action == "report"] if plan is not None else [],
            "applied": [c.to_json() for c in result.applied] if result else [],
            "failed": [{**c.to_json(), "error": why} for c, why in result.failed] if result else [],
            "skipped": [c.to_json() for c in result.skipped] if result else [],
            "read_failures": dict(self.read_failures),
            "requests": {
                "total": counts["requests"],
                "rate_limited": counts["rate_limited"],
                "failed": sum(n for (_, _, code), n in self.requests.items() if code == "error" or code[0] == "5"),
                "by_endpoint": by_endpoint,
            },
            "audit_log": {"events_read": self.audit_events_read},
        }


class Daemon:
    """`reconcile serve`: build it, then `await daemon.serve()` (or drive `run_once()` yourself in tests)."""

    def __init__(
        self,
        settings: DaemonSettings,
        *,
        admin_key: SecretStr,
        base_url: str | None = None,
        registry: Registry = DEFAULT_REGISTRY,
        metrics: DaemonMetrics | None = None,
        notifier: Notifier | None = None,
        api_options: Mapping[str, Any] | None = None,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.registry = registry
        self.metrics = metrics or DaemonMetrics()
        self.notifier = notifier or Notifier(settings.webhook, settings.webhook_format, metrics=self.metrics)
        self.clock = clock
        self._monotonic = monotonic
        self.api = AdminApi.connect(
            admin_key=admin_key,
            base_url=base_url or settings.base_url or DEFAULT_BASE_URL,
            read_only=settings.mode == "report",  # report mode cannot write: a different object, not a flag
            on_request=self._on_request,
            **dict(api_options or {}),
        )
        self.audit = AuditTrail(lookback=settings.audit_lookback, clock=clock)
        self.ledger = DriftLedger()
        self.started_at = clock()
        self.stopping = asyncio.Event()
        self.last_run: RunRecord | None = None
        self.current_run: RunRecord | None = None
        self.last_success_at: float | None = None
        self.desired_valid: bool | None = None  # None: not read yet
        self.desired_problems: list[str] = []
        self.runs_completed = 0
        self.runs_skipped = 0
        self.exit_code = 0
        self._completed_once = False
        self._lock = asyncio.Lock()
        self._run_task: asyncio.Task[RunRecord] | None = None
        self._cancelled_by_stop = False
        self._scheduler: AsyncIOScheduler | None = None
        self._http: Any = None  # the uvicorn server, once started (daemon.http.HttpServer)
        self._run_started_mono: float | None = None

    def __repr__(self) -> str:
        return f"Daemon(mode={self.settings.mode!r}, interval={self.settings.interval}s)"

    @property
    def mode(self) -> str:
        return self.settings.mode

    # --- one run -------------------------------------------------------------------------------------

    async def run_once(self) -> RunRecord | None:
        """Run one reconcile now; None when it was skipped (another is going, or the daemon is stopping)."""
        if self.stopping.is_set():
            self._skip("shutting_down")
            return None
        if self._lock.locked():
            self._skip("overlap")
            return None
        async with self._lock:
            run = RunRecord(run_id=uuid.uuid4().hex[:12], mode=self.mode, started_at=self.clock())
            self.current_run = run
            self._run_started_mono = self._monotonic()
            self.metrics.run_in_progress.set(1)
            task = asyncio.create_task(self._run(run), name=f"reconcile-{run.run_id}")
            self._run_task = task
            try:
                return await asyncio.shield(task)
            except asyncio.CancelledError:
                if not task.done():
                    task.cancel()  # the caller itself was cancelled: take the run down with it
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
                    raise
                if not self._cancelled_by_stop:
                    raise
                return run
            finally:
                self._run_task = None
                self.current_run = None
                self._run_started_mono = None
                self.metrics.run_in_progress.set(0)

    async def _run(self, run: RunRecord) -> RunRecord:
        started = self._monotonic()
        with structlog.contextvars.bound_contextvars(run_id=run.run_id, mode=run.mode):
            log.info("run_started")
            try:
                await self._reconcile(run)
            except asyncio.CancelledError:
                run.outcome = "interrupted"
                run.error = "stopped by shutdown before it finished"
                self._finish(run, started)
                raise
            except UnsafePlanError as exc:
                run.outcome, run.error = "refused", exc.message
                log.error("run_refused_unsafe_plan", error=exc.message)
            except AuthError as exc:
                run.outcome, run.error = "failure", exc.message
                log.error("run_failed", error=exc.message, status=exc.status)
            except DataControlsError as exc:
                run.outcome, run.error = "failure", exc.message
                log.error("run_failed", error=exc.message)
            except Exception as exc:  # the daemon outlives any bug in one run; the next run starts afresh
                run.outcome, run.error = "failure", f"internal error ({type(exc).__name__})"
                log.exception("run_crashed", error=type(exc).__name__)
            self._finish(run, started)
            await self._alert(run)
            return run

    async def _reconcile(self, run: RunRecord) -> None:
        desired = self._load_desired(run)
        if desired is None:
            return
        self.api.transport.requests.clear()  # kept per run only: a daemon runs for months
        run.phase = "observe"
        observed = await observe(self.api, desired, self.registry)
        plan = diff(desired, observed, self.registry)
        if self.mode == "enforce":
            plan = hold_weakening(plan)  # the ratchet: a weakening change waits for a person, never the daemon
        run.plan, run.read_failures = plan, dict(observed.failures)
        for name, why in sorted(observed.failures.items()):
            log.warning("project_unreadable", project=name, error=why)
        run.phase = "attribute"
        await self._read_audit_log(run)
        if self.stopping.is_set():
            run.outcome, run.error = "interrupted", "shutdown began before any write"
            return
        if self.mode == "enforce" and plan.applicable:
            run.phase = "apply"
            # The thresholds judged against what was observed; there is no `--allow-unsafe` here: a plan
            # that crosses one waits for a person (`reconcile --allow-unsafe DIGEST`) or a threshold change.
            run.result = await apply(
                self.api,
                plan,
                self.registry,
                stopping=self.stopping,
                on_change=self._on_change_for(run),
                safety=SafetyCheck.of(desired, observed),
            )
        run.phase = "report"
        if run.result is not None and run.result.skipped and self.stopping.is_set():
            run.outcome, run.error = "interrupted", "shutdown stopped the remaining writes"
        elif (run.result is not None and run.result.failed) or run.read_failures:
            failed = len(run.result.failed) if run.result else 0
            run.outcome = "failure"
            run.error = f"{failed} change(s) failed, {len(run.read_failures)} project(s) unreadable"
        else:
            run.outcome = "success"

    def _load_desired(self, run: RunRecord) -> DesiredState | None:
        try:
            desired = load_desired_state(self.settings.desired_state)
        except DesiredStateError as exc:
            problems = [redact(str(p)) for p in exc.problems]
        except ConfigError as exc:
            problems = [exc.message]
        else:
            if self.desired_valid is False:
                log.info("desired_state_valid_again")
            self.desired_valid, self.desired_problems = True, []
            self.metrics.desired_state(None)
            return desired
        self.desired_valid, self.desired_problems = False, problems
        self.metrics.desired_state(len(problems))
        run.outcome = "invalid_desired_state"
        run.error = f"the desired state has {len(problems)} problem(s); nothing is applied until it is valid"
        log.error("desired_state_invalid", problems=problems[:20], count=len(problems))
        return None

    async def _read_audit_log(self, run: RunRecord) -> None:
        """Follow the audit log and attribute each drift item; a failure here never fails the run."""
        # Read even when there is no drift: an author is then already known when drift shows up.
        plan = run.plan
        try:
            run.audit_events_read = await self.audit.refresh(self.api)
            self.metrics.audit_reads.labels("success").inc()
        except Exception as exc:  # whatever went wrong, attribution is a nicety: the run goes on
            self.metrics.audit_reads.labels("failure").inc()
            log.warning("audit_log_unreadable", error=getattr(exc, "message", type(exc).__name__))
        if plan is not None:
            run.attributions = {drift_key(c): self.audit.attribute(c) for c in plan.drift}

    def _on_change_for(self, run: RunRecord) -> Callable[[Change, str], None]:
        # Projects are applied side by side, so a write's own start is not known here: the apply's is.
        apply_started = self.clock()

        def on_change(change: Change, outcome: str) -> None:
            self.metrics.change(change, outcome)
            if outcome == "applied":
                self.audit.note_own_write(change, apply_started, self.clock())

        return on_change

    def _on_request(self, record: RequestRecord) -> None:
        self.metrics.request(record)
        run = self.current_run
        if run is not None:
            code = str(record.status) if record.status is not None else "error"
            run.requests[(record.method, record.template, code)] += 1

    def _finish(self, run: RunRecord, started: float) -> None:
        run.finished_at = self.clock()
        run.phase = "done"
        duration = max(0.0, self._monotonic() - started)
        self.metrics.runs.labels(run.mode, run.outcome).inc()
        self.metrics.run_duration.labels(run.mode).observe(duration)
        self.metrics.last_run.set(run.finished_at)
        if run.outcome == "success":
            self.last_success_at = run.finished_at
            self.metrics.last_success.set(run.finished_at)
        if run.plan is not None and run.outcome != "interrupted":
            self.metrics.drift(run.plan.drift)
        # Ready needs one run that got through with a valid desired state and a working key.
        if run.plan is not None and run.outcome in ("success", "failure", "refused"):
            self._completed_once = True
        self.last_run = run
        self.runs_completed += 1
        log.info(
            "run_finished",
            outcome=run.outcome,
            duration_s=round(duration, 3),
            error=run.error,
            **run.counts(),
        )

    async def _alert(self, run: RunRecord) -> None:
        at = now_iso(run.finished_at or self.clock())
        if run.outcome == "failure" and run.plan is None:
            await self.notifier.run_failed(run.error or "unknown error", run_id=run.run_id, mode=run.mode, at=at)
            return
        if run.plan is None:
            return
        corrected = run.result.applied if run.result is not None else []
        drift = [(c, (run.attributions.get(drift_key(c)) or _UNKNOWN).to_json()) for c in run.plan.drift]
        transitions = self.ledger.update(drift, corrected=corrected, unknown_projects=run.read_failures, now=at)
        await self.notifier.announce(transitions, run_id=run.run_id, mode=run.mode, at=at)
        if run.outcome in ("failure", "refused"):
            await self.notifier.run_failed(run.error or "unknown error", run_id=run.run_id, mode=run.mode, at=at)
        elif run.outcome == "success":
            self.notifier.run_succeeded()

    def _skip(self, reason: str) -> None:
        self.runs_skipped += 1
        self.metrics.runs_skipped.labels(reason).inc()
        self.metrics.runs.labels(self.mode, "skipped").inc()
        log.warning("run_skipped", reason=reason)

    # --- probes and status ---------------------------------------------------------------------------

    def liveness(self) -> tuple[bool, dict[str, Any]]:
        """Alive unless wedged: the scheduler died while not stopping, or one run has gone on far too long.
        Never false because the Admin API is down: a restart would not fix that."""
        checks: dict[str, Any] = {}
        ok = True
        scheduler = self._scheduler
        if scheduler is not None and not self.stopping.is_set() and not scheduler.running:
            checks["scheduler"] = "stopped"
            ok = False
        else:
            checks["scheduler"] = "running" if scheduler is not None and scheduler.running else "not started"
        if self._run_started_mono is not None:
            running_for = self._monotonic() - self._run_started_mono
            checks["run_seconds"] = round(running_for, 1)
            if running_for > self.hung_after:
                checks["run"] = "hung"
                ok = False
        return ok, {"status": "ok" if ok else "failing", "checks": checks}

    @property
    def hung_after(self) -> float:
        """A run longer than this is taken as hung (API calls time out long before)."""
        return max(3600.0, 3 * self.settings.interval)

    def readiness(self) -> tuple[bool, dict[str, Any]]:
        reasons = []
        if self.stopping.is_set():
            reasons.append("shutting down")
        if self.desired_valid is False:
            reasons.append(f"the desired state is invalid ({len(self.desired_problems)} problem(s))")
        if not self._completed_once:
            reasons.append("no run has completed with a valid desired state yet")
        ready = not reasons
        body: dict[str, Any] = {"status": "ready" if ready else "not ready", "reasons": reasons}
        if self.last_success_at is not None:
            body["last_success_age_seconds"] = round(self.clock() - self.last_success_at, 1)
        return ready, body

    def status(self) -> dict[str, Any]:
        """The /status document: the last run, its plan (JSON v1), drift with authors; no secrets."""
        ready, readiness = self.readiness()
        current = self.current_run
        document = {
            "service": "openai-datacontrols",
            "started_at": now_iso(self.started_at),
            "mode": self.mode,
            "interval_seconds": self.settings.interval,
            "ready": ready,
            "readiness": readiness,
            "stopping": self.stopping.is_set(),
            "desired_state": {
                "path": str(self.settings.desired_state),
                "valid": self.desired_valid,
                "problems": list(self.desired_problems),
            },
            "last_success_at": now_iso(self.last_success_at) if self.last_success_at is not None else None,
            "runs": {"finished": self.runs_completed, "skipped": self.runs_skipped},
            "current_run": (
                {"run_id": current.run_id, "started_at": now_iso(current.started_at), "phase": current.phase}
                if current is not None
                else None
            ),
            "last_run": self.last_run.to_json() if self.last_run is not None else None,
            "open_drift": [item.to_json() for item in self.ledger.open.values()],
            "audit_log": {
                "available": self.audit.available,
                "error": self.audit.error,
                "events_kept": len(self.audit.events),
            },
        }
        return redact_value(document)  # type: ignore[no-any-return]

    # --- serving -------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Start the HTTP server (probes answer at once) and the scheduler (the first run starts at once)."""
        from datacontrols.daemon.http import HttpServer  # the HTTP layer depends on this module, not back

        host, port = self.settings.host_port
        self._http = HttpServer(self, host, port)
        await self._http.start()
        scheduler = AsyncIOScheduler(
            timezone=dt.UTC,
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": max(1, int(self.settings.interval)),
            },
        )
        scheduler.add_listener(self._on_scheduler_event, EVENT_JOB_MAX_INSTANCES | EVENT_JOB_MISSED)
        jitter = self.settings.effective_jitter
        scheduler.add_job(
            self._scheduled_run,
            IntervalTrigger(seconds=self.settings.interval, jitter=jitter if jitter > 0 else None),
            id="reconcile",
            name="reconcile",
            next_run_time=dt.datetime.now(dt.UTC),
            replace_existing=True,
        )
        scheduler.start()
        self._scheduler = scheduler
        log.info(
            "daemon_started",
            mode=self.mode,
            interval_s=self.settings.interval,
            jitter_s=jitter,
            listen=f"{host}:{self.http_port}",
            desired_state=str(self.settings.desired_state),
            webhook=self.notifier.enabled,
        )

    @property
    def scheduler(self) -> AsyncIOScheduler | None:
        return self._scheduler

    @property
    def http_port(self) -> int | None:
        return self._http.port if self._http is not None else None

    async def _scheduled_run(self) -> None:
        await self.run_once()

    def _on_scheduler_event(self, event: JobEvent) -> None:
        if event.code == EVENT_JOB_MAX_INSTANCES:
            self._skip("overlap")
        elif event.code == EVENT_JOB_MISSED:
            self._skip("missed")

    def request_stop(self) -> None:
        """Begin a graceful stop (the SIGTERM/SIGINT handler): readiness fails, nothing new starts."""
        if self.stopping.is_set():
            return
        self.stopping.set()
        log.info("shutdown_requested", grace_period_s=self.settings.grace_period)
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.pause()
        run = self.current_run
        if run is not None and run.phase in _CANCELLABLE_PHASES and self._run_task is not None:
            self._cancelled_by_stop = True
            self._run_task.cancel()  # only reads are in flight: nothing is left half-written

    async def serve(self) -> int:
        """Run until SIGTERM or SIGINT; return the exit code (0: a clean stop within the grace period)."""
        loop = asyncio.get_running_loop()
        installed = []
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, self.request_stop)
                installed.append(sig)
        stop_clock = 0.0
        try:
            await self.start()
            await self.stopping.wait()
            stop_clock = self._monotonic()
            return await self.shutdown(stop_clock)
        finally:
            for sig in installed:
                loop.remove_signal_handler(sig)
            if not stop_clock:  # start() failed: release what was opened
                await self._close()

    async def shutdown(self, stop_clock: float | None = None) -> int:
        """Drain: wait for the run in flight (within the grace period), then close everything."""
        self.request_stop()
        began = stop_clock if stop_clock is not None else self._monotonic()
        # Keep a little of the grace period for closing the server and the client.
        budget = max(0.0, self.settings.grace_period - min(2.0, self.settings.grace_period * 0.1))
        task = self._run_task
        if task is not None and not task.done():
            remaining = budget - (self._monotonic() - began)
            done, _ = await asyncio.wait({task}, timeout=max(0.0, remaining))
            if not done:
                self.exit_code = 1
                log.error("shutdown_grace_exceeded", grace_period_s=self.settings.grace_period)
                self._cancelled_by_stop = True
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        await self._close()
        log.info("shutdown_complete", exit_code=self.exit_code, seconds=round(self._monotonic() - began, 3))
        return self.exit_code

    async def aclose(self) -> None:
        """Close the client, the webhook and the HTTP server without a drain (tests driving `run_once`)."""
        await self._close()

    async def _close(self) -> None:
        if self._http is not None:
            await self._http.stop()
        await self.api.aclose()
        await self.notifier.aclose()


_UNKNOWN = Attribution("not_found", "not attributed")
