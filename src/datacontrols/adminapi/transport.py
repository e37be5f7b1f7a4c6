"""The transport core every endpoint family uses: one httpx.AsyncClient, retries, pagination, errors.

What lives here, and only here:
- Retries. 429, 5xx, 408, 409 and connection failures are retried with exponential backoff and jitter,
  honouring `retry-after-ms`, then `Retry-After` (seconds or HTTP date), and obeying `x-should-retry`.
  Each call has a total retry budget (`RetryPolicy.budget_seconds`). Bare 429s (no Retry-After) in a row
  look like a quota stop and end the call after `RetryPolicy.unhinted_429_retries` retries.
- Write safety. A POST or DELETE is retried only when the server certainly did not act on it (connection
  never made, 429, or `x-should-retry: true`). When the outcome is unknown (a timeout after sending, a
  dropped connection, any 5xx), the caller's `recheck` re-reads the resource: if the write took effect its
  result is used, otherwise the write is sent again. Without a `recheck`, or when the re-read fails too,
  `OutcomeUnknown` is raised and nothing is resent. A 503 is no exception: a proxy answers 503 when its
  upstream resets after the handler ran, so resending it blindly created duplicates (tests/reliability).
- Concurrency. An adaptive limiter (additive increase, multiplicative decrease) caps requests in flight;
  a 429 halves the limit and, with a Retry-After, pauses every request to that endpoint until it passes.
- Pagination for both list styles of the spec (`first_id/last_id/has_more` and `next/has_more`).
- Error mapping: the error envelope (an object, or a bare string) becomes a typed `ApiError`. Only 2xx is
  success: the Admin API never redirects, and redirects are not followed.
- Read-only mode: a dry run gets a transport whose HTTP layer refuses anything but GET before sending.

The admin key is held in a `SecretStr`, sent only as the Authorization header, registered for redaction,
and never formatted into a message, a repr or a log line; httpx's and httpcore's own log records are
scrubbed too (httpcore's DEBUG trace prints response headers, which a proxy may echo the key into).
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
import structlog
from pydantic import SecretStr

from datacontrols import __version__
from datacontrols.errors import (
    ApiError,
    ApiUnreachable,
    AuthError,
    BadRequest,
    NotFound,
    RateLimited,
    TransientApiError,
    WriteRefused,
)
from datacontrols.redaction import redact, register_secret

__all__ = [
    "DEFAULT_BASE_URL",
    "AdaptiveLimiter",
    "OutcomeUnknown",
    "ReadOnlyHTTPTransport",
    "RequestRecord",
    "RetryPolicy",
    "Route",
    "Transport",
    "redacted_matches",
    "route",
]

DEFAULT_BASE_URL = "https://api.openai.com/v1"
USER_AGENT = f"openai-datacontrols/{__version__}"
_MIN_PACE = 0.1  # seconds: the shortest Retry-After that counts as pacing rather than a retry
_PACED_PER_RETRY = 10  # a rate-limited call may be told "come back later" this many times per allowed retry
RETRYABLE_STATUS = frozenset({408, 409, 429}) | frozenset(range(500, 600))

log = structlog.get_logger("datacontrols.adminapi")
T = TypeVar("T")


class OutcomeUnknown(TransientApiError):
    """A write may or may not have taken effect, and nothing could re-read it to find out."""

    def hint(self) -> str:
        return "The write may have taken effect; the next run re-reads live state and plans again"


@dataclass(frozen=True)
class Route:
    """A concrete path and the template it came from (the template labels metrics and logs)."""

    template: str
    path: str


_MASK = re.compile(r"\.{2,}|\u2026|\*+")


def redacted_matches(redacted_value: str, key: str) -> bool:
    """Whether `key` fits a redacted form: its visible start and end, around one mask (`...`, `…`, `***`).

    A redacted form without a mask, or one that shows fewer than six characters, matches nothing: too
    little to tell keys apart."""
    parts = _MASK.split(redacted_value.strip())
    if len(parts) != 2:
        return False
    prefix, suffix = parts
    if len(prefix) + len(suffix) < 6 or len(key) <= len(prefix) + len(suffix):
        return False
    return key.startswith(prefix) and key.endswith(suffix)


def route(template: str, **params: str) -> Route:
    """Fill a path template, URL-quoting each parameter: `route("/x/{id}", id="a b")`.

    An empty, `.` or `..` id is refused: quoting leaves dots alone and httpx removes dot segments, so
    `project_id=".."` would silently address another endpoint (`/organization/data_retention`).
    """
    for name, value in params.items():
        if value in ("", ".", ".."):
            raise ValueError(f"{name} {value!r} is not a usable id")
    return Route(template, template.format(**{k: quote(v, safe="") for k, v in params.items()}))


@dataclass(frozen=True)
class RetryPolicy:
    """How hard one call tries. Delays are capped; the whole call never exceeds `budget_seconds`."""

    max_retries: int = 6
    initial_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 120.0
    budget_seconds: float = 300.0
    # A 429 without Retry-After may be a quota or billing stop that waiting will not fix: after this many
    # retries met by such 429s in a row, give up rather than spend the whole budget.
    unhinted_429_retries: int = 2


@dataclass(frozen=True)
class RequestRecord:
    """One HTTP exchange, as metrics and the status page see it: no URL ids, no headers, no bodies."""

    method: str
    template: str
    status: int | None  # None: no HTTP answer (connection error, timeout)
    duration: float
    attempt: int


class AdaptiveLimiter:
    """Caps requests in flight; halves the cap on 429 and grows it back by one per `limit` successes.

    Only an exchange the server handled (`succeeded`) grows the cap: a 5xx or a dropped connection is no
    evidence that the API can take more.
    """

    def __init__(self, initial: int = 4, maximum: int = 8, minimum: int = 1) -> None:
        self.maximum = max(1, maximum)
        self.minimum = max(1, min(minimum, self.maximum))
        self.limit = float(min(max(initial, self.minimum), self.maximum))
        self.in_flight = 0
        self._cond = asyncio.Condition()

    def _room(self) -> int:
        return int(self.limit) - self.in_flight

    async def acquire(self) -> None:
        async with self._cond:
            try:
                await self._cond.wait_for(lambda: self._room() > 0)
            except asyncio.CancelledError:
                # This waiter may have been woken for a free slot and then cancelled: pass the wake-up on
                # (Python 3.11's Condition would lose it, and with it the slot, until the next release).
                self._cond.notify(max(self._room(), 0))
                raise
            self.in_flight += 1

    async def release(self, *, throttled: bool, succeeded: bool = True) -> None:
        async with self._cond:
            self.in_flight -= 1
            if throttled:
                self.limit = max(float(self.minimum), self.limit / 2)
            elif succeeded:
                self.limit = min(float(self.maximum), self.limit + 1 / max(self.limit, 1.0))
            # Wake only as many waiters as there are free slots. notify_all woke every waiter on every
            # release: with thousands of reads queued (a large organization) that cost O(waiters) per
            # request and made a dry run CPU-bound (measured in benchmarks/: 2.4x the latency bound).
            self._cond.notify(max(self._room(), 0))


class ReadOnlyHTTPTransport(httpx.AsyncBaseTransport):
    """Wraps a real transport and refuses every request that is not GET, before it is sent.

    A dry run is built on this object. It is not a flag consulted by callers: the write simply cannot pass.
    """

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method != "GET":
            raise WriteRefused(f"refused {request.method} {request.url.path}: this is a read-only (dry-run) client")
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


class _RedactingFilter(logging.Filter):
    """Scrubs secrets out of httpx/httpcore log records before any handler sees them.

    httpcore's DEBUG trace prints response headers verbatim, so a server or proxy that echoes the
    Authorization header back would otherwise put the admin key into a log line.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


