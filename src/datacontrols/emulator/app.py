"""The emulator: state + configuration + the ASGI app that serves the Admin API from them.

Every request under /v1 goes through one pipeline, in this order:

    bearer admin key (401)  ->  route match (404)  ->  injected latency  ->  rate limit (429)
    ->  fault before the handler  ->  handler (changes state)  ->  fault after the handler (writes only)

and is recorded in `emulator.requests`, whatever its outcome. `GET /_emulator/state` (admin key required)
answers the state in the seed format, for dumping a running server.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import httpx
import structlog
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from datacontrols.emulator.asgi import DROP_HEADERS, ConnectionDropped, transport
from datacontrols.emulator.errors import ApiFailure
from datacontrols.emulator.faults import NO_FAULT, FaultConfig, FaultDecision, FaultInjector
from datacontrols.emulator.ratelimit import RateLimitConfig, RateLimiter
from datacontrols.emulator.requestlog import RequestLog, RequestLogEntry
from datacontrols.emulator.routes import all_routes
from datacontrols.emulator.routes.audit_logs import ACTOR_HEADER, session_actor
from datacontrols.emulator.routing import Call, RouteTable
from datacontrols.emulator.seed import SeedDocument, SeedSource, dump_state, load_seed, state_from_seed
from datacontrols.emulator.state import DEFAULT_PROJECT_NAME, EmulatorState, Event, IdFactory, ProjectRecord
from datacontrols.redaction import redact_value, register_secret

__all__ = ["API_PREFIX", "Emulator", "create_app"]

API_PREFIX = "/v1"
_ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
log = structlog.get_logger("datacontrols.emulator")


class _Drop(Exception):
    """Internal: this request's connection is to be cut."""


