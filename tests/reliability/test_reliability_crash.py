"""Crash: `reconcile --auto-approve` killed with SIGKILL at random points of an apply, then run again: the
organization converges and nothing is duplicated.

The CLI runs as a real process against an emulator served on loopback (in a thread of this process, so the
test watches its request log live). Every request is slowed a little, so an apply spans a window to kill in.
Each round gives the next apply plenty to do, the kind of work a kill can tear in half: a new project file
(create the project, then its retention, tools, models, limits, alerts, an owner and a service account,
which is created first and given its role after) and a few changes made by hand in the live organization.
Each round picks a random k, waits until the emulator has answered k writes of the apply, then kills the process
within the next two request latencies: between two writes, or in the middle of one (the server may still apply
it, after its client is gone).

Afterwards one more apply must succeed and a dry run with --detailed-exitcode must exit 0 (no changes);
no active project, service account or spend alert may exist twice at any point.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from cli_support import ADMIN_KEY as CLI_ADMIN_KEY
from cli_support import served_emulator
from reliability_drift import Drifter
from reliability_support import DEMO_SEED, desired_copy, duplicates, quiet_logs, report, scaled, slow

from datacontrols.desired import load_desired_state
from datacontrols.emulator import Emulator, FaultConfig

LATENCY = 0.02  # seconds added to every request, so that a kill can land inside one
MAX_KILL_AFTER = 10  # the kill comes after the k-th write of the round, k in 1..10 (a round makes 12 or more)


def project_file(index: int) -> str:
    """A new project with something of every kind a kill can interrupt."""
    return (
        f"name: Crash Test {index}\n"
        "residency: EU_STORAGE_PROCESSING\n"
        "data_retention: zero_data_retention\n"
        "hosted_tools: {web_search: false, file_search: true}\n"
        "rate_limits: {gpt-4.1: {max_requests_per_1_minute: 300}}\n"
        f"spend_limit: {{amount_usd: {100 + index}}}\n"
        "spend_alerts:\n"
        "  - {threshold_usd: 25, recipients: [finops@example.com]}\n"
        "  - {threshold_usd: 75, recipients: [finops@example.com]}\n"
        "members:\n"
        "  users: {alice@example.com: owner}\n"
        f"  service_accounts: {{crash-bot-{index}: member}}\n"
    )


def reconcile(desired: Path, base_url: str, logs: Path, *args: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "OPENAI_ADMIN_KEY": CLI_ADMIN_KEY, "NO_COLOR": "1"}
    with open(logs, "ab") as out:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "datacontrols", "--desired-state", str(desired), "--base-url", base_url, *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )


def approved(desired: Path, base_url: str, logs: Path, workdir: Path) -> list[str]:
    """`--allow-unsafe DIGEST` for the plan an apply would make now: the person's approval the ratchet asks
    for when drift restores access or the demo state weakens a control (found by a dry run, which writes
    nothing; the same live state gives the same plan, so the same digest)."""
    plan_file = workdir / "approval-plan.json"
    dry = reconcile(desired, base_url, logs, "--dry-run", "--out", str(plan_file))
    # exit 1 when the plan needs approval (apply would refuse it); the plan is saved all the same
    assert dry.wait(60) in (0, 1, 2) and plan_file.is_file(), logs.read_text()[-3000:]
    return ["--allow-unsafe", json.loads(plan_file.read_text())["plan_digest"]]


def wait_for_writes(emulator: Emulator, start: int, process: subprocess.Popen[bytes], count: int) -> bool:
    """Whether `count` writes reached the emulator (each logged once answered) before the process ended."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if sum(1 for e in emulator.requests[start:] if e.method != "GET") >= count:
            return True
        if process.poll() is not None:
            return False
        time.sleep(0.002)
    raise AssertionError(f"the apply neither made {count} writes nor ended within 60 s")


def wait_until_quiet(emulator: Emulator) -> None:
    """Let a request the killed process left in flight finish on the server before the state is touched."""
    seen = -1
    while seen != len(emulator.requests):
        seen = len(emulator.requests)
        time.sleep(LATENCY * 4)


def crash_rounds(tmp_path: Path, kills: int, seed: int) -> dict[str, object]:
    rng = random.Random(seed)
    desired_dir = desired_copy(tmp_path / "desired")
    logs = tmp_path / "reconcile.log"
    outcomes: Counter[str] = Counter()
    writes_before_kill: list[int] = []
    with quiet_logs(), served_emulator(seed=DEMO_SEED) as served:  # the server thread logs every request
        emulator = served.emulator
        emulator.faults = FaultConfig(latency=LATENCY)
        for index in range(kills):
            (desired_dir / "projects" / f"crash-{index}.yaml").write_text(project_file(index))
            drifter = Drifter(emulator, load_desired_state(desired_dir), rng, renames=index % 3 == 0)
            for _ in range(3):
                drifter.drift()
            start = len(emulator.requests)
            approval = approved(desired_dir, served.base_url, logs, tmp_path)
            process = reconcile(desired_dir, served.base_url, logs, "--auto-approve", *approval)
            # A random point of the apply: after its k-th write was answered, a little later (the next write
            # may be in flight, or already applied with its answer on the way).
            if wait_for_writes(emulator, start, process, rng.randint(1, MAX_KILL_AFTER)):
                time.sleep(rng.uniform(0, 2 * LATENCY))
                process.send_signal(signal.SIGKILL)
            code = process.wait(30)
            outcomes["killed" if code == -signal.SIGKILL else f"finished_exit_{code}"] += 1
            writes_before_kill.append(sum(1 for e in emulator.requests[start:] if e.method != "GET"))
            wait_until_quiet(emulator)
            found = duplicates(emulator)
            assert not found, f"round {index}: duplicated after the kill: {found}\n{logs.read_text()[-3000:]}"

        approval = approved(desired_dir, served.base_url, logs, tmp_path)
        settle = reconcile(desired_dir, served.base_url, logs, "--auto-approve", *approval)
        assert settle.wait(60) == 0, logs.read_text()[-3000:]
        check = reconcile(desired_dir, served.base_url, logs, "--dry-run", "--detailed-exitcode")
        assert check.wait(60) == 0, f"changes remain after the clean apply:\n{logs.read_text()[-3000:]}"
        assert not duplicates(emulator)
        # Each round's project exists once (drift may have renamed earlier ones; those are unmanaged now).
        active = [p for p in emulator.state.projects.values() if not p.archived]
        created = [p for p in active if p.name in {f"Crash Test {i}" for i in range(kills)}]
        assert len(created) == kills
        assert all(len(p.service_accounts) == 1 and len(p.spend_alerts) == 2 for p in created)
    assert "Traceback" not in logs.read_text()
    assert outcomes["killed"] >= kills * 0.8, f"most rounds were killed mid-apply: {outcomes}"
    return {
        "rounds": kills,
        "killed_mid_apply": outcomes["killed"],
        "finished_before_the_kill": kills - outcomes["killed"],
        "outcomes": dict(outcomes),
        "writes_per_round_before_kill": {"min": min(writes_before_kill), "max": max(writes_before_kill)},
        "projects_created": kills,
        "duplicates": 0,
        "converged": True,
    }


def test_sigkill_during_applies_then_rerun_converges_without_duplicates(tmp_path: Path) -> None:
    report("crash", **crash_rounds(tmp_path, kills=5, seed=5))


@slow
def test_fifty_sigkills_during_applies(tmp_path: Path) -> None:
    report("crash_long", **crash_rounds(tmp_path, kills=scaled(5, 50), seed=50))
