"""Two replicas of `reconcile serve --mode enforce` on one Lease (a fake Kubernetes API server): one writes.

Real time, with a lease of 1.5 s (renew deadline 1 s, retry 0.1 s) instead of controller-runtime's 15 s.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest
from daemon_support import ADMIN_KEY, approved_demo_seed, daemon_for, metric_value
from kube_support import FakeKube, Link, kube_client

from datacontrols.daemon import Daemon
from datacontrols.daemon.leader import LeaderElection, LeaseSettings
from datacontrols.daemon.view import DaemonView, ProbeServer
from datacontrols.emulator import Emulator

LEASE = "datacontrols-leader"


class NoServer:
    """The probes are asked directly; no port is bound."""

    port: int | None = None

    async def start(self) -> None:
        self.port = 0

    async def stop(self) -> None:
        pass


def no_server(_view: DaemonView, _host: str, _port: int) -> ProbeServer:
    return NoServer()


def replica(emulator: Emulator, kube: FakeKube, name: str) -> tuple[Daemon, Link, list[str]]:
    """A daemon in enforce mode on the Lease; the third item collects the Admin API paths it requested."""
    link = Link(kube)
    settings = LeaseSettings(name=LEASE, identity=name, lease_duration=1.5, renew_deadline=1.0, retry_period=0.1)
    daemon = daemon_for(
        emulator,
        mode="enforce",
        interval=60,
        probe_server=no_server,
        leader=LeaderElection(kube_client(link), settings),
    )
    requested: list[str] = []
    record = daemon._on_request

    def counting(entry: object) -> None:
        requested.append(getattr(entry, "path", "?"))
        record(entry)  # type: ignore[arg-type]

    daemon._on_request = counting  # type: ignore[method-assign]
    return daemon, link, requested


async def until(condition: Callable[[], bool], within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.02)


@pytest.fixture
def emulator() -> Emulator:
    return Emulator(admin_key=ADMIN_KEY, seed=approved_demo_seed(), rng_seed=7)


async def test_only_the_leader_reads_and_writes_the_follower_is_ready_and_takes_over_on_release(
    emulator: Emulator,
) -> None:
    kube = FakeKube()
    (a, _, a_requests), (b, _, b_requests) = replica(emulator, kube, "pod-a"), replica(emulator, kube, "pod-b")
    serving = {a: asyncio.create_task(a.serve()), b: asyncio.create_task(b.serve())}
    try:
        await until(lambda: a.runs_completed + b.runs_completed > 0, 20, "no replica ran")
        leader, follower = (a, b) if kube.holder(LEASE) == "pod-a" else (b, a)
        follower_requests = b_requests if follower is b else a_requests
        await until(lambda: leader.last_run is not None and leader.last_run.outcome == "success", 20, "no success")
        assert leader.last_run is not None and leader.last_run.result is not None and leader.last_run.result.applied
        assert follower.runs_completed == 0 and follower_requests == [], "a follower sends the Admin API nothing"
        ready, body = follower.readiness()
        assert ready and body["leader"] == {
            "lease": f"datacontrols/{LEASE}",
            "identity": follower.leader.identity if follower.leader else None,
            "role": "follower",
            "holder": kube.holder(LEASE),
        }
        assert leader.readiness()[1]["leader"]["role"] == "leader"
        assert metric_value(follower.render_metrics().decode(), "datacontrols_leader") == 0
        assert metric_value(leader.render_metrics().decode(), "datacontrols_leader") == 1

        # The leader stops (a rollout): it releases the Lease after its last write; the follower leads at once.
        leader.request_stop()
        assert await asyncio.wait_for(serving[leader], 10) == 0
        assert kube.holder(LEASE) is None or kube.holder(LEASE) == (follower.leader.identity if follower.leader else "")
        stopped = time.monotonic()
        await until(lambda: follower.runs_completed > 0, 10, "the follower never took over")
        assert time.monotonic() - stopped < 1.5, "a released Lease is taken within a retry period, not a duration"
    finally:
        for daemon, task in serving.items():
            daemon.request_stop()
            await asyncio.wait_for(task, 10)


async def test_a_leader_cut_off_from_the_api_server_stops_and_exits_1_before_the_other_takes_over(
    emulator: Emulator,
) -> None:
    kube = FakeKube()
    (a, a_link, _), (b, _, _) = replica(emulator, kube, "pod-a"), replica(emulator, kube, "pod-b")
    serving_a = asyncio.create_task(a.serve())
    await until(lambda: a.runs_completed > 0, 20, "pod-a never ran")
    serving_b = asyncio.create_task(b.serve())
    try:
        await asyncio.sleep(0.3)
        assert b.runs_completed == 0 and kube.holder(LEASE) == "pod-a"
        a_link.cut = True  # pod-a can no longer renew
        cut = time.monotonic()
        assert await asyncio.wait_for(serving_a, 10) == 1, "a lost Lease ends serve() with 1 (the pod restarts)"
        stopped = time.monotonic() - cut
        assert stopped < 1.5, f"pod-a must stop writing before its Lease can expire ({stopped:.2f} s)"
        await until(lambda: kube.holder(LEASE) == "pod-b", 10, "pod-b never took the expired Lease")
        assert time.monotonic() - cut >= 1.5, "pod-b waited out the lease duration"
        await until(lambda: b.runs_completed > 0, 10, "pod-b never ran")
    finally:
        b.request_stop()
        await asyncio.wait_for(serving_b, 10)
        if not serving_a.done():
            a.request_stop()
            await asyncio.wait_for(serving_a, 10)
