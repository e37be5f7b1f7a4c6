"""The emulator over real HTTP on 127.0.0.1: the `python -m datacontrols.emulator` process and uvicorn."""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from emulator_support import ADMIN_KEY, REQUEST_ID, check_envelope

from datacontrols.emulator import Emulator, FaultConfig, load_seed
from datacontrols.emulator.server import build_server


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until_serving(url: str, deadline_s: float = 15.0, process: subprocess.Popen[bytes] | None = None) -> None:
    give_up = time.monotonic() + deadline_s
    while time.monotonic() < give_up:
        if process is not None and process.poll() is not None:
            raise AssertionError(f"the emulator exited early with {process.returncode}")
        try:
            httpx.get(url, timeout=0.5)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise AssertionError(f"nothing answered at {url}")


def test_the_module_serves_http_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    seed = tmp_path / "seed.yaml"
    seed.write_text("projects:\n  - {name: Seeded, id: proj_seeded000000000000000000}\n")
    dump = tmp_path / "dump.json"
    env = {**os.environ, "DATACONTROLS_EMULATOR_ADMIN_KEY": ADMIN_KEY}
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "datacontrols.emulator", "--port", str(port), "--seed", str(seed)),
            *("--dump-on-exit", str(dump), "--approved-retention", "zero_data_retention"),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_serving(f"{base}/v1/organization/projects", process=process)

        refused = httpx.get(f"{base}/v1/organization/projects")
        assert refused.status_code == 401 and REQUEST_ID.match(refused.headers["x-request-id"])
        check_envelope(refused.json())

        auth = {"Authorization": f"Bearer {ADMIN_KEY}"}
        listed = httpx.get(f"{base}/v1/organization/projects", headers=auth)
        assert listed.status_code == 200
        assert [p["name"] for p in listed.json()["data"]] == ["Seeded"]
        created = httpx.post(f"{base}/v1/organization/projects", headers=auth, json={"name": "Over HTTP"})
        assert created.status_code == 200
        not_approved = httpx.post(
            f"{base}/v1/organization/data_retention", headers=auth, json={"retention_type": "modified_abuse_monitoring"}
        )
        assert not_approved.status_code == 403
        state = httpx.get(f"{base}/_emulator/state", headers=auth).json()
        assert [p["name"] for p in state["projects"]] == ["Seeded", "Over HTTP"]

        process.send_signal(signal.SIGTERM)
        returncode = process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    out, err = process.communicate()
    assert returncode == 0, err.decode()
    assert load_seed(dump).model_dump() == load_seed(state).model_dump()
    assert ADMIN_KEY not in out.decode() + err.decode()


def test_the_module_refuses_a_missing_admin_key() -> None:
    env = {k: v for k, v in os.environ.items() if k != "DATACONTROLS_EMULATOR_ADMIN_KEY"}
    result = subprocess.run(
        [sys.executable, "-m", "datacontrols.emulator", "--port", "1"], env=env, capture_output=True, timeout=30
    )
    assert result.returncode != 0
    assert b"--admin-key" in result.stderr


@pytest.fixture
def served() -> Iterator[tuple[Emulator, str]]:
    """An emulator served by uvicorn on a thread (signals belong to the main thread, so stop by flag)."""
    emulator = Emulator(admin_key=ADMIN_KEY, rng_seed=0)
    port = free_port()
    server = build_server(emulator, "127.0.0.1", port, log_level="warning")
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    wait_until_serving(f"{base}/v1/organization/projects")
    yield emulator, base
    server.should_exit = True
    thread.join(timeout=10)
    assert not thread.is_alive()


def test_a_dropped_connection_over_real_http_is_a_transport_error(served: tuple[Emulator, str]) -> None:
    emulator, base = served
    emulator.faults = FaultConfig(dropped=1.0, methods=("POST",), write_timing="after")
    auth = {"Authorization": f"Bearer {ADMIN_KEY}"}
    with pytest.raises(httpx.TransportError):
        httpx.post(f"{base}/v1/organization/projects", headers=auth, json={"name": "Cut off"})
    assert "Cut off" in [p.name for p in emulator.state.projects.values()], "the write happened"
    # The server is still healthy after a drop.
    assert httpx.get(f"{base}/v1/organization/projects", headers=auth).status_code == 200


def test_a_client_gone_before_its_body_arrived_is_no_server_error(
    served: tuple[Emulator, str], caplog: pytest.LogCaptureFixture
) -> None:
    """A killed client (tests/reliability kills `reconcile` mid-apply) must not make the server log a traceback."""
    emulator, base = served
    errors = logging.getLogger("uvicorn.error")
    errors.addHandler(caplog.handler)
    try:
        host, port = base.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port))) as sock:
            sock.sendall(
                b"POST /v1/organization/projects HTTP/1.1\r\nHost: x\r\n"
                + f"Authorization: Bearer {ADMIN_KEY}\r\n".encode()
                + b'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"name": "Half'
            )
        auth = {"Authorization": f"Bearer {ADMIN_KEY}"}
        assert httpx.get(f"{base}/v1/organization/projects", headers=auth).status_code == 200
    finally:
        errors.removeHandler(caplog.handler)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], [r.getMessage() for r in caplog.records]
    assert "Half" not in [p.name for p in emulator.state.projects.values()]
