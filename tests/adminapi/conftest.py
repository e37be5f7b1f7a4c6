"""Fixtures for the Admin API client tests (helpers they use are in adminapi_support.py)."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest
import respx
from adminapi_support import ADMIN_KEY, BASE_URL, Handler, LoopbackServer, MakeApi

from datacontrols.adminapi import AdminApi
from datacontrols.adminapi.transport import Transport
from testsupport.clock import FakeClock


@pytest.fixture
def fake_time() -> FakeClock:
    return FakeClock()


@pytest.fixture
def api_mock() -> Iterator[respx.MockRouter]:
    """Every request to BASE_URL goes to this router; anything unrouted fails the test."""
    with respx.mock(base_url=BASE_URL, assert_all_called=False) as router:
        yield router


@pytest.fixture
async def make_api(fake_time: FakeClock) -> AsyncIterator[MakeApi]:
    """Build AdminApi clients on fake time (any `AdminApi.connect` option may be overridden)."""
    made: list[AdminApi] = []

    def make(**options: Any) -> AdminApi:
        settings: dict[str, Any] = {
            "admin_key": ADMIN_KEY,
            "base_url": BASE_URL,
            "sleep": fake_time.sleep,
            "clock": fake_time,
            **options,
        }
        api = AdminApi.connect(**settings)
        made.append(api)
        return api

    yield make
    for api in made:
        await api.aclose()


@pytest.fixture
def api(make_api: MakeApi, api_mock: respx.MockRouter) -> AdminApi:
    return make_api()


@pytest.fixture
def transport(api: AdminApi) -> Transport:
    return api.transport


@pytest.fixture
async def loopback() -> AsyncIterator[Callable[[Handler], Awaitable[LoopbackServer]]]:
    """Start loopback servers with a handler; all are stopped after the test."""
    servers: list[LoopbackServer] = []

    async def start(handler: Handler) -> LoopbackServer:
        server = LoopbackServer(handler)
        await server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        await server.stop()


@pytest.fixture
def unused_port() -> int:
    """A loopback port nothing listens on (bound, then released), for refused connections."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port
