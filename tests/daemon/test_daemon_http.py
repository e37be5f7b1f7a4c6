"""The probes, metrics and status over HTTP: what each answers in each state of the daemon."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from daemon_support import ADMIN_KEY, BEARER, DEMO_SEED, STATUS_TOKEN, daemon_for, daemon_http, metric_value

from datacontrols.daemon import Daemon
from datacontrols.daemon.http import create_app
from datacontrols.daemon.status import StatusAccess
from datacontrols.daemon.view import DaemonView, ProbeServer
from datacontrols.emulator import Emulator, FaultConfig


@pytest.fixture
def emulator() -> Emulator:
    return Emulator(admin_key=ADMIN_KEY, seed=DEMO_SEED, rng_seed=7)


@pytest.fixture
async def daemon(emulator: Emulator) -> AsyncIterator[Daemon]:
    built = daemon_for(emulator, mode="report", status_token=STATUS_TOKEN)
    yield built
    await built.aclose()


@pytest.fixture
async def http(daemon: Daemon) -> AsyncIterator[httpx.AsyncClient]:
    async with daemon_http(daemon) as client:
        yield client


async def test_healthz_answers_at_once_and_readyz_waits_for_the_first_run(
    daemon: Daemon, http: httpx.AsyncClient
) -> None:
    health = await http.get("/healthz")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    ready = await http.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["reasons"] == ["no run has completed with a valid desired state yet"]
    await daemon.run_once()
    ready = await http.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    assert ready.headers["cache-control"] == "no-store"


async def test_metrics_are_prometheus_text(daemon: Daemon, http: httpx.AsyncClient) -> None:
    await daemon.run_once()
    response = await http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    text = response.text
    assert metric_value(text, "datacontrols_runs_total", mode="report", result="success") == 1
    assert metric_value(text, "datacontrols_build_info") is None  # it has labels
    assert "datacontrols_build_info{" in text and "_created" not in text
    assert (
        metric_value(
            text, "datacontrols_api_requests_total", method="GET", endpoint="/organization/projects", code="200"
        )
        == 1
    )
    # Bounded labels only: no project name or id anywhere in the exposition.
    assert "Support Bot" not in text and "proj_" not in text


async def test_status_shows_the_last_run_and_its_plan(daemon: Daemon, http: httpx.AsyncClient) -> None:
    empty = (await http.get("/status", headers=BEARER)).json()
    assert empty["last_run"] is None and empty["mode"] == "report"
    await daemon.run_once()
    status = (await http.get("/status", headers=BEARER)).json()
    assert status["detail"] == "full"
    run = status["last_run"]
    assert run["outcome"] == "success" and run["mode"] == "report"
    assert run["started_at"].endswith("Z") and run["finished_at"] >= run["started_at"]
    assert run["plan"]["format_version"] == 1 and run["plan"]["changes"]
    assert run["plan_digest"] and run["counts"]["drift"] == len(run["drift"])
    assert all(item["attribution"]["status"] for item in run["drift"])
    assert run["requests"]["total"] > 0 and run["requests"]["by_endpoint"]
    assert status["desired_state"] == {"path": status["desired_state"]["path"], "valid": True, "problems": []}
    assert len(status["open_drift"]) == run["counts"]["drift"]


async def test_readyz_fails_while_the_desired_state_is_invalid(tmp_path: Path, emulator: Emulator) -> None:
    (tmp_path / "organization.yaml").write_text("unmanaged_projects: sometimes\n")
    daemon = daemon_for(emulator, desired_state=tmp_path)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=create_app(daemon)), base_url="http://d"
        ) as http:
            await daemon.run_once()
            ready = await http.get("/readyz")
            assert ready.status_code == 503 and "invalid" in ready.json()["reasons"][0]
            assert (await http.get("/healthz")).status_code == 200  # a restart would not fix a file
            status = (await http.get("/status")).json()
            assert status["desired_state"]["valid"] is False and status["desired_state"]["problems"]
    finally:
        await daemon.aclose()


async def test_shutdown_makes_the_daemon_unready_but_still_alive(daemon: Daemon, http: httpx.AsyncClient) -> None:
    await daemon.run_once()
    daemon.request_stop()
    ready = await http.get("/readyz")
    assert ready.status_code == 503 and "shutting down" in ready.json()["reasons"]
    assert (await http.get("/healthz")).status_code == 200
    assert (await http.get("/status")).json()["stopping"] is True


async def test_healthz_fails_when_a_run_hangs_far_beyond_any_timeout(emulator: Emulator) -> None:
    emulator.faults = FaultConfig(latency=0.2, methods=("GET",))
    now = [1000.0]
    daemon = daemon_for(emulator, mode="report")
    daemon._monotonic = lambda: now[0]
    try:
        running = asyncio.create_task(daemon.run_once())
        while daemon.current_run is None:
            await asyncio.sleep(0.01)
        assert daemon.liveness()[0]
        now[0] += daemon.hung_after + 1
        alive, body = daemon.liveness()
        assert not alive and body["checks"]["run"] == "hung"
        await running
        assert daemon.liveness()[0]
    finally:
        await daemon.aclose()


async def test_served_probes_answer_from_the_daemons_own_loop(emulator: Emulator) -> None:
    daemon = daemon_for(emulator, mode="report", interval=60)
    serving = asyncio.create_task(daemon.serve())
    try:
        while daemon.http_port is None or daemon.last_run is None:
            await asyncio.sleep(0.01)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{daemon.http_port}", timeout=2) as http:
            assert (await http.get("/healthz")).status_code == 200
            assert (await http.get("/readyz")).status_code == 200
            assert daemon.scheduler is not None
            daemon.scheduler.shutdown(wait=False)  # the scheduler dying on its own is a wedge
            assert (await http.get("/healthz")).status_code == 503
            assert (await http.get("/nothing")).status_code == 404
    finally:
        daemon.request_stop()
        started = time.monotonic()
        assert await asyncio.wait_for(serving, 5) == 0
        assert time.monotonic() - started < 4


class FixedView:
    """A `DaemonView` that is not a daemon: the HTTP side needs nothing more."""

    def liveness(self) -> tuple[bool, dict[str, Any]]:
        return False, {"status": "failing", "checks": {"scheduler": "stopped"}}

    def readiness(self) -> tuple[bool, dict[str, Any]]:
        return True, {"status": "ready", "reasons": []}

    status_access = StatusAccess(None)

    def status(self) -> dict[str, Any]:
        return {"service": "openai-datacontrols", "mode": "report"}

    def render_metrics(self) -> bytes:
        return b"datacontrols_up 1\n"


async def test_the_http_side_serves_any_daemon_view() -> None:
    transport = httpx.ASGITransport(app=create_app(FixedView()))
    async with httpx.AsyncClient(transport=transport, base_url="http://view") as http:
        health = await http.get("/healthz")
        assert health.status_code == 503 and health.json()["checks"] == {"scheduler": "stopped"}
        assert (await http.get("/readyz")).status_code == 200
        summary = (await http.get("/status")).json()  # no token: the summary of the view's document
        assert summary["service"] == "openai-datacontrols" and summary["detail"] == "summary"
        assert (await http.get("/metrics")).text == "datacontrols_up 1\n"


async def test_the_daemon_serves_its_probes_on_the_server_it_is_given(emulator: Emulator) -> None:
    events: list[str] = []
    seen: list[tuple[DaemonView, str, int]] = []

    class RecordingServer:
        port: int | None = None

        async def start(self) -> None:
            self.port = 4242
            events.append("start")

        async def stop(self) -> None:
            events.append("stop")

    def factory(view: DaemonView, host: str, port: int) -> ProbeServer:
        seen.append((view, host, port))
        return RecordingServer()

    daemon = daemon_for(emulator, mode="report", interval=60, listen="127.0.0.1:9999", probe_server=factory)
    serving = asyncio.create_task(daemon.serve())
    try:
        while daemon.last_run is None:
            await asyncio.sleep(0.01)
        assert seen == [(daemon, "127.0.0.1", 9999)] and daemon.http_port == 4242
    finally:
        daemon.request_stop()
        assert await asyncio.wait_for(serving, 5) == 0
    assert events == ["start", "stop"]
