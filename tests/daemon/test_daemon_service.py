"""The daemon's runs against the in-process emulator: report never writes, enforce converges, the desired state
is re-read each run and an invalid one holds everything back, runs never overlap, a stop mid-run leaves no
half-written change, a rate-limited API is worked through without a failed request, and no secret leaks."""

from __future__ import annotations

import asyncio
import io
import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from daemon_support import (
    ADMIN_KEY,
    BASE_URL,
    DEMO_SEED,
    DESIRED_STATE,
    approved_demo_seed,
    capture_logs,
    daemon_for,
    metric_value,
)
from daemon_support import settings as daemon_settings
from pydantic import SecretStr

from datacontrols.adminapi import AdminApi
from datacontrols.daemon import Daemon, Notifier
from datacontrols.desired import load_desired_state
from datacontrols.emulator import Emulator, FaultConfig, RateLimitConfig
from datacontrols.engine import diff, observe
from testsupport.clock import SharedClock


@pytest.fixture
def emulator() -> Emulator:
    # Enforce mode corrects what it may; the demo plan's weakening changes were approved once by a person.
    return Emulator(admin_key=ADMIN_KEY, seed=approved_demo_seed(), rng_seed=7)


@pytest.fixture
def desired_dir(tmp_path: Path) -> Path:
    """A copy of the repository's desired_state/, free to edit."""
    target = tmp_path / "desired"
    shutil.copytree(DESIRED_STATE, target)
    return target


class WriteWatch(httpx.AsyncBaseTransport):
    """Passes requests through and counts the writes that have started (they may still be in flight)."""

    def __init__(self, inner: httpx.AsyncBaseTransport, *, signal_after: int = 1) -> None:
        self._inner = inner
        self.started_writes = 0
        self.signal_after = signal_after
        self.reached = asyncio.Event()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method != "GET":
            self.started_writes += 1
            if self.started_writes >= self.signal_after:
                self.reached.set()
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


async def live_plan(emulator: Emulator, desired_dir: Path = DESIRED_STATE) -> Any:
    desired = load_desired_state(desired_dir)
    async with AdminApi.connect(admin_key=ADMIN_KEY, http_transport=emulator.http_transport(), read_only=True) as api:
        return diff(desired, await observe(api, desired))


# --- report and enforce --------------------------------------------------------------------------------


async def test_report_mode_reads_and_never_writes(emulator: Emulator) -> None:
    daemon = daemon_for(emulator, mode="report")
    try:
        run = await daemon.run_once()
        assert run is not None and run.outcome == "success"
        assert run.plan is not None and run.plan.applicable and run.result is None
        assert emulator.requests.methods() == {"GET"}
        assert daemon.api.read_only  # the client itself cannot write
        text = daemon.metrics.render().decode()
        assert metric_value(text, "datacontrols_runs_total", mode="report", result="success") == 1
        assert metric_value(text, "datacontrols_drift_open", kind="project_hosted_tools", severity="critical") == 2
        assert metric_value(text, "datacontrols_changes_applied_total", kind="project", action="create") is None
    finally:
        await daemon.aclose()


async def test_enforce_mode_corrects_and_then_stays_quiet(emulator: Emulator) -> None:
    daemon = daemon_for(emulator, mode="enforce")
    try:
        first = await daemon.run_once()
        assert first is not None and first.outcome == "success" and first.result is not None
        assert first.result.applied and not first.result.failed
        second = await daemon.run_once()
        assert second is not None and second.plan is not None and not second.plan.has_changes
        assert not (await live_plan(emulator)).has_changes
        text = daemon.metrics.render().decode()
        assert metric_value(text, "datacontrols_runs_total", mode="enforce", result="success") == 2
        assert metric_value(text, "datacontrols_changes_applied_total", kind="project", action="create") == 1
        assert metric_value(text, "datacontrols_drift_open", kind="project_hosted_tools", severity="critical") == 0
        assert (metric_value(text, "datacontrols_last_success_timestamp_seconds") or 0) > 0
        status = daemon.status()
        assert status["last_run"]["plan"]["format_version"] == 1
        assert status["last_run"]["counts"]["drift"] == 0
        assert {"method": "GET", "endpoint": "/organization/projects", "status": "200", "count": 1} in status[
            "last_run"
        ]["requests"]["by_endpoint"]
    finally:
        await daemon.aclose()


