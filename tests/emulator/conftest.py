"""Fixtures for the emulator tests: fake time, an emulator, the real client and a raw client wired to it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from emulator_support import ADMIN_KEY, BASE_URL, Spec, ValidatingTransport, connect

from datacontrols.adminapi import AdminApi
from datacontrols.emulator import Emulator
from testsupport.clock import FakeClock
from testsupport.spec import find_spec


@pytest.fixture(scope="session")
def spec() -> Spec | None:
    """The official spec, when it can be found. Without it the emulator's behaviour is still tested; only the
    response-shape check is left out (tests/contract/ skips, saying why)."""
    path = find_spec()
    return Spec(path) if path is not None else None


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def emulator(clock: FakeClock) -> Emulator:
    return Emulator(admin_key=ADMIN_KEY, rng_seed=0, clock=clock, sleep=clock.sleep)


@pytest.fixture
async def api(emulator: Emulator, clock: FakeClock, spec: Spec | None) -> AsyncIterator[AdminApi]:
    client = connect(emulator, clock, spec)
    yield client
    await client.aclose()


@pytest.fixture
async def raw(emulator: Emulator, spec: Spec | None) -> AsyncIterator[httpx.AsyncClient]:
    """A bare httpx client with the admin key, for requests the typed client would never send."""
    inner = emulator.http_transport()
    async with httpx.AsyncClient(
        transport=ValidatingTransport(inner, spec) if spec is not None else inner,
        base_url=BASE_URL,
        headers={"Authorization": f"Bearer {ADMIN_KEY}"},
    ) as client:
        yield client
