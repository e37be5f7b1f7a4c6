"""Helpers the daemon tests share: virtual time, a daemon wired to an in-process emulator, free ports.

A module of its own (not conftest): pytest imports test directories' conftests by a shared name.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import io
import itertools
import json
import logging
import os
import socket
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import structlog
from pydantic import SecretStr

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
START = 1_780_000_000.0


class VirtualClock:
    """Time that passes only in sleeps, and passes for everyone at once.

    A sleeper wakes when every other task has had its turn and no sleeper is due sooner; the clock then
    jumps to its wake-up time. So N requests waiting out one Retry-After of 6 s cost 6 virtual seconds, not
    6 x N, as they would if each sleep advanced the clock on its own.
    """

    def __init__(self, start: float = START) -> None:
        self.now = start
        self.slept: list[float] = []
        self._waiters: list[tuple[float, int]] = []
        self._order = itertools.count()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        entry = (self.now + max(0.0, seconds), next(self._order))
        heapq.heappush(self._waiters, entry)
        try:
            while True:
                for _ in range(20):  # let every ready task run up to its own sleep first
                    await asyncio.sleep(0)
                if self._waiters and self._waiters[0] == entry:
                    heapq.heappop(self._waiters)
                    self.now = max(self.now, entry[0])
                    return
        except BaseException:
            if entry in self._waiters:
                self._waiters.remove(entry)
                heapq.heapify(self._waiters)
            raise


def settings(**overrides: Any) -> DaemonSettings:
    values: dict[str, Any] = {"desired_state": DESIRED_STATE, "listen": "127.0.0.1:0", "interval": 60.0}
    values.update(overrides)
    return DaemonSettings(**values)


def daemon_for(
    emulator: Emulator,
    *,
    clock: VirtualClock | None = None,
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


def spec_path() -> Path:
    configured = os.environ.get("OPENAI_ADMIN_SPEC")
    if configured:
        return Path(configured)
    return REPO.parent / "shared" / "openai-admin-api" / "openapi-admin-subset.json"


def load_spec() -> dict[str, Any]:
    return json.loads(spec_path().read_text(encoding="utf-8"))  # type: ignore[no-any-return]


class _SpecRequest:
    """An httpx request in the shape openapi-core reads."""

    def __init__(self, request: Any) -> None:
        from openapi_core.datatypes import RequestParameters
        from werkzeug.datastructures import Headers, ImmutableMultiDict

        self._request = request
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(list(request.url.params.multi_items())),
            header=Headers(list(request.headers.items())),
            cookie=ImmutableMultiDict(),
        )

    @property
    def host_url(self) -> str:
        return "https://api.openai.com"

    @property
    def path(self) -> str:
        return str(self._request.url.path)

    @property
    def method(self) -> str:
        return str(self._request.method).lower()

    @property
    def body(self) -> bytes | None:
        return self._request.content or None

    @property
    def content_type(self) -> str:
        return str(self._request.headers.get("content-type", "application/json")).lower()


class _SpecResponse:
    def __init__(self, response: Any) -> None:
        from werkzeug.datastructures import Headers

        self.data = response.content
        self.status_code = response.status_code
        self.content_type = response.headers.get("content-type", "")
        self.headers = Headers(list(response.headers.items()))


def validate_response(openapi: Any, response: Any) -> None:
    """Check a 200 answer against the official spec (openapi-core raises on any mismatch)."""
    openapi.validate_response(_SpecRequest(response.request), _SpecResponse(response))