async def test_the_desired_state_is_read_again_on_every_run(emulator: Emulator, desired_dir: Path) -> None:
    daemon = daemon_for(emulator, mode="enforce", desired_state=desired_dir)
    try:
        await daemon.run_once()
        sandbox = desired_dir / "projects" / "research-sandbox.yaml"
        sandbox.write_text(sandbox.read_text().replace("web_search: true", "web_search: false"))
        run = await daemon.run_once()  # no restart: the edited file is what counts now
        assert run is not None and run.result is not None
        [change] = run.result.applied
        assert change.kind == "project_hosted_tools" and change.project == "Research Sandbox"
        assert change.fields["web_search"].after is False
    finally:
        await daemon.aclose()


async def test_an_invalid_desired_state_holds_everything_back_until_fixed(
    emulator: Emulator, desired_dir: Path
) -> None:
    organization = desired_dir / "organization.yaml"
    good = organization.read_text()
    organization.write_text(good.replace("unmanaged_projects: report", "unmanaged_projects: reportt"))
    daemon = daemon_for(emulator, mode="enforce", desired_state=desired_dir)
    try:
        run = await daemon.run_once()
        assert run is not None and run.outcome == "invalid_desired_state" and run.plan is None
        assert len(emulator.requests) == 0  # nothing read, nothing applied
        ready, body = daemon.readiness()
        assert not ready and any("invalid" in reason for reason in body["reasons"])
        status = daemon.status()
        assert status["desired_state"]["valid"] is False
        assert "organization.yaml" in status["desired_state"]["problems"][0]
        text = daemon.metrics.render().decode()
        assert metric_value(text, "datacontrols_desired_state_invalid") == 1
        assert metric_value(text, "datacontrols_runs_total", mode="enforce", result="invalid_desired_state") == 1

        organization.write_text(good)
        run = await daemon.run_once()
        assert run is not None and run.outcome == "success"
        assert daemon.readiness()[0]
        assert metric_value(daemon.metrics.render().decode(), "datacontrols_desired_state_invalid") == 0
    finally:
        await daemon.aclose()


async def test_a_failing_api_fails_the_run_not_the_daemon() -> None:
    emulator = Emulator(admin_key="sk-admin-another-key-000000000", seed=DEMO_SEED)  # our key is refused: 401
    daemon = daemon_for(emulator, mode="report")
    try:
        run = await daemon.run_once()
        assert run is not None and run.outcome == "failure" and "401" in (run.error or "")
        assert not daemon.readiness()[0]
        assert daemon.liveness()[0]  # a restart would not fix the API: still alive
        assert (
            metric_value(daemon.metrics.render().decode(), "datacontrols_runs_total", mode="report", result="failure")
            == 1
        )
    finally:
        await daemon.aclose()


# --- overlap -------------------------------------------------------------------------------------------


async def test_a_run_asked_for_while_one_is_going_is_skipped_and_counted(emulator: Emulator) -> None:
    emulator.faults = FaultConfig(latency=0.05, methods=("GET",))
    daemon = daemon_for(emulator, mode="report")
    try:
        first = asyncio.create_task(daemon.run_once())
        await asyncio.sleep(0.01)
        assert await daemon.run_once() is None
        assert (await first) is not None
        text = daemon.metrics.render().decode()
        assert metric_value(text, "datacontrols_runs_skipped_total", reason="overlap") == 1
        assert metric_value(text, "datacontrols_runs_total", mode="report", result="skipped") == 1
    finally:
        await daemon.aclose()


