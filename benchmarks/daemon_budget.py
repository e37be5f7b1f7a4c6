"""Benchmark 8: the budgeted daemon (`reconcile serve`, report mode) under the Admin API's limit, in virtual time.

The emulator allows 10 requests a minute per endpoint (a bucket of 10); the daemon keeps to its default cap
of 5 (`--max-requests-per-minute`), with `--interval 1h` and the audit log polled every 20 s. One clock
drives client, server and daemon, so hours of schedule take seconds. The daemon looks at its queue once a
virtual second, as `serve` does.

Measured, after the first sweep:
- detection of a retention drift (no audit event: only a read reveals it) and of a member made an owner by a
  person (the audit log records `user.updated`): a change at a random moment, then the virtual seconds until
  the daemon's open drift holds it. Bounds: the quick lane's period (30 min) and 60 s.
- requests per hour (every request the daemon sends, 429s and retries included), and the share of the API's
  limit it takes: the busiest endpoint's requests in its busiest minute, over 10.
The first sweep's duration is beside what the budget allows for it.
"""

from __future__ import annotations

import random
import statistics
from collections import defaultdict
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from benchmarks.dryrun import REGISTRY, emulator_for
from benchmarks.organization import ADMIN_KEY, Organization, generate, project_id
from benchmarks.table import Table
from benchmarks.virtualtime import VirtualClock
from datacontrols.adminapi.transport import RequestRecord
from datacontrols.daemon.queue import QUICK_SHARE
from datacontrols.daemon.service import Daemon
from datacontrols.daemon.settings import DaemonSettings
from datacontrols.emulator import RateLimitConfig

__all__ = ["SIZES", "measure", "run"]

SIZES = (10, 100, 1000)
QUICK_SIZES = (10,)

API_PER_MINUTE = 10.0
CAP = 5.0
INTERVAL = 3600.0
SAMPLES = 5  # drifts of each sort, one after the other
BASE_URL = "https://admin-api.test/v1"


class _Counted(Daemon):
    """The daemon, with the time of every request it sends, by endpoint."""

    sent: dict[str, list[float]]
    now: Callable[[], float]

    def _on_request(self, record: RequestRecord) -> None:
        self.sent[record.template].append(self.now())
        super()._on_request(record)


def daemon_for(org: Organization, clock: VirtualClock, emulator: Any) -> _Counted:
    settings = DaemonSettings(
        desired_state=Path("."),  # not read: the generated desired state is handed over below
        mode="report",
        interval=INTERVAL,
        jitter=0,
        max_requests_per_minute=CAP,
        listen="127.0.0.1:0",
    )
    _Counted.sent = defaultdict(list)
    _Counted.now = clock.now
    daemon = _Counted(
        settings,
        admin_key=SecretStr(ADMIN_KEY),
        base_url=BASE_URL,
        registry=REGISTRY,
        api_options={"http_transport": emulator.http_transport(), "clock": clock.now, "sleep": clock.sleep},
        clock=clock.now,
        monotonic=clock.now,
    )
    check = daemon.desired_check
    check.valid = True
    check.load = lambda: org.desired  # type: ignore[method-assign]
    return daemon


async def _ticks(daemon: Daemon, clock: VirtualClock, done: Callable[[], bool], limit: float) -> float:
    started = clock.now()
    while not done() and clock.now() - started < limit:
        await daemon.run_due()
        if not done():
            await clock.sleep(1.0)
    return clock.now() - started


def _busiest_minute(times: list[float]) -> int:
    ordered, most, start = sorted(times), 0, 0
    for end, moment in enumerate(ordered):
        while ordered[start] <= moment - 60.0:
            start += 1
        most = max(most, end - start + 1)
    return most


