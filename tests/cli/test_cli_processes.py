"""The commands as separate processes, the way a pipeline and a newcomer run them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

from cli_support import ADMIN_KEY, DESIRED, approval_digest, free_port, wait_for_emulator

from datacontrols.demo import demo_seed_path


def reconcile(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "datacontrols", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "NO_COLOR": "1", **(env or {})},
        check=False,
    )


def test_demo_plans_applies_and_ends_with_an_empty_plan() -> None:
    done = reconcile("demo")
    assert done.returncode == 0, done.stderr
    plan, _, rest = done.stdout.partition("=== 2. Apply")
    assert "Plan: " in plan and "to update" in plan
    assert "Apply complete" in rest and "0 failed" in rest
    after = rest.partition("=== 3. Plan again")[2]
    assert "No changes. The organization matches the desired state." in after
    assert "data_usage" in after, "the demo is honest about the non-existent data_usage parameter"
    assert "Traceback" not in done.stderr


def test_demo_json_is_one_document() -> None:
    done = reconcile("demo", "--format", "json")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["converged"] is True
    assert document["plan"]["changes"] and not document["plan_after_apply"]["changes"]


def test_served_emulator_and_pipeline_commands() -> None:
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "datacontrols",
            "emulator",
            "--port",
            str(port),
            "--seed",
            str(demo_seed_path()),
            "--rng-seed",
            "1",
        ],
        env={**os.environ, "DATACONTROLS_EMULATOR_ADMIN_KEY": ADMIN_KEY},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        wait_for_emulator(base_url)
        env = {"OPENAI_ADMIN_KEY": ADMIN_KEY, "DATACONTROLS_BASE_URL": base_url}
        common = ["--desired-state", str(DESIRED)]
        # The demo plan weakens some controls: the dry run already says apply would refuse it (exit 1) ...
        plan = reconcile("--dry-run", "--format", "json", "--detailed-exitcode", *common, env=env)
        assert plan.returncode == 1, plan.stderr
        document = json.loads(plan.stdout)
        assert document["summary"]["update"] > 0 and document["refused"]["needs_approval"]
        # ... and so does apply, until a person approves the exact plan (the ratchet).
        refused = reconcile("--auto-approve", *common, env=env)
        assert refused.returncode == 1 and "needs a person's approval" in refused.stderr, refused.stderr
        digest = approval_digest(refused.stderr)
        assert document["refused"]["plan_digest"] == digest
        approved = reconcile("--dry-run", "--detailed-exitcode", "--allow-unsafe", digest, *common, env=env)
        assert approved.returncode == 2, approved.stderr
        applied = reconcile("--auto-approve", "--allow-unsafe", digest, *common, env=env)
        assert applied.returncode == 0, applied.stderr
        clean = reconcile("--dry-run", "--detailed-exitcode", *common, env=env)
        assert clean.returncode == 0, clean.stderr
        assert "No changes." in clean.stdout
        for run in (plan, approved, applied, clean):
            assert ADMIN_KEY not in run.stdout + run.stderr
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=15)
    assert server.returncode == 0