async def test_the_schedule_skips_a_due_run_while_one_is_still_going(emulator: Emulator) -> None:
    emulator.faults = FaultConfig(latency=0.03, methods=("GET",))  # a run takes ~0.4 s; one is due every 0.1 s
    daemon = daemon_for(emulator, mode="report", interval=0.1, jitter=0)
    in_flight = 0
    most = 0
    original = daemon._reconcile

    async def counting(run: Any, *rest: Any) -> None:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        try:
            await original(run, *rest)
        finally:
            in_flight -= 1

    daemon._reconcile = counting  # type: ignore[method-assign]
    serving = asyncio.create_task(daemon.serve())
    try:
        deadline = time.monotonic() + 5
        while daemon.runs_skipped < 2 or daemon.runs_completed < 2:
            assert time.monotonic() < deadline, "the schedule neither ran nor skipped"
            await asyncio.sleep(0.05)
    finally:
        daemon.request_stop()
        assert await asyncio.wait_for(serving, 5) == 0
    assert most == 1
    assert (
        metric_value(daemon.metrics.render().decode(), "datacontrols_runs_skipped_total", reason="overlap") or 0
    ) >= 2


# --- stopping --------------------------------------------------------------------------------------------


async def test_a_stop_mid_apply_finishes_writes_in_flight_starts_none_and_exits_0(emulator: Emulator) -> None:
    emulator.faults = FaultConfig(latency=0.05, methods=("POST", "DELETE"))
    watch = WriteWatch(emulator.http_transport(), signal_after=5)  # into the projects, written side by side
    daemon = daemon_for(emulator, mode="enforce", grace_period=5, api_options={"http_transport": watch})
    serving = asyncio.create_task(daemon.serve())
    await asyncio.wait_for(watch.reached.wait(), 10)
    stopped_at = time.time()
    started = time.monotonic()
    daemon.request_stop()  # what SIGTERM runs
    assert not daemon.readiness()[0]
    code = await asyncio.wait_for(serving, 6)
    elapsed = time.monotonic() - started

    assert code == 0 and elapsed < 5
    writes = [entry for entry in emulator.requests if entry.method != "GET"]
    assert writes and all(entry.status == 200 and entry.applied for entry in writes)  # none cut short
    assert all(entry.time <= stopped_at for entry in writes)  # none started after the stop
    run = daemon.last_run
    assert run is not None and run.outcome == "interrupted" and run.result is not None
    assert len(run.result.applied) == len(writes) and run.result.skipped and not run.result.failed
    # Every change is either fully applied or not started: nothing applied is still to do, and what is left
    # was skipped (a skipped setting of a project created just before may already hold its default).
    left = {(c.kind, c.project, c.subject) for c in (await live_plan(emulator)).applicable}
    assert left and left <= {(c.kind, c.project, c.subject) for c in run.result.skipped}
    assert not left & {(c.kind, c.project, c.subject) for c in run.result.applied}


async def test_a_stop_while_reading_cancels_the_run_at_once(emulator: Emulator) -> None:
    emulator.faults = FaultConfig(latency=0.5, methods=("GET",))
    daemon = daemon_for(emulator, mode="enforce", grace_period=5)
    serving = asyncio.create_task(daemon.serve())
    while daemon.current_run is None or daemon.current_run.phase != "observe":
        await asyncio.sleep(0.01)
    started = time.monotonic()
    daemon.request_stop()
    assert await asyncio.wait_for(serving, 5) == 0
    assert time.monotonic() - started < 2
    assert emulator.requests.methods() <= {"GET"}
    assert daemon.last_run is not None and daemon.last_run.outcome == "interrupted"


async def test_a_write_outlasting_the_grace_period_is_cut_and_the_exit_code_says_so(emulator: Emulator) -> None:
    emulator.faults = FaultConfig(latency=3.0, methods=("POST",))
    watch = WriteWatch(emulator.http_transport())
    daemon = daemon_for(emulator, mode="enforce", grace_period=0.5, api_options={"http_transport": watch})
    serving = asyncio.create_task(daemon.serve())
    await asyncio.wait_for(watch.reached.wait(), 5)
    started = time.monotonic()
    daemon.request_stop()
    assert await asyncio.wait_for(serving, 5) == 1
    assert time.monotonic() - started < 1.5
    assert [e for e in emulator.requests if e.method != "GET" and e.applied] == []  # the cut write never landed


