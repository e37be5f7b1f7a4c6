"""The endpoint families the emulator serves, one module each, each exporting `ROUTES`.

Adding a family (members, service accounts, ...) is one module here, its line in `FAMILIES`, and the fields
it needs in `state.py`.
"""

from __future__ import annotations

from datacontrols.emulator.routes import permissions, projects, retention
from datacontrols.emulator.routing import ApiRoute

__all__ = ["FAMILIES", "all_routes"]

FAMILIES = (retention, projects, permissions)


def all_routes() -> list[ApiRoute]:
    return [route for family in FAMILIES for route in family.ROUTES]
