"""Fault injection: each kind, rates, scoping by path and method, before/after the state change, latency,
and the client surviving it all."""

from __future__ import annotations

from collections import Counter

import httpx
import pytest
from emulator_support import ADMIN_KEY, Spec, check_envelope, connect

from datacontrols.emulator import Emulator, FaultConfig
from datacontrols.emulator.faults import FaultInjector
from datacontrols.errors import TransientApiError
from testsupport.clock import FakeClock

LIST = "/organization/projects"


async def test_429_with_retry_after(raw: httpx.AsyncClient, emulator: Emulator) -> None:
    emulator.faults = FaultConfig(rate_limited=1.0, retry_after=3)
    response = await raw.get(LIST)
    assert (response.status_code, response.headers.get("retry-after")) == (429, "3")
    error = check_envelope(response.json())
    assert (error["type"], error["code"]) == ("requests", "rate_limit_exceeded")
    assert "GET /organization/projects" in error["message"]
    entry = emulator.requests[-1]
    assert (entry.status, entry.fault, entry.applied) == (429, "rate_limited", False)


async def test_429_without_retry_after(raw: httpx.AsyncClient, emulator: Emulator) -> None:
    emulator.faults = FaultConfig(rate_limited_no_retry_after=1.0)
    response = await raw.get(LIST)
    assert response.status_code == 429 and "retry-after" not in response.headers
    check_envelope(response.json())


async def test_server_errors_use_the_configured_statuses(raw: httpx.AsyncClient, emulator: Emulator) -> None:
    emulator.faults = FaultConfig(server_error=1.0)
    statuses = Counter([(await raw.get(LIST)).status_code for _ in range(60)])
    assert set(statuses) == {500, 502, 503}
    emulator.faults = FaultConfig(server_error=1.0, server_error_statuses=(502,))
    response = await raw.get(LIST)
    assert response.status_code == 502
    assert check_envelope(response.json())["type"] == "server_error"


async def test_a_dropped_connection_is_a_transport_error(raw: httpx.AsyncClient, emulator: Emulator) -> None:
    emulator.faults = FaultConfig(dropped=1.0)
    with pytest.raises(httpx.TransportError) as caught:
        await raw.get(LIST)
    assert isinstance(caught.value, httpx.RemoteProtocolError)
    entry = emulator.requests[-1]
    assert (entry.status, entry.fault) == (None, "dropped")


def test_rates_are_honoured_and_reproducible() -> None:
    config = FaultConfig(rate_limited=0.1, server_error=0.2, dropped=0.05)
    first = FaultInjector([config], seed=5)
    kinds = Counter(first.decide("GET", LIST, LIST).kind for _ in range(4000))
    assert 0.08 < kinds["rate_limited"] / 4000 < 0.12
    assert 0.17 < kinds["server_error"] / 4000 < 0.23
    assert 0.03 < kinds["dropped"] / 4000 < 0.07
    again = FaultInjector([config], seed=5)
    first = FaultInjector([config], seed=5)
    assert [first.decide("GET", LIST, LIST) for _ in range(200)] == [
        again.decide("GET", LIST, LIST) for _ in range(200)
    ]


def test_latency_rate_and_jitter() -> None:
    injector = FaultInjector([FaultConfig(latency=0.2, latency_jitter=0.1, latency_rate=0.5)], seed=1)
    latencies = [injector.decide("GET", LIST, LIST).latency for _ in range(1000)]
    delayed = [latency for latency in latencies if latency]
    assert 400 < len(delayed) < 600
    assert all(0.2 <= latency <= 0.3 for latency in delayed)


@pytest.mark.parametrize(
    "config",
    [
        FaultConfig(server_error=1.0, paths=("/organization/projects/{project_id}",)),
        FaultConfig(server_error=1.0, paths=("/organization/projects/proj_*",)),
        FaultConfig(server_error=1.0, paths=("/organization/*/{project_id}",)),
        FaultConfig(server_error=1.0, paths=("/organization/projects/*", "/nowhere/**")),
    ],
)
async def test_faults_can_be_limited_to_paths(raw: httpx.AsyncClient, emulator: Emulator, config: FaultConfig) -> None:
    emulator.faults = config
    project_id = next(iter(emulator.state.projects))
    assert (await raw.get(LIST)).status_code == 200
    assert (await raw.get(f"{LIST}/{project_id}/data_retention")).status_code == 200
    assert (await raw.get(f"{LIST}/{project_id}")).status_code >= 500


async def test_faults_can_be_limited_to_methods(raw: httpx.AsyncClient, emulator: Emulator) -> None:
    emulator.faults = FaultConfig(server_error=1.0, methods=("post",))
    assert (await raw.get("/organization/data_retention")).status_code == 200
    response = await raw.post("/organization/data_retention", json={"retention_type": "zero_data_retention"})
    assert response.status_code >= 500


@pytest.mark.parametrize(
    ("timing", "kind", "changed"),
    [
        ("before", "server_error", False),
        ("after", "server_error", True),
        ("before", "dropped", False),
        ("after", "dropped", True),
    ],
)
async def test_write_faults_strike_before_or_after_the_change(
    raw: httpx.AsyncClient, emulator: Emulator, timing: str, kind: str, changed: bool
) -> None:
    emulator.faults = FaultConfig(**{kind: 1.0}, server_error_statuses=(500,), write_timing=timing)  # type: ignore[arg-type]
    try:
        response = await raw.post(LIST, json={"name": "Maybe"})
        assert response.status_code == 500
    except httpx.TransportError:
        assert kind == "dropped"
    names = [p.name for p in emulator.state.projects.values()]
    assert ("Maybe" in names) is changed
    assert emulator.requests[-1].applied is changed
    assert emulator.requests[-1].fault == kind


