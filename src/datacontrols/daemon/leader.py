"""Leader election on a Kubernetes Lease, so `reconcile serve` can run as more than one replica with one writer.

The algorithm is client-go's (and so controller-runtime's), over a `coordination.k8s.io/v1` Lease read and
written through lightkube:

- Every `retry_period` each replica tries to acquire or renew the Lease. The leader renews it by writing its
  `renewTime`; a follower takes it over only once the record has not changed for `lease_duration`, timed on
  the follower's own monotonic clock from when it last saw the record change, so the replicas' wall clocks
  need not agree.
- Every write carries the `resourceVersion` that was read, so of two replicas taking the Lease at once the
  API server lets exactly one through (the other gets 409 and stays a follower).
- A leader that has not renewed for `renew_deadline` (shorter than `lease_duration`) stops leading before
  any follower may take over; `on_lost` is called once, and the daemon then stops, as controller-runtime's
  manager exits, so Kubernetes restarts it as a follower. Writes stop between two changes at once.
- On a clean stop the leader releases the Lease (holder cleared, duration 1 s), so a follower takes over
  within a retry period instead of a lease duration.

A follower reads nothing from the Admin API: the budget is the organization's, and one reader is enough.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx2
import structlog
from lightkube import ApiError, AsyncClient, KubeConfig
from lightkube.models.coordination_v1 import LeaseSpec
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.coordination_v1 import Lease

__all__ = ["LeaderElection", "LeaseSettings", "connect_election", "default_identity"]

from datacontrols.errors import ConfigError as SettingError

log = structlog.get_logger("datacontrols.daemon")


def default_identity() -> str:
    """This replica's name in the Lease: the pod's name (its host name) and a random suffix, as client-go does,
    so a restarted container is a new holder and never renews its predecessor's term by accident."""
    return f"{os.environ.get('POD_NAME') or socket.gethostname()}_{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class LeaseSettings:
    """Which Lease, who this replica is, and the timings (controller-runtime's defaults)."""

    name: str
    namespace: str | None = None  # None: the client's namespace (in a pod: its own)
    identity: str = ""  # empty: `default_identity()`
    lease_duration: float = 15.0
    renew_deadline: float = 10.0
    retry_period: float = 2.0

    def __post_init__(self) -> None:
        if not 0 < self.retry_period < self.renew_deadline < self.lease_duration:
            raise ValueError("leader election needs 0 < retry period < renew deadline < lease duration")


def connect_election(name: str, namespace: str | None) -> LeaderElection:
    """The election for `reconcile serve --leader-election-lease NAME`, through the pod's service account (or
    KUBECONFIG outside a cluster); a clear error when neither is there."""
    try:
        config = KubeConfig.from_env()
    except Exception as exc:  # no token, no file, or a file lightkube cannot read (YAML, missing keys)
        raise SettingError(
            f"--leader-election-lease {name}: no Kubernetes credentials ({type(exc).__name__}): mount the service "
            "account token (automountServiceAccountToken: true, see deploy/components/leader-election) or set "
            "KUBECONFIG"
        ) from None
    # Straight to the API server: HTTPS_PROXY is for the Admin API, and a proxy would not know the cluster's CA.
    client = AsyncClient(config=config, trust_env=False, timeout=httpx2.Timeout(5.0))
    return LeaderElection(client, LeaseSettings(name=name, namespace=namespace))


@dataclass(frozen=True)
class _Seen:
    """The Lease record as last read, and when (on this replica's monotonic clock) it last changed."""

    holder: str | None
    renew_time: datetime | None
    transitions: int
    duration: float
    changed_at: float