async def _scenario(org: Organization, clock: VirtualClock) -> dict[str, Any]:
    emulator = emulator_for(org, rate_limit=RateLimitConfig(per_minute=API_PER_MINUTE), clock=clock)
    daemon = daemon_for(org, clock, emulator)
    person = httpx.AsyncClient(
        transport=emulator.http_transport(),
        base_url=BASE_URL,
        headers={"Authorization": f"Bearer {ADMIN_KEY}", "x-emulator-actor": "someone@example.com"},
    )
    rng = random.Random(8)
    try:
        first_sweep = await _ticks(daemon, clock, lambda: daemon.queue.swept_once, 48 * 3600)
        steady_from = clock.now()
        retention: list[float] = []
        audited: list[float] = []
        for sample in range(SAMPLES):
            index = rng.randrange(org.projects)
            await clock.sleep(rng.uniform(0, INTERVAL * QUICK_SHARE))  # a random moment of the schedule
            pid, name = project_id(index), f"{org.seed['projects'][index]['name']}"
            current = (await person.get(f"/organization/projects/{pid}/data_retention")).json()["type"]
            weaker = "modified_abuse_monitoring" if current != "modified_abuse_monitoring" else "zero_data_retention"
            await person.post(f"/organization/projects/{pid}/data_retention", json={"retention_type": weaker})
            retention.append(await _detect(daemon, clock, "project_data_retention", name, None))
            members = (await person.get(f"/organization/projects/{pid}/users")).json()["data"]
            member = next(m for m in members if m["role"] == "member")
            await person.post(f"/organization/projects/{pid}/users/{member['id']}", json={"role": "owner"})
            audited.append(await _detect(daemon, clock, "project_user", name, member["email"]))
            del sample
        steady_hours = (clock.now() - steady_from) / 3600
        sent = daemon.sent
        steady = {e: [t for t in times if t >= steady_from] for e, times in sent.items()}
        busiest = max((_busiest_minute(times) for times in sent.values()), default=0)
        return {
            "first_sweep_seconds": first_sweep,
            "first_sweep_requests": sum(len([t for t in ts if t < steady_from]) for ts in sent.values()),
            "retention_detect_seconds": retention,
            "audited_detect_seconds": audited,
            "requests_per_hour": sum(len(ts) for ts in steady.values()) / steady_hours if steady_hours else 0.0,
            "busiest_endpoint_minute": busiest,
            "budget_share": busiest / API_PER_MINUTE,
            "cap_kept": busiest <= CAP,
            "throttled_429": sum(1 for r in emulator.requests if r.status == 429),
        }
    finally:
        await person.aclose()
        await daemon.aclose()


async def _detect(daemon: Daemon, clock: VirtualClock, kind: str, project: str, subject: str | None) -> float:
    def found() -> bool:
        return any(
            item.project == project
            and item.change.get("kind") == kind
            and (subject is None or item.change.get("subject") == subject)
            for item in daemon.ledger.open.values()
        )

    return await _ticks(daemon, clock, found, 2 * INTERVAL)


async def measure(projects: int) -> dict[str, Any]:
    org = generate(projects)
    clock = VirtualClock()
    work: Awaitable[dict[str, Any]] = _scenario(org, clock)
    result = await clock.run(work)
    retention, audited = result["retention_detect_seconds"], result["audited_detect_seconds"]
    return {
        "projects": projects,
        **result,
        "retention_worst": max(retention),
        "retention_median": statistics.median(retention),
        "retention_bound": INTERVAL * QUICK_SHARE,
        "audited_worst": max(audited),
        "audited_median": statistics.median(audited),
        "audited_bound": 60.0,
    }


async def run(quick: bool) -> tuple[dict[str, Any], Table]:
    results = [await measure(n) for n in (QUICK_SIZES if quick else SIZES)]
    table = Table(
        f"8. The daemon under {API_PER_MINUTE:.0f} requests/minute per endpoint, capped at {CAP:.0f}, --interval 1h "
        "(virtual time)",
        [
            "projects",
            "first sweep min",
            "retention worst/median s (bound 1800)",
            "audited worst/median s (bound 60)",
            "requests/hour",
            "busiest minute (cap 5)",
            "budget share",
        ],
    )
    for r in results:
        table.add(
            r["projects"],
            round(r["first_sweep_seconds"] / 60, 1),
            f"{r['retention_worst']:.0f} / {r['retention_median']:.0f}",
            f"{r['audited_worst']:.0f} / {r['audited_median']:.0f}",
            round(r["requests_per_hour"]),
            r["busiest_endpoint_minute"],
            f"{r['budget_share']:.0%}",
        )
    table.notes.append("detection: from a person's change to the daemon's open drift; 5 of each, at random moments")
    table.notes.append("busiest minute: the most requests one endpoint got from the daemon in any 60 s")
    return {"sizes": results}, table
