"""Fixtures for the contract suite: an emulator, a validating transport in front of it, the real client on top."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from contract_support import ADMIN_KEY, BASE_URL, Spec, ValidatingTransport, require_spec

from datacontrols.adminapi import AdminApi
from datacontrols.emulator import Emulator

NOW = 1_780_000_000.0  # the emulator's fixed clock: timestamps are reproducible


async def no_sleep(seconds: float) -> None:
    """Retries (none are expected here) cost no time."""


@pytest.fixture
def spec() -> Spec:
    return require_spec()


@pytest.fixture
def emulator() -> Emulator:
    return Emulator(admin_key=ADMIN_KEY, rng_seed=0, clock=lambda: NOW)


@pytest.fixture
def checked(emulator: Emulator, spec: Spec) -> ValidatingTransport:
    """Every exchange through this transport is validated against the spec."""
    return ValidatingTransport(emulator.http_transport(), spec)


@pytest.fixture
async def api(checked: ValidatingTransport) -> AsyncIterator[AdminApi]:
    client = AdminApi.connect(admin_key=ADMIN_KEY, base_url=BASE_URL, http_transport=checked, sleep=no_sleep)
    yield client
    await client.aclose()
