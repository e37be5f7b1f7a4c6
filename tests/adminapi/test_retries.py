"""Reads are retried on 429, 5xx, 408/409 and connection failures, with backoff and the server's hints."""

from __future__ import annotations

import email.utils
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import respx
from adminapi_support import MakeApi

from datacontrols.adminapi import AdminApi, RetryPolicy
from datacontrols.errors import ApiUnreachable, RateLimited, TransientApiError
from testsupport.clock import FakeClock

PATH = "/organization/data_retention"
OK = httpx.Response(200, json={"object": "organization.data_retention", "type": "zero_data_retention"})


def busy(status: int = 503, **headers: str) -> httpx.Response:
    return httpx.Response(status, json={"error": {"message": "busy", "type": "server_error"}}, headers=headers)


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 504])
async def test_retryable_statuses_are_retried_until_success(
    api: AdminApi, api_mock: respx.MockRouter, status: int
) -> None:
    route = api_mock.get(PATH).mock(side_effect=[busy(status), busy(status), OK])

    observed = await api.retention.get_organization()

    assert observed.type == "zero_data_retention"
    assert route.call_count == 3


@pytest.mark.parametrize(
    "failure",
    [httpx.ConnectError, httpx.ConnectTimeout, httpx.ReadTimeout, httpx.RemoteProtocolError, httpx.ReadError],
)
async def test_connection_failures_on_reads_are_retried(
    api: AdminApi, api_mock: respx.MockRouter, failure: type[Exception]
) -> None:
    route = api_mock.get(PATH).mock(side_effect=[failure("boom"), OK])

    assert (await api.retention.get_organization()).type == "zero_data_retention"
    assert route.call_count == 2


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
async def test_other_client_errors_are_not_retried(api: AdminApi, api_mock: respx.MockRouter, status: int) -> None:
    route = api_mock.get(PATH).mock(return_value=busy(status))

    with pytest.raises(Exception):  # noqa: B017 - the class is test_errors' business
        await api.retention.get_organization()

    assert route.call_count == 1


async def test_backoff_is_exponential_with_jitter_and_capped(
    make_api: MakeApi, api_mock: respx.MockRouter, fake_time: FakeClock
) -> None:
    api = make_api(retry=RetryPolicy(max_retries=6, initial_delay=0.5, max_delay=4.0))
    api_mock.get(PATH).mock(side_effect=[busy()] * 6 + [OK])

    await api.retention.get_organization()

    ceilings = [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert len(fake_time.slept) == len(ceilings)
    for slept, ceiling in zip(fake_time.slept, ceilings, strict=True):
        assert 0.75 * ceiling <= slept <= ceiling
    assert len(set(fake_time.slept)) > 1  # jittered, not a fixed schedule


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after-ms": "1500"}, 1.5),
        ({"retry-after": "3"}, 3.0),
        ({"retry-after-ms": "250", "retry-after": "9"}, 0.25),  # the finer hint wins
        ({"retry-after-ms": "oops", "retry-after": "2"}, 2.0),  # an unusable hint falls through
    ],
)
async def test_the_servers_retry_hint_is_the_delay(
    api: AdminApi, api_mock: respx.MockRouter, fake_time: FakeClock, headers: dict[str, str], expected: float
) -> None:
    api_mock.get(PATH).mock(side_effect=[busy(429, **headers), OK])

    await api.retention.get_organization()

    assert fake_time.slept == [expected]


async def test_retry_after_as_an_http_date_is_honoured(
    api: AdminApi, api_mock: respx.MockRouter, fake_time: FakeClock
) -> None:
    when = email.utils.format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    api_mock.get(PATH).mock(side_effect=[busy(503, **{"retry-after": when}), OK])

    await api.retention.get_organization()

    (slept,) = fake_time.slept
    assert 27 <= slept <= 30  # whole seconds in the date, and a little wall time passes


@pytest.mark.parametrize(
    "value",
    ["soon", "Wed, 99 Foo 2015 07:28:00 GMT", "-5", "600"],
    ids=["not-a-date", "bad-date", "negative", "over-the-ceiling"],
)
async def test_an_unusable_retry_after_falls_back_to_backoff(
    api: AdminApi, api_mock: respx.MockRouter, fake_time: FakeClock, value: str
) -> None:
    api_mock.get(PATH).mock(side_effect=[busy(503, **{"retry-after": value}), OK])

    await api.retention.get_organization()

    (slept,) = fake_time.slept
    assert 0.375 <= slept <= 0.5  # the first backoff step


async def test_x_should_retry_false_stops_a_retryable_status(api: AdminApi, api_mock: respx.MockRouter) -> None:
    route = api_mock.get(PATH).mock(side_effect=[busy(503, **{"x-should-retry": "false"}), OK])

    with pytest.raises(TransientApiError):
        await api.retention.get_organization()

    assert route.call_count == 1


async def test_x_should_retry_true_retries_an_otherwise_final_status(api: AdminApi, api_mock: respx.MockRouter) -> None:
    route = api_mock.get(PATH).mock(side_effect=[busy(400, **{"x-should-retry": "true"}), OK])

    await api.retention.get_organization()

    assert route.call_count == 2


async def test_retries_stop_after_max_retries(make_api: MakeApi, api_mock: respx.MockRouter) -> None:
    api = make_api(retry=RetryPolicy(max_retries=3))
    route = api_mock.get(PATH).mock(return_value=busy(502))

    with pytest.raises(TransientApiError) as raised:
        await api.retention.get_organization()

    assert raised.value.status == 502
    assert route.call_count == 4  # the first try and three retries


