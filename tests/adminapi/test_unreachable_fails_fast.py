"""An API that does not answer fails within ~15 s; 429s and 5xx keep the whole retry budget."""

from __future__ import annotations

import httpx
import pytest

from datacontrols.adminapi import AdminApi, RetryPolicy
from datacontrols.errors import ApiError, ApiUnreachable
from testsupport.clock import FakeClock

KEY = "sk-admin-unreachable-" + "u" * 30


def connect(handler: httpx.MockTransport, time: FakeClock) -> AdminApi:
    return AdminApi.connect(
        admin_key=KEY,
        base_url="https://api.openai.com/v1",
        retry=RetryPolicy(budget_seconds=300),
        http_transport=handler,
        sleep=time.sleep,
        clock=time,
    )


async def test_a_refused_connection_gives_up_within_fifteen_seconds() -> None:
    time, attempts = FakeClock(start=0.0), []

    def refuse(request: httpx.Request) -> httpx.Response:
        attempts.append(time.now)
        raise httpx.ConnectError("connection refused", request=request)

    async with connect(httpx.MockTransport(refuse), time) as api:
        with pytest.raises(ApiUnreachable) as caught:
            await api.projects.list()
    assert time.now <= 15.0, "no minutes of silence before the error"
    assert len(attempts) >= 3, "a blip is still retried"
    assert KEY not in str(caught.value)


async def test_server_errors_keep_the_whole_budget() -> None:
    time = FakeClock(start=0.0)

    def busy(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, json={"error": {"message": "busy"}})

    async with connect(httpx.MockTransport(busy), time) as api:
        with pytest.raises(ApiError):
            await api.projects.list()
    assert time.now > 15.0, "a server that answers is given the retry budget, not the unreachable limit"


async def test_an_answer_in_between_resets_the_unreachable_clock() -> None:
    time, calls = FakeClock(start=0.0), []

    def flaky(request: httpx.Request) -> httpx.Response:
        calls.append(time.now)
        if len(calls) % 2:
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(503, json={"error": {"message": "busy"}})

    async with connect(httpx.MockTransport(flaky), time) as api:
        with pytest.raises(ApiError):
            await api.projects.list()
    assert len(calls) == 7, "max_retries bounds it, not the unreachable limit"
