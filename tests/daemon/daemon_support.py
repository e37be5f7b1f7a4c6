"""Helpers the daemon tests share: a daemon wired to an in-process emulator, free ports.

A module of its own (not conftest): pytest imports test directories' conftests by a shared name.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
from collections.abc import AsyncIterator, Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import structlog

# Re-exported for the daemon tests: the CLI tests' organization builders, not copies of them.
from cli_support import approved_demo_seed as approved_demo_seed
from cli_support import free_port as free_port
from cli_support import one_project_desired as one_project_desired
from cli_support import one_project_seed as one_project_seed
from pydantic import SecretStr

from datacontrols.daemon import Daemon, DaemonMetrics, DaemonSettings, Notifier
from datacontrols.daemon.http import create_app
from datacontrols.daemon.leader import LeaderElection
from datacontrols.daemon.view import ProbeServerFactory
from datacontrols.emulator import Emulator
from datacontrols.logging import configure_logging
from testsupport.clock import SharedClock
from testsupport.spec import HttpxOpenAPIRequest, HttpxOpenAPIResponse

REPO = Path(__file__).resolve().parents[2]
DESIRED_STATE = REPO / "desired_state"
DEMO_SEED = REPO / "src" / "datacontrols" / "demo_seed.yaml"
ADMIN_KEY = "sk-admin-daemon-tests-5f1c0a9e77d24b1"
STATUS_TOKEN = "status-token-daemon-tests-0c4e9b1d"  # DATACONTROLS_STATUS_TOKEN: the full /status
BEARER = {"Authorization": f"Bearer {STATUS_TOKEN}"}

BASE_URL = "https://api.openai.com/v1"


def settings(**overrides: Any) -> DaemonSettings:
    values: dict[str, Any] = {
        "desired_state": DESIRED_STATE,
        "listen": "127.0.0.1:0",
        "interval": 60.0,
        "max_requests_per_minute": 60_000.0,  # the cap has its own tests; here it would only slow runs down
    }
    values.update(overrides)
    return DaemonSettings(**values)


def daemon_for(
    emulator: Emulator,
    *,
    clock: SharedClock | None = None,
    notifier: Notifier | None = None,
    api_options: Mapping[str, Any] | None = None,
    probe_server: ProbeServerFactory | None = None,
    admin_key: str = ADMIN_KEY,
    leader: LeaderElection | None = None,
    **overrides: Any,
) -> Daemon:
    """A daemon whose client talks to `emulator` in-process (no sockets), on `clock` when given."""
    options: dict[str, Any] = {"http_transport": emulator.http_transport()}
    if clock is not None:
        options |= {"sleep": clock.sleep, "clock": clock}
    options.update(api_options or {})
    metrics = DaemonMetrics()
    time_options: dict[str, Any] = {"clock": clock, "monotonic": clock} if clock is not None else {}
    return Daemon(
        settings(**overrides),
        admin_key=SecretStr(admin_key),
        base_url=BASE_URL,
        metrics=metrics,
        notifier=notifier,
        api_options=options,
        probe_server=probe_server,
        leader=leader,
        **time_options,
    )


@contextlib.contextmanager
def capture_logs() -> Iterator[io.StringIO]:
    """Every log line (debug and up, JSON) written while inside, in a buffer; the logging set-up restored after."""
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    saved_structlog = structlog.get_config()
    buffer = io.StringIO()
    configure_logging("debug", "json", stream=buffer)
    try:
        yield buffer
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in saved_handlers:
            root.addHandler(handler)
        root.setLevel(saved_level)
        structlog.configure(**saved_structlog)


WEBHOOK = "https://hooks.example.com/services/T0/B0/secret-path-token"  # its path is a secret


class Hook:
    """A webhook receiver: records each message posted to it, then answers `status` (or raises `error`)."""

    def __init__(self, status: int = 200, error: Exception | None = None) -> None:
        self.status = status
        self.error = error
        self.posted: list[dict[str, Any]] = []

    def transport(self) -> httpx.MockTransport:
        def handle(request: httpx.Request) -> httpx.Response:
            assert str(request.url) == WEBHOOK
            self.posted.append(json.loads(request.content))
            if self.error is not None:
                raise self.error
            return httpx.Response(self.status)

        return httpx.MockTransport(handle)

    def notifier(self, fmt: str = "json", metrics: DaemonMetrics | None = None) -> Notifier:
        return Notifier(SecretStr(WEBHOOK), fmt, metrics=metrics, transport=self.transport())  # type: ignore[arg-type]

    def events(self) -> list[str]:
        return [message["event"] for message in self.posted]


@contextlib.asynccontextmanager
async def daemon_http(daemon: Daemon) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the daemon's HTTP side (probes, metrics, status), served in-process."""
    transport = httpx.ASGITransport(app=create_app(daemon))
    async with httpx.AsyncClient(transport=transport, base_url="http://daemon") as client:
        yield client


async def fix_hosted_tools_by_hand(emulator: Emulator, project_id: str = "proj_support") -> None:
    """What a person does in the dashboard: set a project's hosted tools to what the seed's files want."""
    async with httpx.AsyncClient(
        transport=emulator.http_transport(), base_url=BASE_URL, headers={"Authorization": f"Bearer {ADMIN_KEY}"}
    ) as raw:
        tools = {"web_search": False, "code_interpreter": False, "mcp": False, "file_search": True}
        answer = await raw.post(
            f"/organization/projects/{project_id}/hosted_tool_permissions",
            json={tool: {"enabled": on} for tool, on in tools.items()},
        )
        assert answer.is_success


def metric_value(text: str, name: str, **labels: str) -> float | None:
    """The value of one sample in Prometheus text, or None when absent."""
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        head, _, value = line.rpartition(" ")
        metric, _, label_text = head.partition("{")
        if metric != name:
            continue
        found = dict(part.split("=", 1) for part in label_text.rstrip("}").split(",") if part)
        found = {k: v.strip('"') for k, v in found.items()}
        if all(found.get(k) == v for k, v in labels.items()) and (labels or not label_text):
            return float(value)
    return None


def validate_response(openapi: Any, response: Any) -> None:
    """Check a 200 answer against the official spec (openapi-core raises on any mismatch)."""
    openapi.validate_response(HttpxOpenAPIRequest(response.request), HttpxOpenAPIResponse(response))
