"""Ctrl-C or SIGTERM in the middle of an apply: the writes in flight finish, no new one starts, and the run
says what was applied and what was not, with no traceback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from cli_support import ADMIN_KEY, free_port, wait_for_emulator

NAMES = [f"Project {i:02d}" for i in range(12)]
SLOW = ["--latency", "0.3", "--rng-seed", "1"]


@pytest.fixture
def slow_emulator(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A served emulator that takes 0.3 s per request, so an apply of 12 creates takes seconds."""
    port = free_port()
    seed = tmp_path / "seed.yaml"
    seed.write_text("organization: {}\nprojects: []\n")
    server = subprocess.Popen(
        [sys.executable, "-m", "datacontrols", "emulator", "--port", str(port), "--seed", str(seed), *SLOW],
        env={**os.environ, "DATACONTROLS_EMULATOR_ADMIN_KEY": ADMIN_KEY},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base_url = f"http://127.0.0.1:{port}/v1"
    wait_for_emulator(base_url)
    yield base_url
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=15)


def desired_tree(tmp_path: Path) -> Path:
    desired = tmp_path / "desired"
    (desired / "projects").mkdir(parents=True)
    (desired / "organization.yaml").write_text("unmanaged_projects: report\nsafety: {creates: {max_changes: 50}}\n")
    for name in NAMES:
        (desired / "projects" / f"{name.lower().replace(' ', '-')}.yaml").write_text(f"name: {name}\n")
    return desired


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_an_interrupt_mid_apply_finishes_in_flight_writes_and_says_what_is_left(
    slow_emulator: str, tmp_path: Path, sig: signal.Signals
) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "datacontrols", "--auto-approve", "--desired-state", str(desired_tree(tmp_path))],
        env={**os.environ, "NO_COLOR": "1", "OPENAI_ADMIN_KEY": ADMIN_KEY, "DATACONTROLS_BASE_URL": slow_emulator},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    deadline = time.monotonic() + 60
    for line in process.stdout:  # wait for the first applied change, then interrupt
        if line.strip().startswith("applied"):
            process.send_signal(sig)
            break
        assert time.monotonic() < deadline, "no change was applied"
    out, err = process.communicate(timeout=60)
    assert process.returncode == 1, err
    assert "Traceback" not in err
    assert f"{sig.name}: finishing the writes in flight" in err
    last = err.strip().splitlines()[-1]
    assert last.startswith(f"error: {sig.name} during apply: ") and "run a plan again" in last, err
    assert "Apply incomplete" in out
    listed = httpx.get(
        f"{slow_emulator}/organization/projects",
        headers={"Authorization": f"Bearer {ADMIN_KEY}"},
        params={"limit": 100},
    ).json()["data"]
    created = [p["name"] for p in listed]
    applied = int(last.split("during apply: ")[1].split(" change(s) applied")[0])
    assert 1 <= len(created) < len(NAMES), "the apply stopped early"
    assert len(created) == applied, "every write that was sent is accounted for"
    assert len(set(created)) == len(created)
