"""Fixtures for the deployment tests: the rendered kustomizations (helpers are in deploy_support.py)."""

from __future__ import annotations

import pytest
from deploy_support import BASE, EXAMPLE, Manifest, render


@pytest.fixture(scope="session")
def base_manifests() -> list[Manifest]:
    return render(BASE)


@pytest.fixture(scope="session")
def example_manifests() -> list[Manifest]:
    return render(EXAMPLE)


@pytest.fixture(params=["base", "example"])
def manifests(request: pytest.FixtureRequest) -> list[Manifest]:
    """Each rendering in turn: the base must be safe on its own, and the overlay must keep it safe."""
    rendered: list[Manifest] = request.getfixturevalue(f"{request.param}_manifests")
    return rendered
