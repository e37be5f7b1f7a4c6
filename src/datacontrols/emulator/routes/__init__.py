"""The endpoint families the emulator serves, one module each, each exporting `ROUTES`.

Adding a family (members, service accounts, ...) is one module here, its line in `FAMILIES`, and the fields
it needs in `state.py`.

A family the pinned spec does not document yet (openai-python's newer types are its authority) is also named in
`SDK_ONLY_FAMILIES`: the contract suite checks `spec_routes()` against the spec, and checks that these
routes are still missing from it (so they join the spec checks once the spec documents them).
"""

from __future__ import annotations

from datacontrols.emulator.routes import (
    api_key_updates,
    api_keys,
    audit_logs,
    certificates,
    external_keys,
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
    service_tiers,
    spend,
    workload_identity,
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
    api_key_updates,
    certificates,
    external_storage,
    service_tiers,
    workload_identity,
    external_keys,
)
# Not in the pinned spec: SDK-NEWER.md sections 1 (external keys), 2 (external storage), 3 (service tiers),
# 4 (a project key's update) and 8 (workload identity).
SDK_ONLY_FAMILIES = (api_key_updates, external_keys, external_storage, service_tiers, workload_identity)


def all_routes() -> list[ApiRoute]:
    return [route for family in FAMILIES for route in family.ROUTES]


def spec_routes() -> list[ApiRoute]:
    """The routes of the families the pinned spec documents."""
    return [route for family in FAMILIES if family not in SDK_ONLY_FAMILIES for route in family.ROUTES]


def sdk_only_routes() -> list[ApiRoute]:
    return [route for family in SDK_ONLY_FAMILIES for route in family.ROUTES]