class Emulator:
    """An in-memory organization behind a fake Admin API.

        emulator = Emulator(admin_key="sk-admin-test", rng_seed=0)
        api = AdminApi.connect(admin_key="sk-admin-test", http_transport=emulator.http_transport())

    Without a seed the organization has one project, "Default project", marked default.
    """

    def __init__(
        self,
        *,
        admin_key: str | SecretStr,
        seed: SeedSource | SeedDocument | None = None,
        faults: FaultConfig | Sequence[FaultConfig] | None = None,
        rate_limit: RateLimitConfig | None = None,
        rng_seed: int | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        approved_retention_types: Sequence[str] | None = None,
    ) -> None:
        key = admin_key if isinstance(admin_key, SecretStr) else SecretStr(admin_key)
        if not key.get_secret_value():
            raise ValueError("the emulator needs a non-empty admin key")
        register_secret(key.get_secret_value())
        self._admin_key = key
        self._rng_seed = rng_seed
        self._clock = clock
        self._sleep = sleep
        self._ids = IdFactory(rng_seed)
        self._routes = RouteTable(all_routes())
        self._lock = threading.RLock()  # handlers and dumps may run on a server thread and a test thread
        self._app: Starlette | None = None
        self.state = EmulatorState()
        self.faults = faults
        self.rate_limit = rate_limit
        self.load_seed(seed)
        if approved_retention_types is not None:
            self.state.organization.approved_retention_types = list(approved_retention_types)

    def __repr__(self) -> str:
        return f"Emulator(projects={len(self.state.projects)}, requests={len(self.state.requests)})"

    # --- configuration that tests change on the fly --------------------------------------------------

    @property
    def faults(self) -> tuple[FaultConfig, ...]:
        return self._faults.configs

    @faults.setter
    def faults(self, faults: FaultConfig | Sequence[FaultConfig] | None) -> None:
        configs = () if faults is None else (faults,) if isinstance(faults, FaultConfig) else tuple(faults)
        self._faults = FaultInjector(configs, self._rng_seed)

    @property
    def rate_limit(self) -> RateLimitConfig | None:
        return self._limiter.config if self._limiter is not None else None

    @rate_limit.setter
    def rate_limit(self, config: RateLimitConfig | None) -> None:
        self._limiter = RateLimiter(config, self._clock) if config is not None else None

    # --- state ---------------------------------------------------------------------------------------

    @property
    def requests(self) -> RequestLog:
        return self.state.requests

    @property
    def events(self) -> list[Event]:
        return self.state.events

    def now(self) -> int:
        return int(self._clock())

    def load_seed(self, seed: SeedSource | SeedDocument | None) -> None:
        """Replace the whole state (request log and events included) with a seed's, or a fresh org's."""
        with self._lock:
            if seed is None:
                state = EmulatorState()
                default = ProjectRecord(
                    id=self._ids.resource("proj_"), name=DEFAULT_PROJECT_NAME, created_at=self.now(), default=True
                )
                state.projects[default.id] = default
            else:
                state = state_from_seed(load_seed(seed), self._ids, self.now())
            self.state = state

    def dump_state(self) -> dict[str, Any]:
        """The state in the seed format."""
        with self._lock:
            return dump_state(self.state)

    # --- serving ---------------------------------------------------------------------------------------

    @property
    def app(self) -> Starlette:
        if self._app is None:
            self._app = Starlette(routes=[Route("/_emulator/state", self._state_endpoint, methods=_ALL_METHODS)])
            # Every other path goes to the API pipeline as the router's fallback, not through a `{path:path}`
            # route: that route's regex stops at a decoded newline (`%0A`), and Starlette then answered its own
            # text/plain "Not Found" instead of the API's JSON 404.
            self._app.router.default = _ApiEndpoint(self)
            self._app.router.redirect_slashes = False  # `/_emulator/state/` is an unknown path, not a redirect
            self._app.state.emulator = self
        return self._app

    def http_transport(self) -> httpx.AsyncBaseTransport:
        """An in-process httpx transport to this emulator (no sockets)."""
        return transport(self.app)

    async def _state_endpoint(self, request: Request) -> Response:
        request_id = self._ids.request()
        try:
            self._authorize(request.headers.get("authorization"))
            # Starlette's route regex ends in `$`, which also matches before a trailing (decoded) newline.
            if request.method != "GET" or request.scope["path"] != "/_emulator/state":
                raise ApiFailure.unknown_url(request.method, request.url.path)
        except ApiFailure as failure:
            return JSONResponse(failure.body(), failure.status, headers={"x-request-id": request_id})
        return JSONResponse(self.dump_state(), headers={"x-request-id": request_id})

    def _authorize(self, header: str | None) -> None:
        scheme, _, token = (header or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiFailure.missing_key()
        expected = self._admin_key.get_secret_value().encode()
        if not hmac.compare_digest(token.strip().encode(), expected):
            raise ApiFailure.wrong_key()

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer one API request (the ASGI entry for every path but /_emulator/)."""
        request = Request(scope, receive)
        method = request.method
        path = request.url.path
        request_id = self._ids.request()
        arrived = self._clock()
        try:
            raw_body = await request.body()
        except ClientDisconnect:
            return  # the client went away before its request arrived whole: no one to answer, nothing done
        query = dict(request.query_params.items())
        api_path = path[len(API_PREFIX) :] if path.startswith(API_PREFIX + "/") else None
        match = self._routes.match(method, api_path) if api_path is not None else None
        template = match[0].template if match else None
        decision: FaultDecision = NO_FAULT
        struck: str | None = None  # the injected fault that answered this request, if one did
        applied = False
        headers: dict[str, str] = {}
        try:
            self._authorize(request.headers.get("authorization"))
            if match is None or api_path is None:
                raise ApiFailure.unknown_url(method, path)
            route, params = match
            decision = self._faults.decide(method, api_path, route.template)
            if decision.latency:
                await self._sleep(decision.latency)
            endpoint = f"{method} {route.template}"
            self._check_rate_limit(endpoint)
            if decision.kind is not None and not decision.after_apply:
                struck = decision.kind
                _strike(decision, endpoint)
            with self._lock:
                call = Call(
                    state=self.state,
                    ids=self._ids,
                    now=self.now(),
                    method=method,
                    template=route.template,
                    params=params,
                    query=query,
                    raw_body=raw_body,
                    raw_query=tuple(request.query_params.multi_items()),
                    actor=session_actor(request.headers.get(ACTOR_HEADER)),
                )
                status, payload = 200, route.handler(call)
                applied = True
            if decision.kind is not None and decision.after_apply:
                struck = decision.kind
                _strike(decision, endpoint)
        except ApiFailure as failure:
            status, payload, headers = failure.status, failure.body(), failure.headers
        except _Drop:
            self._record(method, path, template, None, arrived, request_id, query, raw_body, struck, applied)
            await send({"type": "http.response.start", "status": 200, "headers": DROP_HEADERS})
            raise ConnectionDropped from None
        self._record(method, path, template, status, arrived, request_id, query, raw_body, struck, applied)
        response = JSONResponse(payload, status, headers={"x-request-id": request_id, **headers})
        await response(scope, receive, send)

    def _check_rate_limit(self, endpoint: str) -> None:
        if self._limiter is None:
            return
        wait = self._limiter.take(endpoint)
        if wait is not None:
            raise ApiFailure.rate_limited(endpoint, wait if self._limiter.config.send_retry_after else None)

    def _record(
        self,
        method: str,
        path: str,
        template: str | None,
        status: int | None,
        arrived: float,
        request_id: str,
        query: dict[str, str],
        raw_body: bytes,
        fault: str | None,
        applied: bool,
    ) -> None:
        entry = RequestLogEntry(
            method=method,
            path=path,
            template=template,
            status=status,
            time=arrived,
            request_id=request_id,
            query=query,
            body=_redacted_body(raw_body),
            fault=fault,
            applied=applied,
        )
        self.state.requests.append(entry)
        log.debug(
            "request_served",
            method=method,
            endpoint=template or path,
            status=status,
            fault=fault,
            request_id=request_id,
        )


class _ApiEndpoint:
    """An ASGI app (not a request/response function) so it can start a response and then cut it."""

    def __init__(self, emulator: Emulator) -> None:
        self._emulator = emulator

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._emulator.handle(scope, receive, send)


def _strike(decision: FaultDecision, endpoint: str) -> None:
    """Answer with the injected fault instead of the handler's result."""
    if decision.kind == "dropped":
        raise _Drop
    if decision.kind == "server_error":
        raise ApiFailure.server_error(decision.status or 500)
    raise ApiFailure.rate_limited(endpoint, decision.retry_after)  # None for rate_limited_no_retry_after


def _redacted_body(raw: bytes) -> Any:
    if not raw.strip():
        return None
    try:
        return redact_value(json.loads(raw))
    except ValueError:
        return None


def create_app(**options: Any) -> Starlette:
    """A Starlette app serving a new `Emulator(**options)`; the emulator is at `app.state.emulator`."""
    return Emulator(**options).app
