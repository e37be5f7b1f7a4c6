"""End to end, as deployed: `reconcile emulator` and `reconcile serve --interval 2s` as real processes.

- /healthz answers at once, /readyz after the first run, /metrics shows the run counter rising, /status
  shows the last plan;
- drift made through the emulator's API shows up in /status and the metrics within two intervals, with its
  author when the audit log has one, and "no audit event" when the setting emits none;
- enforce mode corrects it within two intervals; report mode does not;
- SIGTERM during a run: exit 0 well within the grace period.

The report and the enforce pair run side by side to keep the module short.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from daemon_support import ADMIN_KEY, BEARER, DESIRED_STATE, STATUS_TOKEN, approved_demo_seed, free_port, metric_value

from datacontrols.daemon.attribution import NO_AUDIT_EVENT

CAROL = "user-DemoCarol000000000001"  # a member of Support Bot (in the approved demo organization)
INTERVAL = 2.0
# "Within two intervals", plus what a run itself takes, the jitter (a tenth of the interval) and polling.
TWO_INTERVALS = 2 * INTERVAL + 2.0
RECONCILE = str(Path(sys.executable).with_name("reconcile"))
T = TypeVar("T")


def wait_for(what: str, probe: Callable[[], T | None], timeout: float) -> T:
    deadline = time.monotonic() + timeout
    while True:
        try:
            found = probe()
        except httpx.HTTPError:
            found = None
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


@dataclass
class Process:
    popen: subprocess.Popen[bytes]
    log: Path
    url: str

    def stop(self) -> int:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
        try:
            return self.popen.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            raise

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        # The token the daemons are started with: /status in full (the probes ignore it).
        return httpx.get(self.url + path, timeout=2, headers=BEARER, **kwargs)


def start(args: list[str], log: Path, url: str, env: dict[str, str] | None = None) -> Process:
    environment = {**os.environ, "NO_COLOR": "1", **(env or {})}
    environment.pop("OPENAI_ADMIN_KEY", None)
    handle = log.open("wb")
    popen = subprocess.Popen([RECONCILE, *args], stdout=handle, stderr=subprocess.STDOUT, env=environment)
    return Process(popen, log, url)


@pytest.fixture
def launch(tmp_path: Path) -> Iterator[Callable[..., tuple[Process, Process]]]:
    """Start an emulator (demo seed) and a daemon against it; both are stopped at the end."""
    started: list[Process] = []
    key_file = tmp_path / "admin-key"
    key_file.write_text(ADMIN_KEY + "\n")
    seed_file = tmp_path / "seed.json"  # JSON is YAML: the demo organization, its weakening changes approved
    seed_file.write_text(json.dumps(approved_demo_seed()))

    def pair(name: str, mode: str, *emulator_args: str) -> tuple[Process, Process]:
        api_port, http_port = free_port(), free_port()
        emulator = start(
            ["emulator", "--port", str(api_port), "--seed", str(seed_file), "--rng-seed", "1", *emulator_args],
            tmp_path / f"{name}-emulator.log",
            f"http://127.0.0.1:{api_port}",
            env={"DATACONTROLS_EMULATOR_ADMIN_KEY": ADMIN_KEY},
        )
        started.append(emulator)
        daemon = start(
            [
                "serve",
                "--desired-state",
                str(DESIRED_STATE),
                "--admin-key-file",
                str(key_file),
                "--base-url",
                f"{emulator.url}/v1",
                "--listen",
                f"127.0.0.1:{http_port}",
                "--mode",
                mode,
                "--interval",
                "2s",
                "--max-requests-per-minute",
                "6000",  # the emulator has no limit here; the cap is tested on its own
                "--log-format",
                "json",
            ],
            tmp_path / f"{name}-serve.log",
            f"http://127.0.0.1:{http_port}",
            env={"DATACONTROLS_STATUS_TOKEN": STATUS_TOKEN},
        )
        started.append(daemon)
        return emulator, daemon

    yield pair
    for process in reversed(started):
        if process.popen.poll() is None:
            process.popen.kill()
            process.popen.wait(timeout=5)


def api(emulator: Process, actor: str | None = None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
    if actor is not None:
        headers["x-emulator-actor"] = actor
    return httpx.Client(base_url=f"{emulator.url}/v1", headers=headers, timeout=5)


def project_id(emulator: Process, name: str) -> str:
    with api(emulator) as client:
        projects = client.get("/organization/projects", params={"limit": 100}).json()["data"]
    [found] = [str(p["id"]) for p in projects if p["name"] == name]
    return found


def hosted_tools(emulator: Process, name: str) -> dict[str, bool]:
    with api(emulator) as client:
        body = client.get(f"/organization/projects/{project_id(emulator, name)}/hosted_tool_permissions").json()
    return {tool: value["enabled"] for tool, value in body.items()}


def members(emulator: Process, name: str) -> dict[str, str]:
    with api(emulator) as client:
        body = client.get(f"/organization/projects/{project_id(emulator, name)}/users", params={"limit": 100}).json()
    return {user["id"]: user["role"] for user in body["data"]}


def answers(daemon: Process, path: str) -> bool:
    return daemon.get(path).status_code == 200


def runs(daemon: Process) -> float:
    text = daemon.get("/metrics").text
    return sum(
        metric_value(text, "datacontrols_runs_total", mode=m, result="success") or 0 for m in ("report", "enforce")
    )


def drift_item(
    daemon: Process, kind: str, project: str, *, field: str | None = None, subject: str | None = None
) -> dict[str, Any] | None:
    run = daemon.get("/status").json()["last_run"] or {}
    for item in run.get("drift", []):
        if item["kind"] != kind or item["project"] != project:
            continue
        if (field is None or field in item["fields"]) and (subject is None or item.get("subject") == subject):
            return item  # type: ignore[no-any-return]
    return None


def test_served_daemons_probe_report_attribute_and_enforce(launch: Callable[..., tuple[Process, Process]]) -> None:
    report_api, report = launch("report", "report")
    enforce_api, enforce = launch("enforce", "enforce")
    for daemon in (report, enforce):
        assert wait_for("/healthz", partial(answers, daemon, "/healthz"), 10)
    for daemon in (report, enforce):
        wait_for("/readyz after the first run", partial(answers, daemon, "/readyz"), 10)
        status = daemon.get("/status").json()
        assert status["last_run"]["plan"]["format_version"] == 1
        assert status["last_run"]["outcome"] == "success"

    # The run counter rises on its own, one run per interval.
    counted = runs(report)
    wait_for("another run", lambda: runs(report) > counted, TWO_INTERVALS)

    # Enforce mode converged on its first run; report mode left the seed's drift alone.
    assert hosted_tools(enforce_api, "Support Bot")["web_search"] is False
    assert hosted_tools(report_api, "Support Bot")["web_search"] is True
    assert report.get("/status").json()["last_run"]["applied"] == []

    # Drift made by people through the API: a hosted tool enabled (no audit event) and a member made an owner
    # (the audit log records `user.updated`, and who did it). Correcting both tightens: the daemon may.
    for emulator in (report_api, enforce_api):
        support = project_id(emulator, "Support Bot")
        with api(emulator, actor="alice@example.com") as alice:
            tools = {"mcp": {"enabled": True}}
            assert alice.post(f"/organization/projects/{support}/hosted_tool_permissions", json=tools).is_success
        with api(emulator, actor="dave@example.com") as dave:
            assert dave.post(f"/organization/projects/{support}/users/{CAROL}", json={"role": "owner"}).is_success
    drift_made_at = time.monotonic()

    # Report: both show up in /status and the metrics within two intervals, the member with its author.
    promoted = wait_for(
        "the promoted member in /status",
        lambda: drift_item(report, "project_user", "Support Bot", subject="carol@example.com"),
        TWO_INTERVALS,
    )
    assert promoted["action"] == "update" and promoted["fields"]["role"] == {"before": "owner", "after": "member"}
    assert promoted["attribution"]["actor"] == "dave@example.com"
    assert promoted["attribution"]["event_type"] == "user.updated" and promoted["attribution"]["at"]
    tools_drift = wait_for(
        "the hosted tools drift in /status",
        lambda: drift_item(report, "project_hosted_tools", "Support Bot", field="mcp"),
        TWO_INTERVALS,
    )
    assert tools_drift["attribution"]["note"] == NO_AUDIT_EVENT
    assert time.monotonic() - drift_made_at < TWO_INTERVALS
    text = report.get("/metrics").text
    assert (metric_value(text, "datacontrols_drift_open", kind="project_user", severity="critical") or 0) >= 1

    # Enforce: both are put back within two intervals.
    wait_for(
        "the corrections",
        lambda: (
            hosted_tools(enforce_api, "Support Bot")["mcp"] is False
            and members(enforce_api, "Support Bot")[CAROL] == "member"
        ),
        TWO_INTERVALS,
    )
    text = enforce.get("/metrics").text
    assert (metric_value(text, "datacontrols_changes_applied_total", kind="project_user", action="update") or 0) >= 1

    # Report mode still has not written, runs later.
    counted = runs(report)
    wait_for("a later report run", lambda: runs(report) > counted, TWO_INTERVALS)
    assert hosted_tools(report_api, "Support Bot")["mcp"] is True
    assert members(report_api, "Support Bot")[CAROL] == "owner"

    for daemon in (report, enforce):
        started = time.monotonic()
        assert daemon.stop() == 0
        assert time.monotonic() - started < 5
        lines = [json.loads(line) for line in daemon.log.read_text().splitlines() if line.startswith("{")]
        assert lines and any(line["event"] == "shutdown_complete" and line["exit_code"] == 0 for line in lines)
        assert ADMIN_KEY not in daemon.log.read_text() and STATUS_TOKEN not in daemon.log.read_text()


def test_sigterm_during_a_run_exits_0_within_the_grace_period(launch: Callable[..., tuple[Process, Process]]) -> None:
    emulator, daemon = launch("slow", "enforce", "--latency", "0.15")

    def state() -> dict[str, Any]:
        return httpx.get(f"{emulator.url}/_emulator/state", headers={"Authorization": f"Bearer {ADMIN_KEY}"}).json()  # type: ignore[no-any-return]

    # The organization's retention is the first write: once it has landed, the run is applying changes.
    wait_for("the first write", lambda: state()["organization"]["data_retention"] == "zero_data_retention", 15)
    started = time.monotonic()
    daemon.popen.send_signal(signal.SIGTERM)
    code = daemon.popen.wait(timeout=30)
    assert code == 0 and time.monotonic() - started < 10  # the default grace period is 30 s
    lines = [json.loads(line) for line in daemon.log.read_text().splitlines() if line.startswith("{")]
    # Runs outlast the ticks here: looking at the queue meanwhile is no warning.
    assert not [line for line in lines if "maximum number of running instances" in line["event"]]
    finished = [line for line in lines if line["event"] == "run_finished"]
    assert finished and finished[-1]["outcome"] == "interrupted"  # stopped between writes, none failed
    assert finished[-1]["applied"] >= 1 and finished[-1]["skipped"] >= 1 and finished[-1]["failed"] == 0
    assert next(line for line in lines if line["event"] == "shutdown_complete")["exit_code"] == 0
    assert emulator.stop() == 0
