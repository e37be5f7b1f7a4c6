"""The endpoint families the emulator serves, one module each, each exporting `ROUTES`.

Adding a family (members, service accounts, ...) is one module here, its line in `FAMILIES`, and the fields
it needs in `state.py`.
"""

from __future__ import annotations

from datacontrols.emulator.routes import (
    api_keys,
    audit_logs,
    groups,
    members,
    permissions,
    projects,
    rate_limits,
    retention,
    service_accounts,
    spend,
)
from datacontrols.emulator.routing import ApiRoute

__all__ = ["FAMILIES", "all_routes"]

FAMILIES = (
    retention,
    projects,
    permissions,
    rate_limits,
    spend,
    audit_logs,
    members,
    groups,
    service_accounts,
    api_keys,
)


def all_routes() -> list[ApiRoute]:
    return [route for family in FAMILIES for route in family.ROUTES]