class LeaderElection:
    """One replica's side of the election; `leading` says whether it may write now."""

    def __init__(
        self,
        client: AsyncClient,
        settings: LeaseSettings,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.client = client
        self.settings = settings
        self.identity = settings.identity or default_identity()
        self.namespace = settings.namespace or client.namespace
        self._monotonic = monotonic
        self._now = now
        self._seen: _Seen | None = None
        self._renewed_at: float | None = None  # when this replica last wrote the Lease as its holder
        self._led = False  # whether `leading` was true at the last look (to say once that it changed)
        self._task: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        return f"LeaderElection({self.namespace}/{self.settings.name}, identity={self.identity!r})"

    @property
    def leading(self) -> bool:
        """True while this replica renewed the Lease within the renew deadline: it may write."""
        renewed = self._renewed_at
        return renewed is not None and self._monotonic() - renewed < self.settings.renew_deadline

    @property
    def holder(self) -> str | None:
        """Who holds the Lease, as last read (None: nobody, or not read yet)."""
        return self._seen.holder if self._seen is not None else None

    def describe(self) -> dict[str, Any]:
        """For /status and readiness: the Lease, this replica and the holder."""
        return {
            "lease": f"{self.namespace}/{self.settings.name}",
            "identity": self.identity,
            "role": "leader" if self.leading else "follower",
            "holder": self.holder,
        }

    async def attempt(self) -> bool:
        """Acquire or renew the Lease once; whether this replica leads afterwards. Never raises for the API."""
        try:
            lease = await self.client.get(Lease, self.settings.name, namespace=self.namespace)
        except ApiError as exc:
            if exc.status.code != 404:
                return self._failed("lease_read_failed", exc)
            return await self._create()
        except Exception as exc:  # unreachable, timed out: renewal failed, the deadline decides
            return self._failed("lease_read_failed", exc)
        spec = lease.spec or LeaseSpec()
        now_mono = self._monotonic()
        self._observe(spec, now_mono)
        seen = self._seen
        assert seen is not None
        if seen.holder and seen.holder != self.identity and now_mono - seen.changed_at < seen.duration:
            self._renewed_at = None  # held by another, and not expired
            return False
        ours = seen.holder == self.identity
        now = self._now()
        lease.spec = LeaseSpec(
            holderIdentity=self.identity,
            leaseDurationSeconds=round(self.settings.lease_duration),
            acquireTime=spec.acquireTime if ours and spec.acquireTime is not None else now,
            renewTime=now,
            leaseTransitions=seen.transitions if ours else seen.transitions + 1,
        )
        try:
            await self.client.replace(lease)  # carries the resourceVersion read: a rival's write makes it 409
        except Exception as exc:
            return self._failed("lease_update_failed", exc)
        if not ours:
            log.info("leadership_acquired", lease=self.settings.name, identity=self.identity, previous=seen.holder)
        self._won(lease.spec)
        return True

    async def _create(self) -> bool:
        now = self._now()
        spec = LeaseSpec(
            holderIdentity=self.identity,
            leaseDurationSeconds=round(self.settings.lease_duration),
            acquireTime=now,
            renewTime=now,
            leaseTransitions=0,
        )
        lease = Lease(metadata=ObjectMeta(name=self.settings.name, namespace=self.namespace), spec=spec)
        try:
            await self.client.create(lease)
        except Exception as exc:  # 409: another replica created it first
            return self._failed("lease_create_failed", exc)
        log.info("leadership_acquired", lease=self.settings.name, identity=self.identity, previous=None)
        self._won(spec)
        return True

    def _won(self, spec: LeaseSpec) -> None:
        self._renewed_at = self._monotonic()
        self._observe(spec, self._renewed_at)

    def _observe(self, spec: LeaseSpec, at: float) -> None:
        transitions = spec.leaseTransitions or 0
        duration = float(spec.leaseDurationSeconds or self.settings.lease_duration)
        record = (spec.holderIdentity or None, spec.renewTime, transitions, duration)
        before = self._seen
        if before is None or (before.holder, before.renew_time, before.transitions, before.duration) != record:
            self._seen = _Seen(*record, changed_at=at)

    def _failed(self, event: str, exc: BaseException) -> bool:
        status = getattr(getattr(exc, "status", None), "code", None)
        if status != 409:  # a conflict is the normal sound of another replica holding or taking the Lease
            log.warning(event, lease=self.settings.name, error=type(exc).__name__, status=status)
        return self.leading

    def start(self, stopping: asyncio.Event, on_lost: Callable[[], None]) -> None:
        """Take part in the election until `stopping` is set; `on_lost` once when leadership lapses."""
        self._task = asyncio.create_task(self._loop(stopping, on_lost), name="leader-election")

    async def _loop(self, stopping: asyncio.Event, on_lost: Callable[[], None]) -> None:
        while not stopping.is_set():
            await self.attempt()
            leading = self.leading
            if self._led and not leading:
                log.error("leadership_lost", lease=self.settings.name, identity=self.identity, holder=self.holder)
                on_lost()
            self._led = leading
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), self.settings.retry_period)

    async def stop(self) -> None:
        """Stop taking part; a leader releases the Lease so a follower takes over at once. Then close."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self.leading:
            with contextlib.suppress(Exception):  # the Lease then simply expires
                lease = await self.client.get(Lease, self.settings.name, namespace=self.namespace)
                if lease.spec is not None and lease.spec.holderIdentity == self.identity:
                    lease.spec.holderIdentity = None
                    lease.spec.leaseDurationSeconds = 1
                    lease.spec.renewTime = self._now()
                    await self.client.replace(lease)
                    log.info("leadership_released", lease=self.settings.name, identity=self.identity)
        self._renewed_at = None
        with contextlib.suppress(Exception):
            await self.client.close()
