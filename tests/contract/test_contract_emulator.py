"""The emulator's routes against the spec, for every family it serves (today's and any added later).

Two generic checks that need no knowledge of a family: each route is an operation the spec documents, and
a read of each GET route (on a seeded project; other ids unknown, so a 404 envelope is a valid answer)
validates. The families the pinned spec does not document yet (`SDK_ONLY_FAMILIES`: external storage and
encryption keys, whose authority is openai-python's types) are left out of both, and checked to be still
missing from the spec; tests/emulator/test_external_storage_emulator.py and test_external_keys_emulator.py
check their shapes against the SDK's. The families' own
behaviour is covered through the client in test_contract_client.py.
"""

from __future__ import annotations

import re

import httpx
import pytest
from contract_support import ADMIN_KEY, BASE_URL, ValidatingTransport, require_spec

from datacontrols.emulator import Emulator
from datacontrols.emulator.routes import sdk_only_routes, spec_routes
from datacontrols.emulator.routing import ApiRoute

SPEC = require_spec()
PROJECT = "proj_contractemulator000001"
ROUTES = spec_routes()


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.template}")
def test_every_route_is_a_documented_operation(route: ApiRoute) -> None:
    method, template = route.method, route.template
    operation = SPEC.operation(method, f"{SPEC.server_prefix}{template}")
    assert operation is not None, f"the emulator serves {method} {template}, which the spec does not document"
    assert operation.template == template


@pytest.mark.parametrize("route", sdk_only_routes(), ids=lambda r: f"{r.method} {r.template}")
def test_the_sdk_only_routes_are_still_missing_from_the_spec(route: ApiRoute) -> None:
    """Once the pinned spec documents one, its family leaves SDK_ONLY_FAMILIES and is checked like the rest."""
    assert SPEC.operation(route.method, f"{SPEC.server_prefix}{route.template}") is None


async def test_a_read_of_every_get_route_conforms() -> None:
    emulator = Emulator(
        admin_key=ADMIN_KEY, seed={"projects": [{"id": PROJECT, "name": "Reads"}]}, rng_seed=0, clock=lambda: 1e9
    )
    checked = ValidatingTransport(emulator.http_transport(), SPEC, raise_on_violation=False)
    reads = sorted({r.template for r in ROUTES if r.method == "GET"})
    async with httpx.AsyncClient(
        transport=checked, base_url=BASE_URL, headers={"Authorization": f"Bearer {ADMIN_KEY}"}
    ) as client:
        for template in reads:
            path = re.sub(r"\{([a-z_]+)\}", lambda m: PROJECT if m[1] == "project_id" else f"unknown_{m[1]}", template)
            await client.get(path)
    print("\n" + checked.coverage_report())
    assert checked.violations == [], "\n".join(str(v) for v in checked.violations)
    assert len(checked.exchanges) == len(reads)
