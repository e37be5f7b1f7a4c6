"""The request budget: a hard cap per endpoint, as a spacing, counting every request sent (retries and 429s too)."""

from __future__ import annotations

import asyncio
from collections import defaultdict

import pytest
from adminapi_support import ADMIN_KEY, BASE_URL

from datacontrols.adminapi import AdminApi, RequestBudget, RequestRecord
from datacontrols.emulator import Emulator, RateLimitConfig
from testsupport.clock import FakeClock, SharedClock
from testsupport.windows import most_in_any_window

E = "/organization/projects/{project_id}/data_retention"


def test_a_claim_is_granted_once_per_spacing_and_says_how_long_to_wait() -> None:
    clock = FakeClock(start=1000.0)
    budget = RequestBudget(60, clock)
    assert budget.spacing == 1.0
    assert budget.claim(E) == 0.0
    assert budget.claim(E) == pytest.approx(1.0)  # refused: not counted
    assert budget.claim("/organization/users") == 0.0  # another endpoint has its own spacing
    clock.advance(0.4)
    assert budget.claim(E) == pytest.approx(0.6)
    clock.advance(0.6)
    assert budget.claim(E) == 0.0
    assert budget.sent_last_minute() == {E: 2, "/organization/users": 1}
    clock.advance(60.0)
    assert budget.sent_last_minute() == {}


@pytest.mark.parametrize("per_minute", [0, -1, float("nan"), float("inf")])
def test_a_budget_must_be_a_positive_number(per_minute: float) -> None:
    with pytest.raises(ValueError, match="positive"):
        RequestBudget(per_minute, FakeClock())


async def test_a_capped_client_never_sends_more_than_its_share_in_any_window_even_while_rate_limited() -> None:
    # 40 projects' retention, read 8 at a time, against a server that allows a burst and then 429s: every
    # request (429s and retries included) counts against the cap of 60 a minute.
    clock = SharedClock()
    seed = {"projects": [{"name": f"P{i:02d}"} for i in range(40)]}
    emulator = Emulator(
        admin_key=ADMIN_KEY,
        seed=seed,
        rate_limit=RateLimitConfig(per_minute=50, capacity=5),
        clock=clock,
        sleep=clock.sleep,
    )
    sent: dict[str, list[float]] = defaultdict(list)
    throttled = 0

    def record(request: RequestRecord) -> None:
        nonlocal throttled
        sent[request.template].append(clock())
        throttled += request.status == 429

    budget = RequestBudget(60, clock)
    api = AdminApi.connect(
        admin_key=ADMIN_KEY,
        base_url=BASE_URL,
        http_transport=emulator.http_transport(),
        clock=clock,
        sleep=clock.sleep,
        concurrency=8,
        on_request=record,
        budget=budget,
    )
    async with api:
        projects = await api.projects.list()
        await asyncio.gather(*(api.retention.get_project(p.id) for p in projects))
    reads = sent[E]
    assert throttled > 0 and len(reads) >= 40 + throttled  # the server's limit bit, and its 429s were counted
    assert most_in_any_window(reads, 10.0) <= 10
    assert most_in_any_window(reads, 60.0) <= 60
    assert all(b - a >= 1.0 - 1e-9 for a, b in zip(sorted(reads), sorted(reads)[1:], strict=False))
