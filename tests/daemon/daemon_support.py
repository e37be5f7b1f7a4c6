"""Helpers the daemon tests share: a daemon wired to an in-process emulator, free ports.

A module of its own (not conftest): pytest imports test directories' conftests by a shared name.
"""

from __future__ import annotations

import contextlib
import io
import logging
import socket
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import structlog
from pydantic import SecretStr

from testsupport.clock import SharedClock
from testsupport.spec import HttpxOpenAPIRequest, HttpxOpenAPIResponse

_CLI_TESTS = str(Path(__file__).resolve().parents[1] / "cli")
if _CLI_TESTS not in sys.path:
    sys.path.append(_CLI_TESTS)

# Re-exported for the daemon tests: the CLI tests' organization builders, not copies of them.
from cli_support import approved_demo_seed as approved_demo_seed  # noqa: E402
from cli_support import one_project_desired as one_project_desired  # noqa: E402
from cli_support import one_project_seed as one_project_seed  # noqa: E402

from datacontrols.daemon import Daemon, DaemonMetrics, DaemonSettings, Notifier  # noqa: E402
from datacontrols.daemon.view import ProbeServerFactory  # noqa: E402
from datacontrols.emulator import Emulator  # noqa: E402
from datacontrols.logging import configure_logging  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
DESIRED_STATE = REPO / "desired_state"
DEMO_SEED = REPO / "src" / "datacontrols" / "demo_seed.yaml"
ADMIN_KEY = "sk-admin-daemon-tests-5f1c0a9e77d24b1"
STATUS_TOKEN = "status-token-daemon-tests-0c4e9b1d"  # DATACONTROLS_STATUS_TOKEN: the full /status
BEARER = {"Authorization": f"Bearer {STATUS_TOKEN}"}

BASE_URL = "https://api.openai.com/v1"


def settings(**overrides: Any) -> DaemonSettings:
    values: dict[str, Any] = {"desired_state": DESIRED_STATE, "listen": "127.0.0.1:0", "interval": 60.0}
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


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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
