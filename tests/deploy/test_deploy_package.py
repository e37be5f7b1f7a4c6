"""The package as an index would take it: `uv build` makes a wheel and an sdist that `twine check` passes,
with the desired-state example, the typing marker and the metadata people look for."""

from __future__ import annotations

import zipfile
from pathlib import Path

from deploy_support import uvx

TWINE = "twine==7.0.0"


# `dist`, the built sdist and wheel, is a session fixture (conftest.py): the pipeline tests install the wheel.


def test_twine_check_passes_the_wheel_and_the_sdist(dist: Path) -> None:
    files = sorted([*dist.glob("*.whl"), *dist.glob("*.tar.gz")])  # uv also leaves a .gitignore there
    assert [f.suffix for f in files] == [".whl", ".gz"]
    run = uvx(TWINE, "twine", "check", "--strict", *files)
    assert run.returncode == 0, run.output


def test_the_wheel_holds_the_example_the_typing_marker_and_the_metadata(dist: Path) -> None:
    (wheel,) = dist.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata = archive.read(next(n for n in names if n.endswith("/METADATA"))).decode()
    assert "datacontrols/py.typed" in names
    # The GitLab component's jobs run the shipped script (python -m datacontrols.ci gitlab) on the shared core.
    assert {"datacontrols/ci/gitlab.sh", "datacontrols/ci/reconcile.sh"} <= names
    assert any(n.startswith("datacontrols/_desired_state/projects/") for n in names)
    assert "License-Expression: MIT" in metadata and "Requires-Python: >=3.11" in metadata
    assert "Classifier: Programming Language :: Python :: 3.11" in metadata
    assert "Description-Content-Type: text/markdown" in metadata
    assert "Project-URL" not in metadata  # no published home yet: no URL that is not true


def test_the_command_is_also_named_after_the_package_for_uvx(dist: Path) -> None:
    # `uvx openai-datacontrols@VERSION` runs the executable named like the package.
    (wheel,) = dist.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        entry_points = archive.read(next(n for n in archive.namelist() if n.endswith("/entry_points.txt"))).decode()
    assert "reconcile = datacontrols.cli:main" in entry_points
    assert "openai-datacontrols = datacontrols.cli:main" in entry_points
