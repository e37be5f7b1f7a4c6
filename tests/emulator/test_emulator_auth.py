"""The bearer admin key, the error envelope, unknown URLs, request ids, and keeping secrets out of logs."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import httpx
import pytest
import structlog
from emulator_support import ADMIN_KEY, BASE_URL, REQUEST_ID, Spec, ValidatingTransport, check_envelope

from datacontrols.adminapi import AdminApi
from datacontrols.emulator import Emulator
from datacontrols.errors import AuthError
from testsupport.clock import FakeClock

WRONG_KEY = "sk-admin-not-the-right-one-987654321"


@pytest.fixture
async def anonymous(emulator: Emulator, spec: Spec | None) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=ValidatingTransport(emulator.http_transport(), spec), base_url=BASE_URL
    ) as client:
        yield client


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "missing_api_key"),
        ({"Authorization": ""}, "missing_api_key"),
        ({"Authorization": f"Basic {ADMIN_KEY}"}, "missing_api_key"),
        ({"Authorization": "Bearer "}, "missing_api_key"),
        ({"Authorization": f"Bearer {WRONG_KEY}"}, "invalid_api_key"),
        ({"Authorization": f"Bearer {ADMIN_KEY}x"}, "invalid_api_key"),
    ],
)
async def test_every_api_request_needs_the_admin_key(
    anonymous: httpx.AsyncClient, emulator: Emulator, headers: dict[str, str], code: str
) -> None:
    for method, path in [
        ("GET", "/organization/projects"),
        ("POST", "/organization/data_retention"),
        ("GET", "/organization/nothing-here"),
    ]:
        response = await anonymous.request(method, path, headers=headers, json={} if method == "POST" else None)
        assert response.status_code == 401
        error = check_envelope(response.json())
        assert (error["type"], error["code"], error["param"]) == ("invalid_request_error", code, None)
        assert WRONG_KEY not in response.text and ADMIN_KEY not in response.text
    assert emulator.state.organization.data_retention == "modified_abuse_monitoring"
    assert [entry.status for entry in emulator.requests] == [401, 401, 401]


async def test_the_client_with_a_wrong_key_gets_an_auth_error(emulator: Emulator, clock: FakeClock) -> None:
    api = AdminApi.connect(
        admin_key=WRONG_KEY, base_url=BASE_URL, http_transport=emulator.http_transport(), sleep=clock.sleep
    )
    with pytest.raises(AuthError) as caught:
        await api.projects.list()
    await api.aclose()
    assert caught.value.status == 401 and REQUEST_ID.match(caught.value.request_id or "")
    assert len(emulator.requests) == 1, "a 401 is not retried"


async def test_unknown_urls_and_methods_are_404(raw: httpx.AsyncClient) -> None:
    for method, path in [
        ("GET", "/organization/nothing-here"),
        ("PUT", "/organization/data_retention"),
        ("DELETE", "/organization/projects"),
        ("GET", "/organization/projects/"),
        ("GET", "https://api.openai.com/elsewhere"),
    ]:
        response = await raw.request(method, path)
        assert response.status_code == 404, (method, path)
        error = check_envelope(response.json())
        assert error["code"] == "unknown_url" and method in error["message"]


async def test_request_ids_are_unique_and_reproducible(raw: httpx.AsyncClient, clock: FakeClock) -> None:
    ids = [(await raw.get("/organization/data_retention")).headers["x-request-id"] for _ in range(5)]
    assert len(set(ids)) == 5 and all(REQUEST_ID.match(i) for i in ids)
    replay = Emulator(admin_key=ADMIN_KEY, rng_seed=0, clock=clock)
    async with httpx.AsyncClient(
        transport=replay.http_transport(), base_url=BASE_URL, headers={"Authorization": f"Bearer {ADMIN_KEY}"}
    ) as client:
        again = [(await client.get("/organization/data_retention")).headers["x-request-id"] for _ in range(5)]
    assert again == ids


async def test_state_endpoint_needs_the_key(emulator: Emulator) -> None:
    async with httpx.AsyncClient(transport=emulator.http_transport(), base_url="http://emulator") as client:
        refused = await client.get("/_emulator/state")
        assert refused.status_code == 401 and REQUEST_ID.match(refused.headers["x-request-id"])
        check_envelope(refused.json())
        served = await client.get("/_emulator/state", headers={"Authorization": f"Bearer {ADMIN_KEY}"})
        posted = await client.post("/_emulator/state", headers={"Authorization": f"Bearer {ADMIN_KEY}"})
    assert posted.status_code == 404 and REQUEST_ID.match(posted.headers["x-request-id"])
    check_envelope(posted.json())
    assert served.status_code == 200 and served.json() == emulator.dump_state()
    assert len(emulator.requests) == 0, "the control endpoint is not an API request"


async def test_keys_never_reach_logs_or_the_request_log(
    emulator: Emulator, anonymous: httpx.AsyncClient, api: AdminApi, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with structlog.testing.capture_logs() as events:
        await anonymous.get("/organization/projects", headers={"Authorization": f"Bearer {WRONG_KEY}"})
        project = await api.projects.create("Logged")
        await api.hosted_tools.update(project.id, {"mcp": False})
        await anonymous.post(
            "/organization/projects",
            headers={"Authorization": f"Bearer {ADMIN_KEY}"},
            json={"name": "With secret", "api_key": "sk-proj-created-secret-abcdef"},
        )
    assert events, "the emulator logs each request"
    everything = repr(events) + caplog.text + repr(list(emulator.requests)) + repr(emulator)
    for secret in (ADMIN_KEY, WRONG_KEY, "sk-proj-created-secret-abcdef"):
        assert secret not in everything
    assert emulator.requests[-1].body == {"name": "With secret", "api_key": "[REDACTED]"}