# Logger filters do not apply to child loggers, so each logger httpx and httpcore write to is named.
_LIBRARY_LOGGERS = (
    "httpx",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
)
_REDACTING_FILTER = _RedactingFilter()


def _guard_library_logs() -> None:
    for name in _LIBRARY_LOGGERS:
        library_log = logging.getLogger(name)
        if _REDACTING_FILTER not in library_log.filters:
            library_log.addFilter(_REDACTING_FILTER)


class Transport:
    """The single HTTP client of a run. Endpoint families call `get`, `write` and `paginate`."""

    def __init__(
        self,
        *,
        admin_key: str | SecretStr,
        base_url: str = DEFAULT_BASE_URL,
        http_transport: httpx.AsyncBaseTransport | None = None,
        read_only: bool = False,
        timeout: float = 30.0,
        connect_timeout: float = 5.0,
        max_connections: int = 8,
        concurrency: int = 4,
        max_concurrency: int = 8,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        on_request: Callable[[RequestRecord], None] | None = None,
    ) -> None:
        key = admin_key if isinstance(admin_key, SecretStr) else SecretStr(admin_key)
        register_secret(key.get_secret_value())
        self._admin_key = key
        _guard_library_logs()
        inner = http_transport or httpx.AsyncHTTPTransport(
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
        )
        self.read_only = read_only
        self.base_url = base_url.rstrip("/")
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            transport=ReadOnlyHTTPTransport(inner) if read_only else inner,
            headers={
                "Authorization": f"Bearer {key.get_secret_value()}",
                "User-Agent": USER_AGENT,
                "Accept": "application/json",
            },
            timeout=httpx.Timeout(timeout, connect=connect_timeout),
            follow_redirects=False,
        )
        self.retry = retry or RetryPolicy()
        self.limiter = AdaptiveLimiter(concurrency, max_concurrency)
        self._sleep = sleep
        self._clock = clock
        self._on_request = on_request
        self._cooldown_until: dict[str, float] = {}
        self.requests: list[RequestRecord] = []

    def admin_key_matches(self, redacted_value: str) -> bool:
        """Whether a redacted key as the admin key list shows it (`sk-admin...xyz`) fits the key in use.

        The answer is a yes or no; nothing derived from the key leaves the transport."""
        return redacted_matches(redacted_value, self._admin_key.get_secret_value())

    def __repr__(self) -> str:
        mode = "read-only" if self.read_only else "read-write"
        return f"Transport(base_url={self.base_url!r}, {mode})"

    async def aclose(self) -> None:
        await self._http.aclose()

    # --- the calls families make -------------------------------------------------------------------

    async def get(self, where: Route, *, params: Mapping[str, Any] | None = None) -> Any:
        """GET and return the decoded JSON body; retried freely (reads are idempotent)."""
        return await self._call("GET", where, params=params)

    async def write(
        self,
        method: str,
        where: Route,
        *,
        body: Mapping[str, Any] | None = None,
        recheck: Callable[[], Awaitable[T | None]] | None = None,
    ) -> Any:
        """POST or DELETE. When the outcome is unknown, `recheck()` re-reads: a non-None result means the
        write took effect and is returned as the result; None means it did not, and the write is resent.
        Without a recheck, or if the re-read itself fails, `OutcomeUnknown` is raised instead."""
        return await self._call(method, where, body=body, recheck=recheck)

    async def paginate(
        self, where: Route, *, params: Mapping[str, Any] | None = None, page_size: int = 100
    ) -> AsyncIterator[dict[str, Any]]:
        """Yield every item of a list endpoint, following either pagination style to its end."""
        after: str | None = None
        seen: set[str] = set()
        while True:
            query = {**(params or {}), "limit": page_size}
            if after is not None:
                query["after"] = after
            page = await self.get(where, params=query)
            if not isinstance(page, dict) or not isinstance(data := page.get("data") or [], list):
                raise ApiError("a list page was not a list object", method="GET", path=where.template)
            for item in data:
                yield item
            if not page.get("has_more"):
                return
            if "next" in page:  # style B: an opaque cursor
                cursor = page.get("next")
            else:  # style A: the last id of the page
                last = data[-1] if data else None
                cursor = page.get("last_id") or (last.get("id") if isinstance(last, dict) else None)
            if not cursor or cursor in seen:
                raise ApiError(
                    "the list said has_more but gave no new cursor; stopping to avoid a loop",
                    method="GET",
                    path=where.template,
                )
            seen.add(cursor)
            after = cursor

    # --- the retry loop ----------------------------------------------------------------------------

    async def _call(
        self,
        method: str,
        where: Route,
        *,
        params: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
        recheck: Callable[[], Awaitable[Any]] | None = None,
    ) -> Any:
        is_write = method != "GET"
        started = self._clock()
        # Time spent queued (behind a shared 429 cooldown or the concurrency limit) is pacing, not failure:
        # it does not count against the budget, or a rate-limited endpoint with a long queue would fail calls
        # that never got a turn. Likewise a 429 that says when to come back draws on a larger allowance of its
        # own rather than on the retries meant for failures.
        queued = 0.0
        attempt = 0
        retries = 0
        paced_retries = 0
        unhinted_429s = 0
        while True:
            attempt += 1
            cooldown_from = self._clock()
            await self._wait_cooldown(where.template)
            queued += self._clock() - cooldown_from
            response, failure, waited = await self._send(method, where, params, body, attempt)
            queued += waited
            if response is not None and 200 <= response.status_code < 300:
                return _decode(response, method, where)

            error = failure or _error_from(response, method, where)  # type: ignore[arg-type]
            # A quota or billing stop answers a bare 429 every time; count only those in a row, so a 503 or
            # a hinted 429 in between (ordinary busy-ness) does not use up this small allowance.
            bare_429 = response is not None and response.status_code == 429 and _is_unhinted(response, self.retry)
            unhinted_429s = unhinted_429s + 1 if bare_429 else 0
            decision = self._decide(response, failure, is_write, unhinted_429s)
            if decision == "fail":
                raise error
            if decision == "unknown":
                confirmed = await self._recheck(recheck, error, method, where)
                if confirmed is not None:
                    log.info("write_confirmed_by_reread", method=method, endpoint=where.template)
                    return confirmed
            delay = self._delay(response, attempt)
            # Only a real pause counts as pacing (a zero hint would let a call spin without spending budget).
            paced = response is not None and response.status_code == 429 and not bare_429 and delay >= _MIN_PACE
            if paced:
                paced_retries += 1
            else:
                retries += 1
            spent = self._clock() - started - queued
            out_of_tries = retries > self.retry.max_retries or paced_retries > self.retry.max_retries * _PACED_PER_RETRY
            if out_of_tries or spent + delay > self.retry.budget_seconds:
                raise error
            log.info(
                "api_request_retried",
                method=method,
                endpoint=where.template,
                status=response.status_code if response is not None else None,
                attempt=attempt,
                delay_s=round(delay, 3),
            )
            await self._sleep(delay)

    async def _recheck(
        self,
        recheck: Callable[[], Awaitable[Any]] | None,
        error: ApiError,
        method: str,
        where: Route,
    ) -> Any:
        """Re-read after a write whose outcome is unknown; None means "did not take effect, resend"."""
        if recheck is None:
            raise OutcomeUnknown(
                f"the outcome of this write is unknown ({error.api_message})",
                status=error.status,
                method=method,
                path=where.template,
                request_id=error.request_id,
            ) from error
        try:
            return await recheck()
        except TransientApiError as exc:
            # The re-read failed too: the write may still have happened, so resending blindly is unsafe.
            raise OutcomeUnknown(
                f"the outcome of this write is unknown ({error.api_message}) and re-reading failed ({exc.api_message})",
                status=error.status,
                method=method,
                path=where.template,
                request_id=error.request_id,
            ) from exc

    async def _send(
        self,
        method: str,
        where: Route,
        params: Mapping[str, Any] | None,
        body: Mapping[str, Any] | None,
        attempt: int,
    ) -> tuple[httpx.Response | None, ApiError | None, float]:
        """One exchange; also returns how long it waited for a concurrency slot."""
        queued_from = self._clock()
        await self.limiter.acquire()
        waited = self._clock() - queued_from
        throttled = False
        refused = False
        started = self._clock()
        response: httpx.Response | None = None
        failure: ApiError | None = None
        try:
            response = await self._http.request(method, where.path, params=params, json=body)
            throttled = response.status_code == 429
            if throttled:
                self._start_cooldown(where.template, response)
        except WriteRefused:
            refused = True
            raise
        except httpx.RequestError as exc:
            failure = _transport_failure(exc, method, where)
        finally:
            handled = response is not None and response.status_code < 500
            await self.limiter.release(throttled=throttled, succeeded=handled and not throttled)
            if not refused:  # a refused write never left the process: nothing to count
                record = RequestRecord(
                    method=method,
                    template=where.template,
                    status=response.status_code if response is not None else None,
                    duration=self._clock() - started,
                    attempt=attempt,
                )
                self.requests.append(record)
                if self._on_request is not None:
                    self._on_request(record)
        return response, failure, waited

    def _decide(
        self, response: httpx.Response | None, failure: ApiError | None, is_write: bool, unhinted_429s: int
    ) -> str:
        """'retry', 'unknown' (a write whose effect is uncertain) or 'fail'."""
        if response is None:
            assert failure is not None
            if isinstance(failure, _Unsendable):
                return "fail"
            if isinstance(failure, _NotSent) or not is_write:
                return "retry"
            return "unknown"
        should = response.headers.get("x-should-retry")
        if should == "false":
            return "fail"
        if should == "true":
            return "retry"
        status = response.status_code
        if status not in RETRYABLE_STATUS:
            return "fail"
        if status == 429:
            # The server refused before acting, so even a write is safe to resend.
            return "fail" if unhinted_429s > self.retry.unhinted_429_retries else "retry"
        if is_write:
            # Even a 503 may come after the write was applied (a proxy whose upstream reset): re-read first.
            return "unknown"
        return "retry"

    def _delay(self, response: httpx.Response | None, attempt: int) -> float:
        if response is not None:
            hinted = _retry_after(response.headers, self.retry.max_retry_after)
            if hinted is not None:
                return hinted
        backoff = min(self.retry.initial_delay * 2.0 ** (attempt - 1), self.retry.max_delay)
        return backoff * (1 - 0.25 * random.random())

    def _start_cooldown(self, template: str, response: httpx.Response) -> None:
        hinted = _retry_after(response.headers, self.retry.max_retry_after)
        if hinted:
            until = self._clock() + hinted
            self._cooldown_until[template] = max(self._cooldown_until.get(template, 0.0), until)

    async def _wait_cooldown(self, template: str) -> None:
        # A loop: another request's 429 may extend the pause while this one waits.
        while (remaining := self._cooldown_until.get(template, 0.0) - self._clock()) > 0:
            await self._sleep(remaining)


