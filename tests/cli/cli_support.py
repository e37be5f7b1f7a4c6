"""Helpers for CLI tests: a real emulator served on loopback in a thread, and an in-process CLI runner."""

from __future__ import annotations

import contextlib
import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from datacontrols.cli import main
from datacontrols.demo import demo_seed_path
from datacontrols.emulator import Emulator
from datacontrols.emulator.seed import read_document
from datacontrols.emulator.server import build_server

ADMIN_KEY = "sk-admin-cliTestKey0123456789abcdefghijklmnopqrstuv"
REPO = Path(__file__).resolve().parents[2]
DESIRED = REPO / "desired_state"


def approved_demo_seed() -> dict[str, Any]:
    """The demo organization after a person approved the demo plan's weakening changes once (the ratchet:
    the daemon never applies those itself): Research Sandbox without its model policy, carol and the
    data-science group in Support Bot. What is left is drift the daemon corrects on its own."""
    seed = dict(read_document(demo_seed_path()))
    projects = []
    for raw in seed["projects"]:
        project = dict(raw)
        if project["name"] == "Research Sandbox":
            project["model_permissions"] = None
        if project["name"] == "Support Bot":
            project["users"] = [*project["users"], {"user": "carol@example.com", "role": "member"}]
            project["groups"] = [*project.get("groups", []), {"group": "data-science", "role": "member"}]
        projects.append(project)
    seed["projects"] = projects
    return seed


@dataclass
class Served:
    emulator: Emulator
    base_url: str

    def http(self) -> httpx.Client:
        """A plain client, for changing the organization behind the tool's back."""
        return httpx.Client(base_url=self.base_url, headers={"Authorization": f"Bearer {ADMIN_KEY}"})

    def project_id(self, name: str) -> str:
        return next(p.id for p in self.emulator.state.projects.values() if p.name == name)


def free_port() -> int:
    """A port free on 127.0.0.1 right now, for a server this test starts."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_emulator(base_url: str, timeout: float = 20.0) -> None:
    """Wait until an emulator started in another process answers (401: up, and wants the admin key)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(f"{base_url}/organization/projects").status_code == 401:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, f"the emulator at {base_url} did not come up within {timeout:g} s"
        time.sleep(0.05)


@contextlib.contextmanager
def served_emulator(seed: Any = None, **options: Any) -> Iterator[Served]:
    """Serve an emulator on 127.0.0.1 (a free port) for the duration of the block."""
    emulator = Emulator(admin_key=ADMIN_KEY, seed=seed if seed is not None else demo_seed_path(), rng_seed=3, **options)
    port = free_port()
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

    def json(self) -> Any:
        return json.loads(self.stdout)


def run_cli(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, args: list[str], **env: str | None
) -> Outcome:
    """Run `reconcile ARGS` in-process; env values of None unset the variable."""
    # The CI variables are cleared so that a run under GitHub Actions tests the same thing as one elsewhere.
    defaults: dict[str, str | None] = {
        "OPENAI_ADMIN_KEY": ADMIN_KEY,
        "NO_COLOR": "1",
        "GITHUB_ACTIONS": None,
        "GITHUB_STEP_SUMMARY": None,
    }
    for name, value in {**defaults, **env}.items():
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


DIGEST = re.compile(r"--allow-unsafe ([0-9a-f]{64})")


def approval_digest(message: str) -> str:
    """The plan digest a refusal (or a dry run's warning) offers for `--allow-unsafe`."""
    match = DIGEST.search(message)
    assert match is not None, message
    return match.group(1)


def one_project_seed(**project: Any) -> dict[str, Any]:
    """An organization at zero data retention with one project, `Payments`, with these live settings."""
    return {
        "organization": {"data_retention": "zero_data_retention"},
        "projects": [{"id": "proj_ratchet0000000000000001", "name": "Payments", "residency": "GLOBAL", **project}],
    }


def one_project_desired(root: Path, organization: str, project: str = "") -> Path:
    """A desired state: `organization` as organization.yaml, and projects/payments.yaml naming `Payments`."""
    (root / "projects").mkdir(parents=True)
    (root / "organization.yaml").write_text(organization)
    (root / "projects" / "payments.yaml").write_text("name: Payments\n" + project)
    return root


def run_approved(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, args: list[str], **env: str | None
) -> Outcome:
    """Apply as a person who reviewed the plan would: a run refused for needing approval (the ratchet or a
    threshold) is run again with `--allow-unsafe` naming exactly the refused plan. Nothing is written by the
    refused run (the tests that use this check the end state)."""
    first = run_cli(capsys, monkeypatch, args, **env)
    match = DIGEST.search(first.stderr)
    if first.code != 1 or match is None:
        return first
    assert "Nothing was written" in first.stderr, first.stderr
    return run_cli(capsys, monkeypatch, [*args, "--allow-unsafe", match.group(1)], **env)