async def test_connection_failures_that_persist_end_as_api_unreachable(
    make_api: MakeApi, api_mock: respx.MockRouter
) -> None:
    api = make_api(retry=RetryPolicy(max_retries=2))
    route = api_mock.get(PATH).mock(side_effect=httpx.ConnectError("refused"))

    with pytest.raises(ApiUnreachable):
        await api.retention.get_organization()

    assert route.call_count == 3


async def test_the_total_retry_time_of_a_call_is_bounded_by_the_budget(
    make_api: MakeApi, api_mock: respx.MockRouter, fake_time: FakeClock
) -> None:
    api = make_api(retry=RetryPolicy(max_retries=100, budget_seconds=100.0, max_retry_after=120.0))
    route = api_mock.get(PATH).mock(return_value=busy(503, **{"retry-after": "30"}))
    started = fake_time.now

    with pytest.raises(TransientApiError):
        await api.retention.get_organization()

    assert fake_time.slept == [30.0, 30.0, 30.0]  # a fourth wait would end past 100 s
    assert fake_time.now - started <= 100.0
    assert route.call_count == 4


async def test_a_retry_hint_longer_than_the_budget_is_not_waited_for(
    make_api: MakeApi, api_mock: respx.MockRouter, fake_time: FakeClock
) -> None:
    api = make_api(retry=RetryPolicy(budget_seconds=60.0))
    route = api_mock.get(PATH).mock(side_effect=[busy(429, **{"retry-after": "90"}), OK])

    with pytest.raises(RateLimited):
        await api.retention.get_organization()

    assert route.call_count == 1
    assert fake_time.slept == []


async def test_a_bare_429_is_a_rate_signal_and_the_endpoint_slows_down(
    api: AdminApi, api_mock: respx.MockRouter, fake_time: FakeClock
) -> None:
    # The real API has been seen to answer 429 with no Retry-After at all: that is busy-ness, not a stop.
    route = api_mock.get(PATH).mock(side_effect=[busy(429)] * 5 + [OK])

    assert (await api.retention.get_organization()).type == "zero_data_retention"
    assert route.call_count == 6
    assert fake_time.slept == pytest.approx([1.0, 1.25, 1.5625, 1.953125, 2.44140625])  # paced, slower each time


async def test_a_429_that_says_the_quota_is_spent_fails_at_once(api: AdminApi, api_mock: respx.MockRouter) -> None:
    spent = {"error": {"message": "You exceeded your current quota", "type": "insufficient_quota", "code": None}}
    route = api_mock.get(PATH).mock(return_value=httpx.Response(429, json=spent))

    with pytest.raises(RateLimited):
        await api.retention.get_organization()

    assert route.call_count == 1, "no waiting fixes a spent quota"


async def test_429_with_retry_after_keeps_trying_within_the_budget(api: AdminApi, api_mock: respx.MockRouter) -> None:
    route = api_mock.get(PATH).mock(side_effect=[busy(429, **{"retry-after": "1"})] * 5 + [OK])

    await api.retention.get_organization()

    assert route.call_count == 6


async def test_a_429_hint_pauses_other_requests_to_the_same_endpoint_only(
    make_api: MakeApi, api_mock: respx.MockRouter, fake_time: FakeClock
) -> None:
    api = make_api(retry=RetryPolicy(max_retries=0))
    api_mock.get(PATH).mock(side_effect=[busy(429, **{"retry-after": "10"}), OK])
    api_mock.get("/organization/projects/p1/data_retention").respond(json={"type": "none"})

    with pytest.raises(RateLimited):
        await api.retention.get_organization()
    await api.retention.get_project("p1")  # another endpoint: no pause
    assert fake_time.slept == []

    await api.retention.get_organization()  # the throttled endpoint waits out the hint first
    assert fake_time.slept == [10.0]


async def test_an_unsendable_request_is_not_retried(make_api: MakeApi) -> None:
    api = make_api(base_url="ftp://admin-api.test/v1")

    with pytest.raises(ApiUnreachable, match="UnsupportedProtocol"):
        await api.retention.get_organization()

    assert len(api.transport.requests) == 1


async def test_time_queued_behind_an_endpoint_cooldown_does_not_count_against_the_budget(
    make_api: MakeApi, api_mock: respx.MockRouter, fake_time: FakeClock
) -> None:
    """Under a rate limit a call may wait its turn for long; only its own retries spend its budget."""
    api = make_api(retry=RetryPolicy(budget_seconds=60.0, max_retry_after=120.0))
    route = api_mock.get(PATH).mock(side_effect=[busy(429, **{"retry-after": "30"}), OK])
    # Another call's 429 has paused this endpoint for 100 s: longer than this call's whole budget.
    api.transport.pacer.throttled(PATH, 100.0)

    assert (await api.retention.get_organization()).type == "zero_data_retention"
    # The endpoint's pace, 100 s a request and slowed by the second 429, is all queueing: none of it is budget.
    assert fake_time.slept == [100.0, 120.0] and route.call_count == 2  # 125 s, capped at MAX_INTERVAL


async def test_a_hinted_429_draws_on_its_own_allowance_not_on_the_retries(
    make_api: MakeApi, api_mock: respx.MockRouter, fake_time: FakeClock
) -> None:
    api = make_api(retry=RetryPolicy(max_retries=2, budget_seconds=3600.0))
    pace = busy(429, **{"retry-after": "6"})
    route = api_mock.get(PATH).mock(side_effect=[pace] * 5 + [OK])
    assert (await api.retention.get_organization()).type == "zero_data_retention"
    assert route.call_count == 6, "five 'come back in 6 s' answers are pacing, not five failures"

    api_mock.get(PATH).mock(side_effect=[busy(503)] * 3)
    with pytest.raises(TransientApiError):
        await api.retention.get_organization()