class _NotSent(ApiUnreachable):
    """The request never reached the server (connection refused, DNS, connect timeout)."""


class _Unsendable(ApiUnreachable):
    """The request cannot be sent at all (bad URL scheme, an illegal header): retrying cannot help."""


def _transport_failure(exc: httpx.RequestError, method: str, where: Route) -> ApiError:
    # Only the exception's type name is used: its text can carry URLs or header values.
    kind = type(exc).__name__
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.LocalProtocolError):
        return _Unsendable(f"the request could not be sent ({kind})", method=method, path=where.template)
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        return _NotSent(f"could not connect ({kind})", method=method, path=where.template)
    return ApiUnreachable(f"no complete answer ({kind})", method=method, path=where.template)


def _is_unhinted(response: httpx.Response, policy: RetryPolicy) -> bool:
    return _retry_after(response.headers, policy.max_retry_after) is None


def _retry_after(headers: httpx.Headers, ceiling: float) -> float | None:
    """The server's requested delay in seconds, if it gave a usable one (0 <= delay <= ceiling)."""
    raw_ms = headers.get("retry-after-ms")
    if raw_ms is not None:
        try:
            delay = float(raw_ms) / 1000
        except ValueError:
            delay = -1
        if 0 <= delay <= ceiling:
            return delay
    raw = headers.get("retry-after")
    if raw is None:
        return None
    try:
        delay = float(raw)
    except ValueError:
        try:
            parsed = email.utils.parsedate_to_datetime(raw)
        except (TypeError, ValueError, IndexError):  # Python 3.10+ raises rather than returning None
            return None
        if parsed.tzinfo is None:  # "-0000" parses naive; HTTP dates are always GMT
            parsed = parsed.replace(tzinfo=UTC)
        delay = parsed.timestamp() - time.time()
    return delay if 0 <= delay <= ceiling else None


