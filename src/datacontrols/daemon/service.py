"""The daemon: a budgeted work queue of reads, with probes, metrics, status, attribution, alerts and a clean stop.

One asyncio loop holds the APScheduler ticker, the uvicorn server that answers the probes (so a wedged loop
fails them) and the runs. Here: the run loop and the stop; what to read when is in `schedule` and `queue`,
what was read in `sweep`, a run's body in `reconcile_run`, readiness in `readiness`, alerts in `alerts`,
the Lease in `leader` (with one, only its holder runs: a follower reads and writes nothing).

Each tick the audit log is read when due (its events make what they name due at once), then the items due
now are one run (`run_due`): load the desired state (re-read every run; invalid -> not ready, nothing
applied) -> read the batch -> plan the organization as last read -> attribute -> apply what the batch read
afresh (enforce only; held-back changes skipped) -> metrics, /status, alerts, one closing log line.
`run_once` reads everything as one run. Runs never overlap (one scheduler, and a lock); report mode uses
a read-only client. Every request counts against `--max-requests-per-minute` per endpoint.

Stopping (SIGTERM/SIGINT, `request_stop()`, a lost Lease): readiness fails at once, nothing new starts, a
run still reading is cancelled, a write in flight finishes, and `serve()` returns 0 within the grace period
(1 when it had to cut a write short, or lost the Lease).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import signal
import time
import uuid
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final

import structlog
from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED, JobEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from pydantic import SecretStr

from datacontrols.adminapi import DEFAULT_BASE_URL, AdminApi, RequestBudget
from datacontrols.adminapi.transport import RequestRecord
from datacontrols.daemon.admin_key import RotatingClient
from datacontrols.daemon.alert_ledger import LedgerFile
from datacontrols.daemon.alerts import alert_run
from datacontrols.daemon.attribution import AuditTrail
from datacontrols.daemon.drain import drain, drain_budget
from datacontrols.daemon.metrics import DaemonMetrics
from datacontrols.daemon.notifications import DriftLedger, Notifier, now_iso
from datacontrols.daemon.queue import WorkQueue
from datacontrols.daemon.readiness import DesiredStateCheck, answer_liveness, answer_readiness, hung_threshold
from datacontrols.daemon.reconcile_run import RunContext, read_audit_log, reconcile_run
from datacontrols.daemon.run_health import RunHealth
from datacontrols.daemon.run_record import CANCELLABLE_PHASES, RunRecord
from datacontrols.daemon.schedule import Schedule, ticker
from datacontrols.daemon.settings import DaemonSettings
from datacontrols.daemon.status import StatusAccess, full_status
from datacontrols.daemon.sweep import Sweep
from datacontrols.daemon.view import ProbeServer, ProbeServerFactory
from datacontrols.engine import DEFAULT_REGISTRY, Registry
from datacontrols.errors import AuthError, DataControlsError, UnsafePlanError
from datacontrols.kinds.policy import alerted

if TYPE_CHECKING:
    from datacontrols.daemon.leader import LeaderElection  # imported by the CLI only when a Lease is configured

__all__ = ["TICK", "Daemon", "RunRecord"]

log = structlog.get_logger("datacontrols.daemon")

TICK: Final = 1.0  # seconds between looks at the work queue (the interval, when shorter)


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
        probe_server: ProbeServerFactory | None = None,
        leader: LeaderElection | None = None,
    ) -> None:
        """`probe_server` builds the HTTP side when the daemon starts (default: uvicorn, `daemon.http`);
        `leader`: the Lease election, when more than one replica may run."""
        self.settings = settings
        self.registry = registry
        self.metrics = metrics or DaemonMetrics()
        self.metrics.organization.labels(org=settings.org or "").set(1)
        self.notifier = notifier or Notifier(settings.webhook, settings.webhook_format, metrics=self.metrics)
        self.clock = clock
        self._monotonic = monotonic
        self.leader = leader

        options = dict(api_options or {})
        # One budget for every client this daemon makes (a new key, a new client), on the clients' clock.
        self.budget = RequestBudget(settings.max_requests_per_minute, options.get("clock", time.monotonic))

        def connect(key: SecretStr) -> AdminApi:  # again for each new key in --admin-key-file (`admin_key`)
            return AdminApi.connect(
                admin_key=key,
                base_url=base_url or settings.base_url or DEFAULT_BASE_URL,
                read_only=settings.mode == "report",  # report mode cannot write: a different object, not a flag
                on_request=self._on_request,
                budget=self.budget,
                **options,
            )

        self.client = RotatingClient(connect, admin_key, settings.admin_key_file)
        self.api = self.client.api
        self.audit = AuditTrail(lookback=settings.audit_lookback, clock=clock)
        self.ledger_file = LedgerFile(settings.state_dir) if settings.state_dir is not None else None
        self.ledger = self.ledger_file.restore(self.notifier) if self.ledger_file is not None else DriftLedger()
        self.desired_check = DesiredStateCheck(settings.desired_state, self.metrics, settings.expect_project_files)
        self.status_access = StatusAccess(settings.status_token)
        self.started_at = clock()
        self.stopping = asyncio.Event()
        self.queue = WorkQueue(interval=settings.interval, epoch=self.started_at, jitter=settings.effective_jitter)
        self.schedule = Schedule(
            self.queue, self.budget, min(settings.audit_poll, settings.interval), clock=clock, monotonic=monotonic
        )
        self.sweep = Sweep(registry)
        self._run_context = RunContext(
            self.api, registry, settings.mode, self.stopping, self.metrics, self.audit, clock, self.sweep
        )
        self.last_run: RunRecord | None = None
        self.current_run: RunRecord | None = None
        self.last_success_at: float | None = None
        self.health = RunHealth(settings.interval, started_at=self.clock())
        self.runs_completed = 0
        self.runs_skipped = 0
        self.exit_code = 0
        self._completed_once = False
        self._lock = asyncio.Lock()
        self._run_task: asyncio.Task[RunRecord] | None = None
        self._cancelled_by_stop = False
        self._scheduler: AsyncIOScheduler | None = None
        self._probe_server = probe_server
        self._http: ProbeServer | None = None  # once started
        self._run_started_mono: float | None = None

    def __repr__(self) -> str:
        return f"Daemon(mode={self.settings.mode!r}, interval={self.settings.interval}s)"

    @property
    def mode(self) -> str:
        return self.settings.mode

    # --- one run -------------------------------------------------------------------------------------

    async def run_once(self) -> RunRecord | None:
        """Read and reconcile everything now, as one run (a whole sweep); None when it was skipped (another
        is going, or the daemon is stopping)."""
        return await self._start(whole=True)

    async def run_due(self) -> RunRecord | None:
        """Read the audit log when due, then reconcile the work items due now; None when nothing was due."""
        if self.stopping.is_set() or self._lock.locked():
            return None
        if self.schedule.audit_due():
            if await read_audit_log(None, self._run_context):
                self.schedule.followed(self.audit, self.sweep.project_names_by_id())
            else:
                self.schedule.audit_tried()
        if not self.schedule.anything_due():
            return None
        return await self._start(whole=False)

    async def _start(self, *, whole: bool) -> RunRecord | None:
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
            task = asyncio.create_task(self._run(run, whole), name=f"reconcile-{run.run_id}")
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

    async def _run(self, run: RunRecord, whole: bool) -> RunRecord:
        started = self._monotonic()
        with structlog.contextvars.bound_contextvars(run_id=run.run_id, mode=run.mode):
            log.info("run_started")
            try:
                await self._reconcile(run, whole)
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
                self.health.key_rejected = exc.status  # not ready until a run gets through again
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

    async def _reconcile(self, run: RunRecord, whole: bool) -> None:
        """Load the desired state, then the run itself; an invalid desired state ends the run before any read.

        `whole`: everything, and the audit log (a whole sweep, `run_once`); else the items due now."""
        if await self.client.refresh():  # the key file changed: this run and the next use the new key
            self.api = self.client.api
            self._run_context = dataclasses.replace(self._run_context, api=self.api)
        desired = self.desired_check.load()
        if desired is None:
            problems = len(self.desired_check.problems)
            run.outcome = "invalid_desired_state"
            run.error = f"the desired state has {problems} problem(s); nothing is applied until it is valid"
            return
        read_audit = whole or self.schedule.audit_due()
        batch = self.schedule.batch(desired, whole=whole)
        run.batch = batch.describe()
        await reconcile_run(run, desired, self._run_context, batch, read_audit=read_audit)
        if run.audit_events_read is not None:  # the run read the audit log (when due, or for new drift)
            self.schedule.followed(self.audit, self.sweep.project_names_by_id())
        self.schedule.finished(batch, run.plan, self.mode)

    def _on_request(self, record: RequestRecord) -> None:
        self.metrics.request(record)
        if self.current_run is not None:
            self.current_run.count(record)

    def _finish(self, run: RunRecord, started: float) -> None:
        run.finished_at = self.clock()
        run.phase = "done"
        duration = max(0.0, self._monotonic() - started)
        checked = run.plan is not None and run.outcome != "interrupted"  # it read the organization and planned
        planned = alerted(run.plan) if checked and run.plan is not None else None
        self.metrics.finished(run.mode, run.outcome, run.finished_at, duration, planned)
        self.health.record(checked=checked, failed=run.outcome == "failure", at=run.finished_at, now=self._monotonic())
        if run.outcome == "success":
            self.last_success_at = run.finished_at
        # Ready after one whole sweep with a valid desired state and a working key, not undone by a new file.
        if run.plan is not None and run.outcome in ("success", "failure", "refused"):
            self._completed_once = self._completed_once or self.queue.swept_once
        self.last_run = run
        self.runs_completed += 1
        log.info("run_finished", outcome=run.outcome, duration_s=round(duration, 3), error=run.error, **run.counts())

    async def _alert(self, run: RunRecord) -> None:
        at = now_iso(run.finished_at or self.clock())
        await alert_run(run, ledger=self.ledger, notifier=self.notifier, at=at, ledger_file=self.ledger_file)

    def _skip(self, reason: str) -> None:
        self.runs_skipped += 1
        self.metrics.runs_skipped.labels(reason).inc()
        self.metrics.runs.labels(self.mode, "skipped").inc()
        log.warning("run_skipped", reason=reason)

    # --- probes and status ---------------------------------------------------------------------------

    def liveness(self) -> tuple[bool, dict[str, Any]]:
        """Alive unless wedged (`readiness.answer_liveness`); never false because the Admin API is down."""
        scheduler = self._scheduler
        started = self._run_started_mono
        return answer_liveness(
            scheduler_running=scheduler.running if scheduler is not None else None,
            stopping=self.stopping.is_set(),
            running_for=self._monotonic() - started if started is not None else None,
            hung_after=self.hung_after,
        )

    @property
    def hung_after(self) -> float:
        """A run longer than this is taken as hung (API calls time out long before)."""
        return hung_threshold(self.settings.interval)

    def readiness(self) -> tuple[bool, dict[str, Any]]:
        return answer_readiness(
            leader=self.leader.describe() if self.leader is not None else None,
            stopping=self.stopping.is_set(),
            desired_valid=self.desired_check.valid,
            desired_problems=len(self.desired_check.problems),
            completed_once=self._completed_once,
            last_success_age=self.clock() - self.last_success_at if self.last_success_at is not None else None,
            unchecked_for=self.health.unchecked_for(self.clock()),
            max_staleness=self.settings.effective_max_staleness,
            last_error=self.last_run.error if self.last_run is not None else None,
            key_rejected=self.health.key_rejected,
        )

    def status(self) -> dict[str, Any]:
        """The full /status document (`status.full_status`); the HTTP side shows a summary without the token."""
        return full_status(self)

    def render_metrics(self) -> bytes:
        """The Prometheus text exposition of this daemon's metrics (the work queue's gauges as of now)."""
        self.metrics.work(self.work_progress(), self.budget.per_minute, self.budget.sent_last_minute())
        self.metrics.leader.set(1 if self.leader is None or self.leader.leading else 0)
        return self.metrics.render()

    def work_progress(self) -> dict[str, Any]:
        """The work queue as /status shows it (`Schedule.progress`)."""
        return self.schedule.progress()

    # --- serving -------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Start the HTTP server (probes answer at once) and the scheduler (the first run starts at once)."""
        host, port = self.settings.host_port
        if self._probe_server is None:
            from datacontrols.daemon.http import HttpServer  # here: importing the daemon loads no web server

        self._http = (self._probe_server or HttpServer)(self, host, port)
        await self._http.start()
        scheduler = ticker(self._scheduled_run, self.tick, self._on_scheduler_event)
        jitter = self.settings.effective_jitter
        scheduler.start()
        self._scheduler = scheduler
        if self.leader is not None:
            self.leader.start(self.stopping, on_lost=self._leadership_lost)
        log.info(
            "daemon_started",
            mode=self.mode,
            interval_s=self.settings.interval,
            jitter_s=jitter,
            listen=f"{host}:{self.http_port}",
            desired_state=str(self.settings.desired_state),
            webhook=self.notifier.enabled,
            status_token=self.status_access.enabled,
        )

    @property
    def scheduler(self) -> AsyncIOScheduler | None:
        return self._scheduler

    @property
    def http_port(self) -> int | None:
        return self._http.port if self._http is not None else None

    @property
    def tick(self) -> float:
        """Seconds between looks at the work queue."""
        return min(TICK, self.settings.interval)

    async def _scheduled_run(self) -> None:
        if self.leader is not None and not self.leader.leading:
            return  # a follower: the leader reads and writes
        if self.health.wait(self._monotonic()) > 0:
            self._skip("backoff")  # the API was down a moment ago: do not spend the budget back to back
            return
        await self.run_due()

    def _on_scheduler_event(self, event: JobEvent) -> None:
        # A tick during a run is the queue waiting, not a skipped run, unless the interval is the tick itself.
        if event.code == EVENT_JOB_MAX_INSTANCES and self.tick >= self.settings.interval:
            self._skip("overlap")
        elif event.code == EVENT_JOB_MISSED:
            self._skip("missed")

    def _cut_short(self) -> None:
        self._cancelled_by_stop = True

    def _leadership_lost(self) -> None:
        self.exit_code = 1  # as controller-runtime's manager exits: Kubernetes restarts it as a follower
        self.request_stop()

    def request_stop(self) -> None:
        """Begin a graceful stop (the SIGTERM/SIGINT handler): readiness fails, nothing new starts."""
        if self.stopping.is_set():
            return
        self.stopping.set()
        log.info("shutdown_requested", grace_period_s=self.settings.grace_period)
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.pause()
        run = self.current_run
        if run is not None and run.phase in CANCELLABLE_PHASES and self._run_task is not None:
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
        within = drain_budget(self.settings.grace_period) - (self._monotonic() - began)
        if not await drain(self._run_task, within, before_cut=self._cut_short):
            self.exit_code = 1
            log.error("shutdown_grace_exceeded", grace_period_s=self.settings.grace_period)
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        if self.leader is not None:
            await self.leader.stop()  # after the last write: a follower may take over at once
        await self._close()
        log.info("shutdown_complete", exit_code=self.exit_code, seconds=round(self._monotonic() - began, 3))
        return self.exit_code

    async def aclose(self) -> None:
        """Close the client, the webhook and the HTTP server without a drain (tests driving `run_once`)."""
        await self._close()

    async def _close(self) -> None:
        if self._http is not None:
            await self._http.stop()
        await self.client.aclose()
        await self.notifier.aclose()
