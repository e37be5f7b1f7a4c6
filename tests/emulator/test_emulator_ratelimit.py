"""The per-endpoint token bucket, on a fake clock, alone and against the real client."""

from __future__ import annotations

import httpx
import pytest
from emulator_support import ADMIN_KEY, Spec, check_envelope, connect

from datacontrols.emulator import Emulator, RateLimitConfig
from datacontrols.emulator.ratelimit import RateLimiter
from datacontrols.errors import RateLimited
from testsupport.clock import FakeClock

LIST = "/organization/projects"


async def test_the_bucket_refuses_then_refills(raw: httpx.AsyncClient, emulator: Emulator, clock: FakeClock) -> None:
    emulator.rate_limit = RateLimitConfig(per_minute=6, capacity=2)
    assert [(await raw.get(LIST)).status_code for _ in range(2)] == [200, 200]
    refused = await raw.get(LIST)
    assert (refused.status_code, refused.headers["retry-after"]) == (429, "10")
    error = check_envelope(refused.json())
    assert (error["type"], error["code"]) == ("requests", "rate_limit_exceeded")
    assert "GET /organization/projects" in error["message"]

    clock.advance(4)
    assert (await raw.get(LIST)).headers["retry-after"] == "6", "the wait shrinks as time passes"
    clock.advance(6)
    assert (await raw.get(LIST)).status_code == 200
    assert (await raw.get(LIST)).status_code == 429


async def test_each_endpoint_has_its_own_bucket(raw: httpx.AsyncClient, emulator: Emulator) -> None:
    emulator.rate_limit = RateLimitConfig(per_minute=1)
    project_id = next(iter(emulator.state.projects))
    assert (await raw.get(LIST)).status_code == 200
    assert (await raw.get(LIST)).status_code == 429
    assert (await raw.get(f"{LIST}/{project_id}")).status_code == 200, "another template"
    assert (await raw.post(LIST, json={"name": "x"})).status_code == 200, "another method"
    other_id = next(p for p in emulator.state.projects if p != project_id)
    assert (await raw.get(f"{LIST}/{other_id}")).status_code == 429, "same template, other id: same bucket"


async def test_retry_after_can_be_omitted(raw: httpx.AsyncClient, emulator: Emulator) -> None:
    emulator.rate_limit = RateLimitConfig(per_minute=1, send_retry_after=False)
    await raw.get(LIST)
    refused = await raw.get(LIST)
    assert refused.status_code == 429 and "retry-after" not in refused.headers


async def test_overrides_per_endpoint(raw: httpx.AsyncClient, emulator: Emulator) -> None:
    emulator.rate_limit = RateLimitConfig(per_minute=1, overrides={"GET /organization/projects": 3})
    assert [(await raw.get(LIST)).status_code for _ in range(4)] == [200, 200, 200, 429]
    assert [(await raw.get("/organization/data_retention")).status_code for _ in range(2)] == [200, 429]


def test_a_clock_that_steps_back_does_not_drain_the_bucket() -> None:
    clock = FakeClock()
    limiter = RateLimiter(RateLimitConfig(per_minute=60, capacity=1), clock)
    assert limiter.take("GET /x") is None
    clock.advance(-30)
    assert limiter.take("GET /x") == pytest.approx(1.0)


async def test_the_client_paces_itself_through_a_real_rate_limit(clock: FakeClock, spec: Spec | None) -> None:
    """At 8 requests a minute, 30 reads take about three minutes of (fake) time, and all succeed."""
    seed = {"projects": [{"name": f"p{i}"} for i in range(30)]}
    emulator = Emulator(
        admin_key=ADMIN_KEY, seed=seed, clock=clock, rate_limit=RateLimitConfig(per_minute=8, capacity=8)
    )
    api = connect(emulator, clock, spec, concurrency=1)
    started = clock.now
    for project_id in list(emulator.state.projects):
        assert (await api.retention.get_project(project_id)).type == "organization_default"
    await api.aclose()
    elapsed = clock.now - started
    assert 150 <= elapsed <= 240, elapsed
    refused = [e for e in emulator.requests if e.status == 429]
    assert refused and all(e.template == "/organization/projects/{project_id}/data_retention" for e in refused)


async def test_without_retry_after_the_client_eventually_gives_up(clock: FakeClock) -> None:
    emulator = Emulator(
        admin_key=ADMIN_KEY, clock=clock, rate_limit=RateLimitConfig(per_minute=0.01, send_retry_after=False)
    )
    api = connect(emulator, clock)
    await api.retention.get_organization()
    with pytest.raises(RateLimited):
        await api.retention.get_organization()
    await api.aclose()


def test_rate_limit_configs_are_validated() -> None:
    with pytest.raises(ValueError):
        RateLimitConfig(per_minute=0)
    with pytest.raises(ValueError):
        RateLimitConfig(capacity=0.5)
