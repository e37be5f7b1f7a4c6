"""Fixtures for the renderer tests, and the golden-file check.

Golden files live in tests/render/golden/. They are compared byte for byte; to regenerate them after an
intended change of output, run `UPDATE_GOLDEN=1 uv run pytest tests/render` and read the diff before
committing it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from render_plans import CheckGolden, representative_changes

from datacontrols.plan import Plan

GOLDEN = Path(__file__).parent / "golden"


@pytest.fixture
def plan() -> Plan:
    return Plan.of(representative_changes())


@pytest.fixture
def empty_plan() -> Plan:
    return Plan.of([])


@pytest.fixture
def reports_plan() -> Plan:
    return Plan.of(c for c in representative_changes() if c.action == "report")


@pytest.fixture
def check_golden() -> CheckGolden:
    """Compare text with golden/<name> exactly; with UPDATE_GOLDEN=1, write it instead."""

    def check(name: str, actual: str) -> None:
        path = GOLDEN / name
        if os.environ.get("UPDATE_GOLDEN") == "1":
            path.write_bytes(actual.encode("utf-8"))
            return
        if not path.exists():
            pytest.fail(f"golden file {name} is missing; run with UPDATE_GOLDEN=1 to create it")
        assert actual == path.read_bytes().decode("utf-8"), f"output differs from golden/{name}"

    return check
