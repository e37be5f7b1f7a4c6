"""Fixtures for the engine tests that run against one seeded emulator: a module that defines `KEY` (the admin
key) and `SEED` (the emulator's seed) gets `emulator` and `api` without declaring them (a module's own
fixtures of those names take precedence)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from datacontrols.adminapi import AdminApi
from datacontrols.emulator import Emulator


@pytest.fixture
def emulator(request: pytest.FixtureRequest) -> Emulator:
    return Emulator(admin_key=request.module.KEY, seed=request.module.SEED, rng_seed=3)


@pytest.fixture
async def api(request: pytest.FixtureRequest, emulator: Emulator) -> AsyncIterator[AdminApi]:
    client = AdminApi.connect(admin_key=request.module.KEY, http_transport=emulator.http_transport())
    yield client
    await client.aclose()
