"""Requests in flight stay under the adaptive limit (halved by a 429, grown back by successes), connections
stay under the pool limit, and a silent server is cut off by the timeout."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import httpx
import pytest
import respx
from adminapi_support import Hang, LoopbackServer, MakeApi, Reply

from datacontrols.adminapi import AdminApi, RetryPolicy
from datacontrols.adminapi.transport import AdaptiveLimiter
from datacontrols.errors import ApiUnreachable, RateLimited

PATH = "/organization/data_retention"


class InFlight:
    """A respx side effect that holds each request for a few loop turns and records the peak in flight."""

    def __init__(self, answer: Callable[[], httpx.Response]) -> None:
        self.answer = answer
        self.now = 0
        self.peak = 0

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.now += 1
        self.peak = max(self.peak, self.now)
        for _ in range(5):
            await asyncio.sleep(0)
        self.now -= 1
        return self.answer()


@pytest.mark.parametrize("limit", [1, 3])
async def test_requests_in_flight_never_exceed_the_limit(
    make_api: MakeApi, api_mock: respx.MockRouter, limit: int
) -> None:
    api = make_api(concurrency=limit, max_concurrency=limit)
    server = InFlight(lambda: httpx.Response(200, json={"type": "zero_data_retention"}))
    api_mock.get(PATH).mock(side_effect=server)

    await asyncio.gather(*(api.retention.get_organization() for _ in range(20)))

    assert server.peak == limit  # reached, and never passed


async def test_a_429_halves_the_limit_down_to_one(make_api: MakeApi, api_mock: respx.MockRouter) -> None:
    api = make_api(concurrency=8, max_concurrency=8, retry=RetryPolicy(max_retries=0))
    api_mock.get(PATH).respond(429, headers={"retry-after": "0"})

    limits = []
    for _ in range(4):
        with pytest.raises(RateLimited):
            await api.retention.get_organization()
        limits.append(api.transport.limiter.limit)

    assert limits == [4.0, 2.0, 1.0, 1.0]


async def test_successes_grow_the_limit_back_one_step_per_limit_successes(
    make_api: MakeApi, api_mock: respx.MockRouter
) -> None:
    api = make_api(concurrency=1, max_concurrency=4)
    api_mock.get(PATH).respond(json={"type": "zero_data_retention"})

    steps = []
    for _ in range(8):
        await api.retention.get_organization()
        steps.append(int(api.transport.limiter.limit + 1e-9))

    # Additive increase of 1/limit a success: about one step per `limit` successes, capped at the maximum.
    assert steps == [2, 2, 2, 3, 3, 3, 4, 4]
    assert api.transport.limiter.limit == 4.0


@pytest.mark.parametrize("answer", [httpx.Response(503), httpx.ConnectError("refused")], ids=["503", "connect-error"])
async def test_failures_do_not_grow_the_limit(
    make_api: MakeApi, api_mock: respx.MockRouter, answer: httpx.Response | Exception
) -> None:
    api = make_api(concurrency=2, max_concurrency=8, retry=RetryPolicy(max_retries=3))
    api_mock.get(PATH).mock(side_effect=[answer] * 4)

    with pytest.raises(Exception):  # noqa: B017 - only the limit matters here
        await api.retention.get_organization()

    assert api.transport.limiter.limit == 2.0


async def test_the_limiter_admits_no_one_past_a_limit_lowered_while_busy() -> None:
    limiter = AdaptiveLimiter(initial=6, maximum=6)
    violations: list[tuple[int, float]] = []

    async def one(n: int) -> None:
        await limiter.acquire()
        if limiter.in_flight > int(limiter.limit):
            violations.append((limiter.in_flight, limiter.limit))
        for _ in range(n % 4 + 1):
            await asyncio.sleep(0)
        await limiter.release(throttled=n % 7 == 0)  # every seventh is a 429

    await asyncio.gather(*(one(n) for n in range(200)))

    assert violations == []
    assert limiter.in_flight == 0
    assert 1.0 <= limiter.limit <= 6.0


# --- real sockets -------------------------------------------------------------------------------------

Start = Callable[..., Awaitable[LoopbackServer]]


async def test_connections_stay_under_the_pool_limit(make_api: MakeApi, loopback: Start) -> None:
    async def handler(method: str, target: str, body: bytes) -> Reply:
        await asyncio.sleep(0.01)
        return Reply(200, {"type": "zero_data_retention"})

    server = await loopback(handler)
    api = make_api(base_url=server.base_url, max_connections=2, concurrency=8, max_concurrency=8)

    results = await asyncio.gather(*(api.retention.get_organization() for _ in range(12)))

    assert len(results) == 12
    assert server.max_open_connections == 2


async def test_a_silent_server_is_cut_off_by_the_read_timeout(make_api: MakeApi, loopback: Start) -> None:
    async def handler(method: str, target: str, body: bytes) -> Hang:
        return Hang()

    server = await loopback(handler)
    api = make_api(base_url=server.base_url, timeout=0.05, retry=RetryPolicy(max_retries=1))
    started = time.monotonic()

    with pytest.raises(ApiUnreachable, match="ReadTimeout"):
        await api.retention.get_organization()

    assert time.monotonic() - started < 2.0
    assert len(server.requests) == 2
    assert [r.status for r in api.transport.requests] == [None, None]


async def test_a_write_that_timed_out_after_the_server_acted_is_not_resent(make_api: MakeApi, loopback: Start) -> None:
    state = {"type": "modified_abuse_monitoring"}

    async def handler(method: str, target: str, body: bytes) -> Reply | Hang:
        if method == "POST":
            state["type"] = "zero_data_retention"
            return Hang()
        return Reply(200, {"object": "organization.data_retention", **state})

    server = await loopback(handler)
    api = make_api(base_url=server.base_url, timeout=0.05)

    updated = await api.retention.update_organization("zero_data_retention")

    assert updated.type == "zero_data_retention"
    assert [r.method for r in server.requests] == ["POST", "GET"]


async def test_a_refused_connection_is_retried_then_reported(make_api: MakeApi, unused_port: int) -> None:
    api: AdminApi = make_api(base_url=f"http://127.0.0.1:{unused_port}/v1", retry=RetryPolicy(max_retries=2))

    with pytest.raises(ApiUnreachable, match="ConnectError"):
        await api.retention.get_organization()

    assert len(api.transport.requests) == 3
