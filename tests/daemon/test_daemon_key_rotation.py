"""The admin key file is read again before every run: a fixed or rotated key is used from the next run, without a
restart. A key the API refuses makes the daemon not ready at once ("admin key rejected (HTTP 401)"), and the
first run with a working key makes it ready again. No key, old or new, reaches a log line or /status."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest
from daemon_support import ADMIN_KEY, DEMO_SEED, capture_logs, daemon_for

from datacontrols.credentials import load_admin_key
from datacontrols.emulator import Emulator
from testsupport.clock import SharedClock

WRONG_KEY = "sk-admin-revoked-long-ago-0000000000001"
INTERVAL = 60.0
REJECTED = "admin key rejected (HTTP 401)"


@pytest.fixture
def emulator() -> Emulator:
    return Emulator(admin_key=ADMIN_KEY, seed=DEMO_SEED, rng_seed=7)


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "admin-key"
    path.write_text(WRONG_KEY + "\n")
    return path


def rotate(path: Path, key: str) -> None:
    """As the kubelet does: the new file is swapped in whole (a new inode), never written in place."""
    staged = path.with_name(".staged")
    staged.write_text(key + "\n")
    staged.replace(path)


async def test_a_wrong_key_file_fixed_makes_the_daemon_ready_within_one_interval(
    emulator: Emulator, key_file: Path
) -> None:
    clock = SharedClock()
    key = load_admin_key(key_file).get_secret_value()
    daemon = daemon_for(emulator, clock=clock, admin_key=key, admin_key_file=key_file, interval=INTERVAL)
    try:
        await daemon._scheduled_run()
        assert daemon.last_run is not None and daemon.last_run.outcome == "failure"
        ready, body = daemon.readiness()
        assert not ready and REJECTED in body["reasons"]
        rotate(key_file, ADMIN_KEY)
        fixed_at = clock()
        while not daemon.readiness()[0]:
            clock.advance(1)
            await daemon._scheduled_run()  # skipped while backing off; the next run reads the new key
            assert clock() - fixed_at <= INTERVAL, "not ready within one interval of the fix"
        assert daemon.last_run.outcome == "success"
        assert REJECTED not in daemon.readiness()[1]["reasons"]
    finally:
        await daemon.aclose()


async def test_a_key_rejected_after_success_is_not_ready_at_once_and_a_new_key_recovers(
    emulator: Emulator, key_file: Path
) -> None:
    key_file.write_text(ADMIN_KEY)
    daemon = daemon_for(emulator, admin_key=ADMIN_KEY, admin_key_file=key_file, mode="report")
    try:
        first_client = daemon.api
        assert (await daemon.run_once()) is not None and daemon.readiness()[0]
        assert daemon.api is first_client  # the same key: the same client
        rotate(key_file, WRONG_KEY)  # revoked, say, and the Secret not yet updated
        run = await daemon.run_once()
        assert run is not None and run.outcome == "failure"
        ready, body = daemon.readiness()
        assert not ready and body["reasons"] == [REJECTED]  # ready before: the staleness has not run out
        assert daemon.api is not first_client and daemon.api.read_only  # report mode still cannot write
        rotate(key_file, ADMIN_KEY)
        run = await daemon.run_once()
        assert run is not None and run.outcome == "success" and daemon.readiness()[0]
    finally:
        await daemon.aclose()


@pytest.mark.parametrize("broken", ["", "   \n", "two words\n"])
async def test_an_unusable_key_file_keeps_the_key_read_before_and_says_so_once(
    emulator: Emulator, key_file: Path, broken: str
) -> None:
    key_file.write_text(ADMIN_KEY)
    with capture_logs() as logs:
        daemon = daemon_for(emulator, admin_key=ADMIN_KEY, admin_key_file=key_file)
        try:
            key_file.write_text(broken)  # caught between two writes of a rotation, or emptied by mistake
            for _ in range(2):
                run = await daemon.run_once()
                assert run is not None and run.outcome == "success"
        finally:
            await daemon.aclose()
    warnings = [json.loads(line) for line in logs.getvalue().splitlines() if "admin_key_file_unusable" in line]
    assert len(warnings) == 1 and warnings[0]["key_file"] == str(key_file)


async def test_a_missing_key_file_keeps_the_key_read_before(emulator: Emulator, key_file: Path) -> None:
    key_file.write_text(ADMIN_KEY)
    daemon = daemon_for(emulator, admin_key=ADMIN_KEY, admin_key_file=key_file)
    try:
        key_file.unlink()
        run = await daemon.run_once()
        assert run is not None and run.outcome == "success"
    finally:
        await daemon.aclose()


async def test_no_key_old_or_new_is_in_a_log_line_or_the_status(emulator: Emulator, key_file: Path) -> None:
    with capture_logs() as logs:
        daemon = daemon_for(emulator, admin_key=load_admin_key(key_file).get_secret_value(), admin_key_file=key_file)
        try:
            await daemon.run_once()
            failed = json.dumps(daemon.status())
            rotate(key_file, ADMIN_KEY)
            await daemon.run_once()
            fixed = json.dumps(daemon.status())
            texts = [failed, fixed, repr(daemon.client), json.dumps(daemon.readiness())]
        finally:
            await daemon.aclose()
    lines = logs.getvalue()
    assert "admin_key_reloaded" in lines and "run_failed" in lines
    for text in (lines, *texts):
        assert WRONG_KEY not in text and ADMIN_KEY not in text


async def test_served_on_a_real_schedule_the_fixed_key_is_picked_up_without_a_restart(
    emulator: Emulator, key_file: Path
) -> None:
    interval = 0.5
    key = load_admin_key(key_file).get_secret_value()
    daemon = daemon_for(emulator, admin_key=key, admin_key_file=key_file, interval=interval, jitter=0)
    serving = asyncio.create_task(daemon.serve())
    try:
        deadline = time.monotonic() + 10
        while daemon.last_run is None:
            assert time.monotonic() < deadline, "no run"
            await asyncio.sleep(0.01)
        assert REJECTED in daemon.readiness()[1]["reasons"]
        rotate(key_file, ADMIN_KEY)
        fixed_at = time.monotonic()
        while not daemon.readiness()[0]:
            # One interval, plus what a run itself takes.
            assert time.monotonic() - fixed_at < interval + 2.0, daemon.readiness()
            await asyncio.sleep(0.01)
    finally:
        daemon.request_stop()
        assert await asyncio.wait_for(serving, 10) == 0