async def test_a_429_never_comes_after_the_change(raw: httpx.AsyncClient, emulator: Emulator) -> None:
    emulator.faults = FaultConfig(rate_limited=1.0, write_timing="after")
    assert (await raw.post(LIST, json={"name": "Never"})).status_code == 429
    assert "Never" not in [p.name for p in emulator.state.projects.values()]


async def test_either_timing_mixes_both(raw: httpx.AsyncClient, emulator: Emulator) -> None:
    emulator.faults = FaultConfig(server_error=1.0, write_timing="either")
    for i in range(40):
        await raw.post(LIST, json={"name": f"p{i}"})
    applied = Counter(entry.applied for entry in emulator.requests)
    assert applied[True] > 5 and applied[False] > 5


async def test_injected_latency_goes_through_the_injected_sleep(
    raw: httpx.AsyncClient, emulator: Emulator, clock: FakeClock
) -> None:
    emulator.faults = FaultConfig(latency=1.5, latency_jitter=0.5)
    for _ in range(5):
        assert (await raw.get(LIST)).status_code == 200
    assert len(clock.slept) == 5 and all(1.5 <= s <= 2.0 for s in clock.slept)


async def test_the_client_survives_a_write_whose_answer_was_lost(
    emulator: Emulator, clock: FakeClock, spec: Spec
) -> None:
    emulator.faults = FaultConfig(dropped=1.0, methods=("POST",), write_timing="after")
    api = connect(emulator, clock, spec)
    created = await api.projects.create("Lost answer")
    await api.aclose()
    assert [p.name for p in emulator.state.projects.values()].count("Lost answer") == 1
    assert created.id in emulator.state.projects
    assert [e.method for e in emulator.requests] == ["POST", "GET"], "one write, then a re-read confirmed it"


async def test_the_client_gives_up_when_every_write_is_refused(
    emulator: Emulator, clock: FakeClock, spec: Spec
) -> None:
    emulator.faults = FaultConfig(dropped=1.0, methods=("POST",), write_timing="before")
    api = connect(emulator, clock, spec)
    with pytest.raises(TransientApiError):
        await api.projects.create("Never made")
    await api.aclose()
    assert "Never made" not in [p.name for p in emulator.state.projects.values()]


@pytest.mark.parametrize("rng_seed", [0, 1, 2])
async def test_250_projects_survive_30_percent_429_and_503(clock: FakeClock, spec: Spec, rng_seed: int) -> None:
    """The done-when case: every project comes back exactly once, though 30% of requests fail."""
    seed = {"projects": [{"name": f"p{i:03d}"} for i in range(250)]}
    emulator = Emulator(
        admin_key=ADMIN_KEY,
        seed=seed,
        rng_seed=rng_seed,
        clock=clock,
        faults=FaultConfig(rate_limited=0.15, server_error=0.15, server_error_statuses=(503,)),
    )
    api = connect(emulator, clock, spec)
    projects = await api.projects.list()
    await api.aclose()
    assert sorted(p.name for p in projects) == [f"p{i:03d}" for i in range(250)]
    assert len({p.id for p in projects}) == 250
    faults = [entry.fault for entry in emulator.requests if entry.fault]
    assert faults, "the run must actually have met faults"
    assert len(emulator.requests) == 3 + len(faults), "each fault cost exactly one retry"


def test_fault_configs_are_validated() -> None:
    with pytest.raises(ValueError, match="add up"):
        FaultConfig(rate_limited=0.6, server_error=0.6)
    with pytest.raises(ValueError):
        FaultConfig(dropped=1.5)
    with pytest.raises(ValueError):
        FaultConfig(server_error=0.1, server_error_statuses=(404,))
    with pytest.raises(ValueError):
        FaultConfig(retry_after=0)


async def test_faults_can_be_switched_off(raw: httpx.AsyncClient, emulator: Emulator) -> None:
    emulator.faults = [FaultConfig(server_error=1.0)]
    assert (await raw.get(LIST)).status_code >= 500
    emulator.faults = None
    assert (await raw.get(LIST)).status_code == 200
    assert emulator.faults == ()


async def test_a_double_star_glob_crosses_segments(raw: httpx.AsyncClient, emulator: Emulator) -> None:
    emulator.faults = FaultConfig(server_error=1.0, paths=("/organization/projects/**",))
    project_id = next(iter(emulator.state.projects))
    assert (await raw.get(LIST)).status_code == 200
    assert (await raw.get(f"{LIST}/{project_id}/data_retention")).status_code >= 500
    assert (await raw.get("/organization/data_retention")).status_code == 200


async def test_only_faults_that_answered_are_logged_as_faults(raw: httpx.AsyncClient, emulator: Emulator) -> None:
    emulator.faults = FaultConfig(server_error=1.0, methods=("POST",), write_timing="after")
    refused = await raw.post(LIST, json={"name": 7})
    assert refused.status_code == 400, "the handler refused before the fault could strike"
    entry = emulator.requests[-1]
    assert (entry.fault, entry.applied) == (None, False)
