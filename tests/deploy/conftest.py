"""Fixtures for the deployment tests: the rendered kustomizations, and the wheel built from this repository,
installed, with an emulator served from it (helpers are in deploy_support.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from deploy_support import BASE, EXAMPLE, Emulator, Manifest, build_dist, install_wheel, render, serve_emulator


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


@pytest.fixture(scope="session")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder `uv build` fills with this repository's sdist and wheel: built once per session."""
    return build_dist(tmp_path_factory.mktemp("dist"))


@pytest.fixture(scope="session")
def wheel(dist: Path) -> Path:
    (built,) = dist.glob("openai_datacontrols-*.whl")
    return built


@pytest.fixture(scope="session")
def installed_bin(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bin folder of a virtual environment holding only the wheel (and what it depends on)."""
    return install_wheel(wheel, tmp_path_factory.mktemp("installed") / "venv")


@pytest.fixture(scope="session")
def emulator(installed_bin: Path) -> Iterator[Emulator]:
    """The installed tool's `reconcile emulator`, seeded with the demo organization; read-only tests share it."""
    process, served = serve_emulator(installed_bin / "reconcile", dict(os.environ))
    try:
        yield served
    finally:
        process.terminate()
        process.wait(10)
