"""Leader election on a Lease, against a fake Kubernetes API server: one leader, takeover, partition, release."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from kube_support import FakeKube, Link, kube_client

from datacontrols.daemon.leader import LeaderElection, LeaseSettings

LEASE = LeaseSettings(name="datacontrols-leader", lease_duration=15, renew_deadline=10, retry_period=2)


class Clock:
    """One monotonic clock for every replica, and a wall clock that may disagree with it (skew)."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t

    def wall(self, skew: float = 0.0) -> datetime:
        return datetime(2026, 12, 7, tzinfo=UTC) + timedelta(seconds=self.t + skew)


def replica(kube: FakeKube, clock: Clock, name: str, *, skew: float = 0.0) -> tuple[LeaderElection, Link]:
    link = Link(kube)
    settings = LeaseSettings(**{**LEASE.__dict__, "identity": name})
    return LeaderElection(kube_client(link), settings, monotonic=clock, now=lambda: clock.wall(skew)), link


async def test_of_two_replicas_one_leads_and_the_other_follows_until_the_lease_expires() -> None:
    kube, clock = FakeKube(), Clock()
    a, _ = replica(kube, clock, "pod-a")
    b, _ = replica(kube, clock, "pod-b", skew=-3600)  # an hour behind: clocks need not agree
    assert await a.attempt() and a.leading
    assert not await b.attempt() and not b.leading and b.holder == "pod-a"
    for _ in range(20):  # a renews every retry period: b never takes over
        clock.t += 2
        assert await a.attempt()
        assert not await b.attempt()
    assert kube.holder() == "pod-a"
    # a stops renewing (it hangs): a stops leading at its renew deadline, before b may take over.
    clock.t += 10
    assert not a.leading
    assert not await b.attempt(), "15 s have not passed since b last saw the record change"
    clock.t += 5
    assert await b.attempt() and b.leading and kube.holder() == "pod-b"
    lease = kube.leases[("datacontrols", "datacontrols-leader")]
    assert lease["spec"]["leaseTransitions"] == 1
    # a comes back: it sees b's lease and stays a follower.
    assert not await a.attempt() and not a.leading and a.holder == "pod-b"


async def test_two_replicas_taking_an_expired_lease_at_once_end_with_one_leader() -> None:
    kube, clock = FakeKube(), Clock()
    old, _ = replica(kube, clock, "pod-old")
    assert await old.attempt()
    a, _ = replica(kube, clock, "pod-a")
    b, _ = replica(kube, clock, "pod-b")
    await asyncio.gather(a.attempt(), b.attempt())  # both see pod-old's record
    clock.t += 16
    results = await asyncio.gather(a.attempt(), b.attempt())  # both read, both write: the API lets one through
    assert sorted(results) == [False, True]
    assert [a.leading, b.leading].count(True) == 1
    assert kube.holder() == ("pod-a" if a.leading else "pod-b")


async def test_the_first_replica_creates_the_lease_and_a_second_create_is_refused() -> None:
    kube, clock = FakeKube(), Clock()
    a, _ = replica(kube, clock, "pod-a")
    b, _ = replica(kube, clock, "pod-b")
    results = await asyncio.gather(a.attempt(), b.attempt())
    assert results.count(True) == 1 and [m for m, _, _ in kube.writes] == ["POST"]


async def test_a_partitioned_leader_stops_leading_within_its_renew_deadline() -> None:
    kube, clock = FakeKube(), Clock()
    a, link = replica(kube, clock, "pod-a")
    assert await a.attempt()
    link.cut = True
    clock.t += 2
    assert await a.attempt(), "one failed renewal is not the end: the deadline decides"
    clock.t += 8.5
    assert not await a.attempt() and not a.leading
    link.cut = False  # the partition heals before the lease expired: a renews its own lease
    assert await a.attempt() and kube.holder() == "pod-a"


async def test_a_clean_stop_releases_the_lease_so_a_follower_takes_over_at_once() -> None:
    kube, clock = FakeKube(), Clock()
    a, _ = replica(kube, clock, "pod-a")
    b, _ = replica(kube, clock, "pod-b")
    assert await a.attempt()
    assert not await b.attempt()
    await a.stop()
    assert kube.holder() is None and not a.leading
    assert await b.attempt() and b.leading, "no wait for the lease duration after a release"


async def test_the_loop_calls_on_lost_once_when_leadership_lapses() -> None:
    kube = FakeKube()
    link = Link(kube)
    settings = LeaseSettings(
        name="datacontrols-leader", identity="pod-a", lease_duration=0.6, renew_deadline=0.4, retry_period=0.05
    )
    elector = LeaderElection(kube_client(link), settings)
    stopping, lost = asyncio.Event(), []
    elector.start(stopping, lambda: lost.append(True))
    for _ in range(100):
        if elector.leading:
            break
        await asyncio.sleep(0.01)
    assert elector.leading
    link.cut = True
    await asyncio.sleep(0.7)
    assert lost == [True] and not elector.leading
    stopping.set()
    await elector.stop()


def test_timings_that_would_let_two_lead_are_refused() -> None:
    with pytest.raises(ValueError, match="renew deadline < lease duration"):
        LeaseSettings(name="x", lease_duration=10, renew_deadline=10, retry_period=2)