# --- the API's rate limit -------------------------------------------------------------------------------


@pytest.mark.parametrize("capacity", [None, 1.0])
async def test_a_full_run_under_ten_requests_a_minute_per_endpoint_has_no_failed_request(
    capacity: float | None,
) -> None:
    clock = SharedClock()
    limit = RateLimitConfig(per_minute=10, capacity=capacity)
    emulator = Emulator(
        admin_key=ADMIN_KEY, seed=approved_demo_seed(), rng_seed=7, rate_limit=limit, clock=clock, sleep=clock.sleep
    )
    daemon = daemon_for(emulator, clock=clock, mode="enforce")
    try:
        run = await daemon.run_once()
        assert run is not None
        assert run.outcome == "success", run.error
        assert run.result is not None and run.result.applied and not run.result.failed and not run.read_failures
        records = daemon.api.transport.requests
        # No call failed: every request got an answer, no 5xx; 4xx other than 429 are the API's empty states.
        assert all(r.status is not None and r.status < 500 for r in records)
        assert {r.status for r in records} <= {200, 404, 429}
        throttled = [r for r in records if r.status == 429]
        if capacity == 1.0:
            assert throttled  # the limit really bit, and every 429 was waited out
        status = daemon.status()["last_run"]["requests"]
        assert status["total"] == len(records) and status["rate_limited"] == len(throttled) and status["failed"] == 0
        again = await daemon.run_once()
        assert again is not None and again.plan is not None and not again.plan.has_changes
    finally:
        await daemon.aclose()


async def test_a_larger_organization_is_worked_through_the_limit_too(tmp_path: Path) -> None:
    clock = SharedClock()
    seed = {"projects": [{"name": f"P{i:02d}", "hosted_tools": {"web_search": True}} for i in range(15)]}
    (tmp_path / "projects").mkdir()
    (tmp_path / "organization.yaml").write_text("project_defaults:\n  hosted_tools: {web_search: false}\n")
    for i in range(15):
        (tmp_path / "projects" / f"p{i:02d}.yaml").write_text(f"name: P{i:02d}\n")
    emulator = Emulator(
        admin_key=ADMIN_KEY, seed=seed, rate_limit=RateLimitConfig(per_minute=10), clock=clock, sleep=clock.sleep
    )
    daemon = daemon_for(emulator, clock=clock, mode="enforce", desired_state=tmp_path)
    try:
        run = await daemon.run_once()
        assert run is not None and run.outcome == "success" and run.result is not None
        assert len(run.result.applied) == 15 and run.counts()["rate_limited"] > 0
    finally:
        await daemon.aclose()


# --- logs and secrets ---------------------------------------------------------------------------------------


@pytest.fixture
def captured_logs() -> Iterator[io.StringIO]:
    with capture_logs() as buffer:
        yield buffer


async def test_every_line_of_a_run_carries_its_run_id_and_one_line_closes_it(
    emulator: Emulator, captured_logs: io.StringIO
) -> None:
    daemon = daemon_for(emulator, mode="enforce")
    try:
        runs = [await daemon.run_once(), await daemon.run_once()]
    finally:
        await daemon.aclose()
    lines = [json.loads(line) for line in captured_logs.getvalue().splitlines()]
    for run in runs:
        assert run is not None
        start = next(
            i for i, line in enumerate(lines) if line["event"] == "run_started" and line.get("run_id") == run.run_id
        )
        end = next(
            i for i, line in enumerate(lines) if line["event"] == "run_finished" and line.get("run_id") == run.run_id
        )
        assert end > start + 1
        assert all(line.get("run_id") == run.run_id for line in lines[start : end + 1])
    closing = [line for line in lines if line["event"] == "run_finished"]
    assert len(closing) == 2
    assert {"outcome", "duration_s", "changes", "drift", "applied", "failed", "requests", "rate_limited"} <= set(
        closing[0]
    )
    assert closing[0]["applied"] > 0 and closing[1]["drift"] == 0


