"""--state-dir: the alert ledger outlives a restart. Drift alerted before it is not alerted again, its resolution
is still announced, an outage going on stays one outage; a missing or corrupt ledger re-alerts once, with a
warning, and never crashes the daemon."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from daemon_support import ADMIN_KEY, REPO, Hook, capture_logs, daemon_for, fix_hosted_tools_by_hand

from datacontrols.daemon import Daemon, DaemonSettings
from datacontrols.daemon.alert_ledger import LEDGER_NAME
from datacontrols.emulator import Emulator
from datacontrols.errors import ConfigError

SEED: dict[str, Any] = {
    "organization": {"data_retention": "zero_data_retention"},
    "projects": [
        {
            "id": "proj_support",
            "name": "Support Bot",
            "residency": "EU_STORAGE_PROCESSING",
            "data_retention": "zero_data_retention",
            "hosted_tools": {"web_search": True},
        }
    ],
}


@pytest.fixture
def emulator() -> Emulator:
    return Emulator(admin_key=ADMIN_KEY, seed=SEED, rng_seed=2)


def restarted(emulator: Emulator, hook: Hook, state_dir: Path, **overrides: Any) -> Daemon:
    """A new daemon process, as far as the ledger is concerned: nothing shared but the state directory."""
    return daemon_for(emulator, notifier=hook.notifier(), mode="report", state_dir=state_dir, **overrides)


async def one_run(daemon: Daemon) -> None:
    try:
        await daemon.run_once()
    finally:
        await daemon.aclose()


async def test_drift_alerted_before_a_restart_is_not_alerted_again_and_its_resolution_is(
    emulator: Emulator, tmp_path: Path
) -> None:
    hook = Hook()
    await one_run(restarted(emulator, hook, tmp_path))
    assert hook.events() == ["drift_detected"]
    first_seen = {item["key"]: item["first_seen"] for item in hook.posted[0]["items"]}
    saved = json.loads((tmp_path / LEDGER_NAME).read_text())
    assert {item["key"] for item in saved["open"]} == set(first_seen)

    second = restarted(emulator, hook, tmp_path)
    try:
        assert {key: item.first_seen for key, item in second.ledger.open.items()} == first_seen
        await second.run_once()
        assert hook.events() == ["drift_detected"]  # the same drift, after a restart: not again
    finally:
        await second.aclose()

    await fix_hosted_tools_by_hand(emulator)
    await one_run(restarted(emulator, hook, tmp_path))
    assert hook.events() == ["drift_detected", "drift_resolved"]  # a third process announces the end
    assert ("project_hosted_tools", "Support Bot") in {(i["kind"], i["project"]) for i in hook.posted[1]["items"]}
    [resolved] = hook.posted[1]["items"]
    left = {item["key"] for item in json.loads((tmp_path / LEDGER_NAME).read_text())["open"]}
    assert resolved["key"] not in left and left == set(first_seen) - {resolved["key"]}


CORRUPT = {
    "not JSON": "{not json",
    "empty": "",
    "another format": '{"format": 99, "open": []}',
    "open not a list": '{"format": 1, "open": "x"}',
    "an item without fields": '{"format": 1, "open": [{}]}',
    "nested too deep": "[" * 10**5,
}


@pytest.mark.parametrize("garbage", list(CORRUPT.values()), ids=list(CORRUPT))
async def test_a_corrupt_ledger_re_alerts_once_with_a_warning_and_no_crash(
    emulator: Emulator, tmp_path: Path, garbage: str
) -> None:
    hook = Hook()
    await one_run(restarted(emulator, hook, tmp_path))
    (tmp_path / LEDGER_NAME).write_text(garbage)
    with capture_logs() as logs:
        daemon = restarted(emulator, hook, tmp_path)
        try:
            await daemon.run_once()
            await daemon.run_once()
        finally:
            await daemon.aclose()
    assert hook.events() == ["drift_detected", "drift_detected"]  # once more after the loss, then quiet
    warnings = [json.loads(line) for line in logs.getvalue().splitlines() if "alert_ledger_unreadable" in line]
    assert len(warnings) == 1 and "alerted (again" in warnings[0]["consequence"]
    assert garbage[:40] not in warnings[0]["error"] or not garbage
    assert json.loads((tmp_path / LEDGER_NAME).read_text())["format"] == 1  # rewritten whole


async def test_a_missing_ledger_says_so_and_alerts(emulator: Emulator, tmp_path: Path) -> None:
    hook = Hook()
    with capture_logs() as logs:
        await one_run(restarted(emulator, hook, tmp_path / "fresh"))
    assert hook.events() == ["drift_detected"]
    assert '"alert_ledger_missing"' in logs.getvalue()
    assert (tmp_path / "fresh" / LEDGER_NAME).is_file()
    assert oct((tmp_path / "fresh").stat().st_mode & 0o777) == "0o700"


async def test_an_outage_going_on_across_a_restart_is_one_outage(tmp_path: Path) -> None:
    down = Emulator(admin_key="sk-admin-another-organizations-key-0001", seed=SEED)  # every request: 401
    hook = Hook()
    await one_run(restarted(down, hook, tmp_path))
    await one_run(restarted(down, hook, tmp_path))
    assert hook.events() == ["run_failed"]
    up = Emulator(admin_key=ADMIN_KEY, seed=SEED, rng_seed=2)
    await one_run(restarted(up, hook, tmp_path))
    assert hook.events() == ["run_failed", "drift_detected", "run_recovered"]


async def test_an_unwritable_ledger_is_a_warning_not_a_failed_run(emulator: Emulator, tmp_path: Path) -> None:
    hook = Hook()
    daemon = restarted(emulator, hook, tmp_path)
    (tmp_path / LEDGER_NAME).mkdir()  # the rename onto it fails
    with capture_logs() as logs:
        try:
            run = await daemon.run_once()
        finally:
            await daemon.aclose()
    assert run is not None and run.outcome == "success" and hook.events() == ["drift_detected"]
    assert '"alert_ledger_unwritable"' in logs.getvalue()


def test_a_state_dir_that_is_a_file_is_refused_at_start(emulator: Emulator, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(ConfigError, match="not a directory"):
        daemon_for(emulator, state_dir=tmp_path / "file")


def test_the_state_dir_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DATACONTROLS_STATE_DIR", str(tmp_path))
    assert DaemonSettings().state_dir == tmp_path


def test_the_base_deployment_mounts_a_writable_state_dir() -> None:
    deployment = yaml.safe_load((REPO / "deploy" / "base" / "deployment.yaml").read_text())
    pod = deployment["spec"]["template"]["spec"]
    [container] = pod["containers"]
    env = {item["name"]: item["value"] for item in container.get("env", []) if "value" in item}  # not valueFrom
    state_dir = env["DATACONTROLS_STATE_DIR"]
    [mount] = [m for m in container["volumeMounts"] if m["mountPath"] == state_dir]
    assert not mount.get("readOnly", False)
    [volume] = [v for v in pod["volumes"] if v["name"] == mount["name"]]
    assert "emptyDir" in volume
    assert os.path.isabs(state_dir)
