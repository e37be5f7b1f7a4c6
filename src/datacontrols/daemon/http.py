"""The daemon's HTTP side: `/healthz`, `/readyz`, `/metrics`, `/status`, served by uvicorn in the daemon's loop.

Every endpoint is an `async def` answered on the event loop that runs the reconciles, so a wedged loop makes
the probes time out, which is what a liveness probe is for.

    /healthz   200 unless the process is wedged (never because the Admin API is down)
    /readyz    200 after the first run that completed with a valid desired state; 503 while the desired
               state is invalid, before that first run, and once shutdown has begun
    /metrics   Prometheus text exposition
    /status    JSON: states and counts; with `Authorization: Bearer <DATACONTROLS_STATUS_TOKEN>` the last run
               in full (plan JSON v1, drift with authors, requests); a wrong token gets 401 (`status`)
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Generator

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from datacontrols.daemon.connection_guard import DEFAULT_HEADER_TIMEOUT, DEFAULT_MAX_CONNECTIONS, guarded_protocol
from datacontrols.daemon.metrics import CONTENT_TYPE_LATEST
from datacontrols.daemon.status import SUMMARY_NOTE, summary_status
from datacontrols.daemon.view import DaemonView
from datacontrols.errors import ConfigError

__all__ = ["HttpServer", "create_app"]

_NO_STORE = {"Cache-Control": "no-store"}


def create_app(daemon: DaemonView) -> Starlette:
    """The ASGI app of the probes, metrics and status of one daemon."""

    async def healthz(request: Request) -> Response:
        ok, body = daemon.liveness()
        return JSONResponse(body, 200 if ok else 503, headers=_NO_STORE)

    async def readyz(request: Request) -> Response:
        ok, body = daemon.readiness()
        return JSONResponse(body, 200 if ok else 503, headers=_NO_STORE)

    async def metrics(request: Request) -> Response:
        return Response(daemon.render_metrics(), headers={"Content-Type": CONTENT_TYPE_LATEST, **_NO_STORE})

    async def status(request: Request) -> Response:
        access = daemon.status_access.check(request.headers.get("authorization"))
        if access == "denied":
            body = {"error": "the status token is not accepted", "hint": SUMMARY_NOTE}
            return JSONResponse(body, 401, headers={"WWW-Authenticate": 'Bearer realm="status"', **_NO_STORE})
        document = daemon.status()
        return JSONResponse(document if access == "full" else summary_status(document), headers=_NO_STORE)

    return Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET", "HEAD"]),
            Route("/readyz", readyz, methods=["GET", "HEAD"]),
            Route("/metrics", metrics, methods=["GET", "HEAD"]),
            Route("/status", status, methods=["GET", "HEAD"]),
        ]
    )


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: the daemon handles SIGTERM and drains first."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


class HttpServer:
    """uvicorn serving `create_app(daemon)` on host:port, as a task of the running loop."""

    def __init__(
        self,
        daemon: DaemonView,
        host: str,
        port: int,
        *,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        header_timeout: float = DEFAULT_HEADER_TIMEOUT,
    ) -> None:
        self.host = host
        self._protocol = guarded_protocol(max_connections=max_connections, header_timeout=header_timeout)
        self.requested_port = port
        self.port: int | None = None
        self._app = create_app(daemon)
        self._server: _Server | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Bind (a taken port is a ConfigError, said at once) and serve; returns once it accepts connections."""
        sock = _bind(self.host, self.requested_port)
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self._app,
            log_config=None,  # keep the daemon's structlog configuration
            access_log=False,  # probes every few seconds would drown the run logs
            lifespan="off",
            timeout_graceful_shutdown=2,
            http=self._protocol,  # bounded connections, none held without a request (connection_guard)
            timeout_keep_alive=5,
            backlog=1024,
        )
        self._server = _Server(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]), name="http")
        while not self._server.started:
            if self._task.done():
                self._task.result()  # re-raise what stopped it
                raise ConfigError(f"the HTTP server on {self.host}:{self.port} stopped while starting")
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        if self._server is None or self._task is None:
            return
        self._server.should_exit = True
        with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError, Exception):
            await asyncio.wait_for(self._task, timeout=3)
        self._server = None


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigError(
            f"--listen {host}:{port}: cannot listen there ({exc.strerror or type(exc).__name__})"
        ) from None
    sock.setblocking(False)
    return sock