def _decode(response: httpx.Response, method: str, where: Route) -> Any:
    if not response.content:
        return {}
    try:
        return response.json()
    except ValueError as exc:
        raise ApiError(
            "the answer was not JSON",
            status=response.status_code,
            method=method,
            path=where.template,
            request_id=response.headers.get("x-request-id"),
        ) from exc


def _error_from(response: httpx.Response, method: str, where: Route) -> ApiError:
    """Turn an error response into a typed ApiError; the envelope may be an object or a bare string.

    Everything taken from the body is redacted here, before truncation (a cut key would no longer match)
    and including `type` and `code`, which the error keeps as attributes that callers may log.
    """
    message, type_, code = "", None, None
    try:
        payload = response.json()
    except ValueError:
        payload = None
    envelope = payload.get("error") if isinstance(payload, dict) else None
    if isinstance(envelope, dict):
        message = str(envelope.get("message") or "")
        type_ = envelope.get("type") or None
        code = envelope.get("code") or None
    elif isinstance(envelope, str):
        message = envelope
    else:
        lines = redact(response.text).strip().splitlines()
        message = lines[0][:200] if lines else ""
    status = response.status_code
    message = redact(message) or (response.reason_phrase or "error")
    cls: type[ApiError]
    if status in (401, 403):
        cls = AuthError
    elif status == 404:
        cls = NotFound
    elif status == 429:
        cls = RateLimited
    elif status == 408 or status >= 500:
        cls = TransientApiError
    else:
        cls = BadRequest
    request_id = response.headers.get("x-request-id")
    return cls(
        message,
        status=status,
        type=redact(str(type_)) if type_ else None,
        code=redact(str(code)) if code else None,
        request_id=redact(request_id) if request_id else None,
        method=method,
        path=where.template,
    )
