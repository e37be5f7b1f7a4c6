"""Fixtures for the emulator tests: fake time, an emulator, the real client and a raw client wired to it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from emulator_support import ADMIN_KEY, BASE_URL, FakeClock, Spec, ValidatingTransport, connect, spec_path

from datacontrols.adminapi import AdminApi
from datacontrols.emulator import Emulator


@pytest.fixture(scope="session")
def spec() -> Spec:
    path = spec_path()
    if not path.exists():
        pytest.skip(f"the Admin API spec is not at {path}; set OPENAI_ADMIN_SPEC")
    return Spec(path)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def emulator(clock: FakeClock) -> Emulator:
    return Emulator(admin_key=ADMIN_KEY, rng_seed=0, clock=clock, sleep=clock.sleep)


@pytest.fixture
async def api(emulator: Emulator, clock: FakeClock, spec: Spec) -> AsyncIterator[AdminApi]:
    client = connect(emulator, clock, spec)
    yield client
    await client.aclose()


@pytest.fixture
async def raw(emulator: Emulator, spec: Spec) -> AsyncIterator[httpx.AsyncClient]:
    """A bare httpx client with the admin key, for requests the typed client would never send."""
    async with httpx.AsyncClient(
        transport=ValidatingTransport(emulator.http_transport(), spec),
        base_url=BASE_URL,
        headers={"Authorization": f"Bearer {ADMIN_KEY}"},
    ) as client:
        yield client
