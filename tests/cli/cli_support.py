"""Helpers for CLI tests: a real emulator served on loopback in a thread, and an in-process CLI runner."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from datacontrols.cli import main
from datacontrols.demo import demo_seed_path
from datacontrols.emulator import Emulator
from datacontrols.emulator.server import build_server

ADMIN_KEY = "sk-admin-cliTestKey0123456789abcdefghijklmnopqrstuv"
REPO = Path(__file__).resolve().parents[2]
DESIRED = REPO / "desired_state"


@dataclass
class Served:
    emulator: Emulator
    base_url: str


@contextlib.contextmanager
def served_emulator(seed: Any = None, **options: Any) -> Iterator[Served]:
    """Serve an emulator on 127.0.0.1 (a free port) for the duration of the block."""
    emulator = Emulator(admin_key=ADMIN_KEY, seed=seed if seed is not None else demo_seed_path(), rng_seed=3, **options)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = build_server(emulator, "127.0.0.1", port, log_level="warning")
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the emulator did not start")
        time.sleep(0.01)
    try:
        yield Served(emulator, f"http://127.0.0.1:{port}/v1")
    finally:
        server.should_exit = True
        thread.join(10)


@dataclass
class Outcome:
    code: int
    stdout: str
    stderr: str


def run_cli(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, args: list[str], **env: str | None
) -> Outcome:
    """Run `reconcile ARGS` in-process; env values of None unset the variable."""
    for name, value in {"OPENAI_ADMIN_KEY": ADMIN_KEY, "NO_COLOR": "1", **env}.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    capsys.readouterr()
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return Outcome(code, captured.out, captured.err)