async def test_the_admin_key_never_reaches_status_metrics_logs_or_alerts(
    emulator: Emulator, desired_dir: Path, captured_logs: io.StringIO
) -> None:
    # A project named like the key puts it into the plan, the applied changes and the engine's log lines.
    (desired_dir / "projects" / "trap.yaml").write_text(f"name: {ADMIN_KEY}\n")
    posted: list[bytes] = []

    def hook(request: httpx.Request) -> httpx.Response:
        posted.append(request.content)
        return httpx.Response(500)  # a failing webhook logs a warning: it must not log the URL either

    webhook = "https://hooks.example.com/T0/B0/webhook-token-0123456789"
    notifier = Notifier(SecretStr(webhook), "json", transport=httpx.MockTransport(hook))
    daemon = daemon_for(emulator, mode="enforce", desired_state=desired_dir, notifier=notifier, webhook=webhook)
    try:
        await daemon.run_once()
        first = json.dumps(daemon.status())
        await daemon.run_once()
        second = json.dumps(daemon.status())
        metrics = daemon.metrics.render().decode()
    finally:
        await daemon.aclose()
    logs = captured_logs.getvalue()
    assert any(p.name == ADMIN_KEY for p in emulator.state.projects.values())  # the trap was sprung
    assert "change_applied" in logs and "[REDACTED]" in first and posted
    for text in (first, second, metrics, logs, *(p.decode() for p in posted)):
        assert ADMIN_KEY not in text
        assert "sk-admin" not in text
    assert webhook not in logs and webhook not in first


def test_the_daemon_repr_holds_no_secret(emulator: Emulator) -> None:
    daemon = daemon_for(emulator)
    assert ADMIN_KEY not in repr(daemon) and ADMIN_KEY not in repr(daemon.api)
    asyncio.run(daemon.aclose())


def test_a_daemon_can_be_built_without_a_loop_and_closed() -> None:
    daemon = Daemon(
        daemon_settings(),
        admin_key=SecretStr(ADMIN_KEY),
        base_url=BASE_URL,
    )
    assert daemon.mode == "report" and daemon.api.read_only
    asyncio.run(daemon.aclose())


async def test_a_plan_crossing_a_safety_threshold_is_refused_whole_and_alerted(tmp_path: Path) -> None:
    emulator = Emulator(admin_key=ADMIN_KEY, seed={"projects": [{"name": n} for n in ("A", "B", "C")]})
    (tmp_path / "organization.yaml").write_text("unmanaged_projects: archive\n")
    posted: list[dict[str, Any]] = []

    def hook(request: httpx.Request) -> httpx.Response:
        posted.append(json.loads(request.content))
        return httpx.Response(204)

    notifier = Notifier(SecretStr("https://hooks.example.com/x"), "json", transport=httpx.MockTransport(hook))
    daemon = daemon_for(emulator, mode="enforce", desired_state=tmp_path, notifier=notifier)
    try:
        run = await daemon.run_once()
        assert run is not None and run.outcome == "refused" and "threshold" in (run.error or "")
        assert emulator.requests.methods() == {"GET"}  # refused before any write
        assert daemon.readiness()[0]  # the daemon works; the plan needs a person
        assert [m["event"] for m in posted] == ["drift_detected", "run_failed"]
        text = daemon.metrics.render().decode()
        assert metric_value(text, "datacontrols_runs_total", mode="enforce", result="refused") == 1
    finally:
        await daemon.aclose()


async def test_a_missing_desired_state_directory_is_an_invalid_desired_state(
    tmp_path: Path, emulator: Emulator
) -> None:
    daemon = daemon_for(emulator, desired_state=tmp_path / "not-mounted-yet")
    try:
        run = await daemon.run_once()
        assert run is not None and run.outcome == "invalid_desired_state"
        assert "does not exist" in daemon.status()["desired_state"]["problems"][0]
        assert not daemon.readiness()[0] and daemon.liveness()[0]
    finally:
        await daemon.aclose()
