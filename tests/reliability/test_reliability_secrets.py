"""Secrets: every command, run as a pipeline runs it (a separate process, debug logs in JSON), with a known admin
key and a service-account key created through the secret sink: neither appears in any output, log, plan,
status page, metrics, export or saved plan, nor does any 20-character piece of either. The created key is in
the sink file (mode 0600) and in no other file.

Everything runs against the emulator served by its own command (`reconcile emulator`, debug logs on), so the
server's logs are searched too. The commands: `validate`, `schema`, `demo`, `--dry-run` in the three formats
(one saving the plan with --out and a GitLab report), `apply PLAN_FILE --secret-sink` (which creates the
account, and its key), `--auto-approve --secret-sink`, `explain`, `export`, and `serve` for one run, with
/healthz, /readyz, /metrics and /status fetched. The in-process variants of the sink and key checks live in
tests/cli/test_members_secret_sink.py and tests/adminapi/test_secrets.py; this file covers the rest.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
from daemon_support import free_port
from reliability_support import DEMO_SEED, DESIRED_STATE, report

from datacontrols.demo import _DEMO_KEY

ADMIN_KEY = "sk-admin-secrets-X4fQ9zLm2Rw7Tb1Kc8Vn5Hj3Pd6Gs0Ya"
FRAGMENT = 20


def fragments(secret: str) -> set[str]:
    """Every piece of `secret` FRAGMENT characters long: a partial leak is a leak."""
    return {secret[i : i + FRAGMENT] for i in range(len(secret) - FRAGMENT + 1)}


def leaked(secret: str, text: str) -> list[str]:
    return sorted(piece for piece in fragments(secret) if piece in text)


@dataclass
class Running:
    slug: str
    process: subprocess.Popen[bytes]


class Processes:
    """Runs `python -m datacontrols ...`, keeping every byte each process printed (in files under `logs`:
    a pipe nobody reads fills up and stalls a long-running server that logs at debug level)."""

    def __init__(self, base_env: dict[str, str], logs: Path, cwd: Path) -> None:
        self.env = base_env
        self.logs = logs
        self.cwd = cwd  # so that a stray file a command might write lands where the search looks
        self.outputs: dict[str, str] = {}

    def start(self, name: str, *args: str, env: dict[str, str] | None = None) -> Running:
        slug = "".join(c if c.isalnum() else "-" for c in name)
        with open(self.logs / f"{slug}.out", "wb") as out, open(self.logs / f"{slug}.err", "wb") as err:
            process = subprocess.Popen(
                [sys.executable, "-m", "datacontrols", *args],
                stdout=out,
                stderr=err,
                env={**self.env, **(env or {})},
                cwd=self.cwd,
            )
        return Running(slug, process)

    def finish(self, name: str, running: Running, expect: int = 0, timeout: float = 60) -> str:
        code = running.process.wait(timeout)
        stdout = (self.logs / f"{running.slug}.out").read_text(errors="replace")
        stderr = (self.logs / f"{running.slug}.err").read_text(errors="replace")
        self.outputs[f"{name} (stdout)"] = stdout
        self.outputs[f"{name} (stderr)"] = stderr
        assert code == expect, f"{name}: exit {code}\n{stderr[-3000:]}"
        return stdout

    def run(self, name: str, *args: str, expect: int = 0, env: dict[str, str] | None = None) -> str:
        return self.finish(name, self.start(name, *args, env=env), expect)


def wait_for(url: str, ok: int, deadline: float = 30) -> None:
    stop = time.monotonic() + deadline
    while True:
        try:
            if httpx.get(url, timeout=2).status_code == ok:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < stop, f"{url} did not answer {ok}"
        time.sleep(0.05)


def files_under(root: Path, *, skip: set[Path]) -> Iterator[tuple[Path, str]]:
    for path in sorted(root.rglob("*")):
        if path.is_file() and path not in skip and not any(p in path.parents for p in skip):
            yield path, path.read_bytes().decode("utf-8", "replace")


def test_no_command_lets_the_admin_key_or_a_created_key_out(tmp_path: Path) -> None:
    desired = DESIRED_STATE
    key_file = tmp_path / "admin-key"
    key_file.write_text(ADMIN_KEY + "\n")
    key_file.chmod(0o600)
    sink = tmp_path / "sink"
    work = tmp_path / "work"
    work.mkdir()
    port, status_port = free_port(), free_port()
    base_url = f"http://127.0.0.1:{port}/v1"
    env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_ADMIN_KEY", "GITHUB_ACTIONS")}
    logs = tmp_path / "logs"
    logs.mkdir()
    procs = Processes({**env, "NO_COLOR": "1", "DATACONTROLS_BASE_URL": base_url}, logs, work)
    with_key = {"OPENAI_ADMIN_KEY": ADMIN_KEY}
    debug = ["--log-level", "debug", "--log-format", "json"]
    common = ["--desired-state", str(desired)]
    fetched: dict[str, str] = {}

    emulator = procs.start(
        "emulator",
        *debug,
        "emulator",
        "--port",
        str(port),
        "--seed",
        str(DEMO_SEED),
        "--rng-seed",
        "4",
        env={"DATACONTROLS_EMULATOR_ADMIN_KEY": ADMIN_KEY},
    )
    try:
        # Offline commands first, side by side while the emulator starts.
        offline = {
            "demo": procs.start("demo", *debug, "demo"),
            "schema": procs.start("schema", "schema"),
            "validate": procs.start("validate", *debug, "validate", *common),
        }
        for name, process in offline.items():
            procs.finish(name, process)
        wait_for(f"{base_url}/organization/projects", 401)

        plan_file, gitlab = work / "plan.json", work / "gitlab-report.json"
        procs.run(
            "dry-run text --out",
            *debug,
            "--dry-run",
            "--out",
            str(plan_file),
            "--gitlab-report",
            str(gitlab),
            "--secret-sink",
            str(sink),
            *common,
            env=with_key,
            expect=1,  # the demo plan weakens some controls: apply would refuse it unapproved, and so it fails
        )
        # Approved as a person would, by the saved plan's digest.
        approval = json.loads(plan_file.read_text())["plan_digest"]
        procs.run(
            "apply plan.json --secret-sink",
            *debug,
            "apply",
            str(plan_file),
            "--allow-unsafe",
            approval,
            "--secret-sink",
            str(sink),
            "--admin-key-file",
            str(key_file),
            *common,
        )
        procs.run(
            "apply --auto-approve --secret-sink",
            *debug,
            "--auto-approve",
            "--secret-sink",
            str(sink),
            *common,
            env=with_key,
        )
        for fmt in ("text", "json", "markdown"):
            procs.run(
                f"dry-run {fmt}", *debug, "--dry-run", "--detailed-exitcode", "--format", fmt, *common, env=with_key
            )
        procs.run("explain", *debug, "explain", *common, "--admin-key-file", str(key_file))
        procs.run("export", *debug, "export", "--out", str(work / "exported"), env=with_key)

        serve = procs.start(
            "serve",
            "serve",
            *common,
            "--listen",
            f"127.0.0.1:{status_port}",
            "--interval",
            "1h",
            "--max-requests-per-minute",
            "6000",  # the first sweep at once: this test is about what the output holds, not the budget
            "--mode",
            "enforce",
            "--log-level",
            "debug",
            "--log-format",
            "json",
            "--admin-key-file",
            str(key_file),
        )
        try:
            wait_for(f"http://127.0.0.1:{status_port}/readyz", 200)
            for probe in ("/healthz", "/readyz", "/metrics", "/status"):
                fetched[f"serve {probe}"] = httpx.get(f"http://127.0.0.1:{status_port}{probe}", timeout=5).text
        finally:
            serve.process.send_signal(signal.SIGTERM)
        procs.finish("serve", serve)

        with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {ADMIN_KEY}"}, timeout=5) as http:
            state = http.get(f"{base_url.removesuffix('/v1')}/_emulator/state")
            fetched["emulator state"] = state.text
            fetched["audit log"] = http.get("/organization/audit_logs").text
            for project in state.json()["projects"]:
                where = f"/organization/projects/{project['id']}"
                fetched[f"{project['name']} service accounts"] = http.get(f"{where}/service_accounts").text
                fetched[f"{project['name']} api keys"] = http.get(f"{where}/api_keys?owner_project_access=any").text
    finally:
        emulator.process.send_signal(signal.SIGTERM)
    procs.finish("emulator", emulator)

    (written,) = sink.iterdir()
    assert written.name == "Analytics__analytics-etl.key"
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
    created = written.read_text().strip()
    assert created.startswith("sk-") and len(created) > 40

    corpus = {**procs.outputs, **fetched}
    corpus |= {str(path): text for path, text in files_under(tmp_path, skip={sink, key_file, logs})}
    everything = "\n".join(corpus.values())
    # The corpus is what it claims to be: logs at debug level, the plan, the created account and the metrics.
    assert '"event": "change_applied"' in everything and "request_served" in everything
    assert "analytics-etl" in corpus[str(plan_file)] and "datacontrols_runs_total" in fetched["serve /metrics"]
    assert str(written) in everything, "the plan says where the key goes"
    for secret, what in ((ADMIN_KEY, "the admin key"), (created, "the created key"), (_DEMO_KEY, "the demo's key")):
        found = {name: leaked(secret, text) for name, text in corpus.items() if leaked(secret, text)}
        assert not found, f"{what} leaked: {found}"
    report(
        "secrets",
        commands=sorted({name.rsplit(" (", 1)[0] for name in procs.outputs}),
        outputs_searched=len(corpus),
        bytes_searched=len(everything),
        fragment_length=FRAGMENT,
        leaks_found=0,
    )
