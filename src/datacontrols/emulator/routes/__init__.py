"""The endpoint families the emulator serves, one module each, each exporting `ROUTES`.

Adding a family (members, service accounts, ...) is one module here, its line in `FAMILIES`, and the fields
it needs in `state.py`.

A family the pinned spec does not document yet (openai-python's newer types are its authority) is also named in
`SDK_ONLY_FAMILIES`: the contract suite checks `spec_routes()` against the spec, and checks that these
routes are still missing from it (so they join the spec checks once the spec documents them).
"""

from __future__ import annotations

from datacontrols.emulator.routes import (
    api_keys,
    audit_logs,
    certificates,
    external_storage,
    group_members,
    groups,
    members,
    permissions,
    projects,
    rate_limits,
    retention,
    roles,
    service_accounts,
    spend,
)
from datacontrols.emulator.routing import ApiRoute

__all__ = ["FAMILIES", "SDK_ONLY_FAMILIES", "all_routes", "sdk_only_routes", "spec_routes"]

FAMILIES = (
    retention,
    projects,
    permissions,
    rate_limits,
    spend,
    audit_logs,
    members,
    groups,
    group_members,
    roles,
    service_accounts,
    api_keys,
    certificates,
    external_storage,
)
SDK_ONLY_FAMILIES = (external_storage,)  # SDK-NEWER.md section 2: not in the pinned spec


def all_routes() -> list[ApiRoute]:
    return [route for family in FAMILIES for route in family.ROUTES]


def spec_routes() -> list[ApiRoute]:
    """The routes of the families the pinned spec documents."""
    return [route for family in FAMILIES if family not in SDK_ONLY_FAMILIES for route in family.ROUTES]


def sdk_only_routes() -> list[ApiRoute]:
    return [route for family in SDK_ONLY_FAMILIES for route in family.ROUTES]
