"""The guard against a drop in project files (`--expect-project-files`): refused at startup, and on each run."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from daemon_support import ADMIN_KEY, DESIRED_STATE, approved_demo_seed, daemon_for
from typer.testing import CliRunner

from datacontrols.cli import app
from datacontrols.daemon.project_files import check_project_files, count_project_files, project_files_shortfall
from datacontrols.emulator import Emulator
from datacontrols.errors import ConfigError

PROJECT_FILES = 4  # desired_state/projects/ in the repository


@pytest.fixture
def desired_dir(tmp_path: Path) -> Path:
    target = tmp_path / "desired"
    shutil.copytree(DESIRED_STATE, target)
    return target


def _invoke(*args: str, env: dict[str, str] | None = None) -> Any:
    return CliRunner().invoke(app, ["serve", *args], env={"OPENAI_ADMIN_KEY": ADMIN_KEY, **(env or {})})


def test_the_count_is_the_loaders_project_files(desired_dir: Path) -> None:
    projects = desired_dir / "projects"
    assert count_project_files(desired_dir) == PROJECT_FILES
    (projects / "README.md").write_text("notes\n")
    (projects / ".hidden.yaml").write_text("name: x\n")
    (projects / "extra.yml").write_text("name: Extra\n")
    assert count_project_files(desired_dir) == PROJECT_FILES + 1
    assert count_project_files(desired_dir / "nowhere") == 0


def test_a_configmap_volume_layout_counts_its_links_not_its_data_directories(tmp_path: Path) -> None:
    # The kubelet mounts a ConfigMap as links into a hidden, timestamped directory through `..data`.
    desired = tmp_path / "desired"
    data = desired / "projects" / "..2026_12_07_11_00_00.000000001"
    data.mkdir(parents=True)
    for name in ("a.yaml", "b.yaml"):
        (data / name).write_text("name: x\n")
    os.symlink(data.name, desired / "projects" / "..data")
    for name in ("a.yaml", "b.yaml"):
        os.symlink(f"..data/{name}", desired / "projects" / name)
    assert count_project_files(desired) == 2


def test_enough_files_or_no_expectation_passes(desired_dir: Path) -> None:
    check_project_files(desired_dir, None)
    check_project_files(desired_dir, PROJECT_FILES)
    check_project_files(desired_dir, PROJECT_FILES - 1)  # more than expected is fine: a new project needs one edit
    (desired_dir / "projects" / "analytics.yaml").unlink()
    with pytest.raises(ConfigError, match=r"refusing to start: 3 project files in .*, fewer than the 4 expected"):
        check_project_files(desired_dir, PROJECT_FILES)


def test_serve_refuses_to_start_with_one_line_and_exit_1(desired_dir: Path) -> None:
    (desired_dir / "projects" / "legacy-chatbot.yaml").unlink()
    result = _invoke("--desired-state", str(desired_dir), "--expect-project-files", "4", "--listen", "127.0.0.1:0")
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith("error: refusing to start: 3 project files")
    assert "--expect-project-files" in lines[0] and "Traceback" not in result.output
    assert ADMIN_KEY not in result.output


def test_the_expectation_comes_from_the_environment_too(desired_dir: Path) -> None:
    result = _invoke(
        "--desired-state", str(desired_dir), "--listen", "127.0.0.1:0", env={"DATACONTROLS_EXPECT_PROJECT_FILES": "9"}
    )
    assert result.exit_code == 1
    assert "fewer than the 9 expected" in result.output


def test_a_negative_expectation_is_a_bad_flag() -> None:
    result = _invoke("--desired-state", str(DESIRED_STATE), "--expect-project-files", "-1")
    assert result.exit_code == 1
    assert "error: --expect-project-files:" in result.output


async def test_a_file_lost_while_running_holds_every_change_back(desired_dir: Path) -> None:
    emulator = Emulator(admin_key=ADMIN_KEY, seed=approved_demo_seed(), rng_seed=7)
    # With archive, the lost file's project would be archived (one archive is below the safety thresholds).
    organization = desired_dir / "organization.yaml"
    organization.write_text(
        organization.read_text().replace("unmanaged_projects: report", "unmanaged_projects: archive")
    )
    daemon = daemon_for(emulator, mode="enforce", desired_state=desired_dir, expect_project_files=PROJECT_FILES)
    try:
        (desired_dir / "projects" / "analytics.yaml").unlink()
        run = await daemon.run_once()
        assert run is not None and run.outcome == "invalid_desired_state"
        assert emulator.requests.writes() == []  # the project is not archived
        assert not daemon.readiness()[0]
        [problem] = daemon.status()["desired_state"]["problems"]
        assert "3 project files" in problem and "fewer than the 4 expected" in problem
        assert project_files_shortfall(desired_dir, PROJECT_FILES) == problem
        unguarded = daemon_for(emulator, mode="enforce", desired_state=desired_dir)
        try:  # the same run without the floor: what the guard prevented
            run = await unguarded.run_once()
            assert run is not None and run.outcome == "success"
            assert any(change.action == "archive" for change in run.result.applied)
        finally:
            await unguarded.aclose()
    finally:
        await daemon.aclose()
