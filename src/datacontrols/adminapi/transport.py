"""The transport core every endpoint family uses: one httpx.AsyncClient, retries, pagination, errors.

The call loop lives here; each concern it draws on has its own module:
- `retry`: which failures are retried, after how long, within what budget; a write whose outcome is unknown
  is re-read (the caller's `recheck`) before it is ever resent, and `OutcomeUnknown` is raised when it
  cannot be. A 503 is no exception: a proxy answers 503 when its upstream resets after the handler ran, so
  resending it blindly created duplicates (tests/reliability).
- `limiter`: an adaptive limit on requests in flight; a 429 halves it.
- `pacer`: the pace of each endpoint, learned from its 429s (with or without a hint): requests to a
  rate-limited endpoint go out one interval apart instead of each finding out with a 429 of its own.
- `budget`: an optional hard cap per endpoint (the daemon's share of the organization's limit), checked
  where each request is sent; the pacer never goes faster than it either, so requests queue in order.
- `responses`: only 2xx is success (the Admin API never redirects, and redirects are not followed); an
  error envelope (an object, or a bare string) becomes a typed `ApiError`.
- `read_only`: a dry run gets an HTTP layer that refuses anything but GET before sending.
- `log_redaction`: httpx's and httpcore's own log records are scrubbed (httpcore's DEBUG trace prints
  response headers, which a proxy may echo the key into).
- `read_once`: while the engine observes, identical GETs share one request.
- Pagination, here, for both list styles of the spec (`first_id/last_id/has_more` and `next/has_more`).

The admin key is held in a `SecretStr`, sent only as the Authorization header, registered for redaction,
and never formatted into a message, a repr or a log line.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
import structlog
from pydantic import SecretStr

from datacontrols import __version__
from datacontrols.adminapi.budget import RequestBudget
from datacontrols.adminapi.key_match import redacted_matches
from datacontrols.adminapi.limiter import AdaptiveLimiter
from datacontrols.adminapi.log_redaction import guard_library_logs
from datacontrols.adminapi.pacer import Pacer
from datacontrols.adminapi.proxy import proxy_for
from datacontrols.adminapi.read_once import ReadOnce
from datacontrols.adminapi.read_only import ReadOnlyHTTPTransport
from datacontrols.adminapi.responses import NotSent, decode, error_from, transport_failure
from datacontrols.adminapi.retry import (
    PACED_PER_RETRY,
    OutcomeUnknown,
    RetryPolicy,
    backoff_delay,
    decide,
    recheck_write,
    retry_after,
)
from datacontrols.adminapi.routes import Route, route
from datacontrols.errors import ApiError, WriteRefused
from datacontrols.redaction import register_secret

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

log = structlog.get_logger("datacontrols.adminapi")
T = TypeVar("T")


@dataclass(frozen=True)
class RequestRecord:
    """One HTTP exchange, as metrics and the status page see it: no URL ids, no headers, no bodies."""

    method: str
    template: str
    status: int | None  # None: no HTTP answer (connection error, timeout)
    duration: float
    attempt: int


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
        budget: RequestBudget | None = None,
    ) -> None:
        key = admin_key if isinstance(admin_key, SecretStr) else SecretStr(admin_key)
        register_secret(key.get_secret_value())
        self._admin_key = key
        guard_library_logs()
        inner = http_transport or httpx.AsyncHTTPTransport(
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
            proxy=proxy_for(base_url),
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
        self.budget = budget
        self.pacer = Pacer(clock, sleep, floor=budget.spacing if budget is not None else 0.0)
        self.requests: list[RequestRecord] = []
        self.read_once = ReadOnce()  # open while observing: identical GETs share one request

    def admin_key_matches(self, redacted_value: str) -> bool:
        """Whether a redacted key as the admin key list shows it (`sk-admin...xyz`) fits the key in use.

        The answer is a yes or no; nothing derived from the key leaves the transport."""
        return redacted_matches(redacted_value, self._admin_key.get_secret_value())

    def __repr__(self) -> str:
        mode = "read-only" if self.read_only else "read-write"
        return f"Transport(base_url={self.base_url!r}, {mode})"

    async def aclose(self) -> None:
        await self._http.aclose()

    async def pause(self, seconds: float) -> None:
        """Wait with the run's own sleep (virtual in tests), e.g. for the server's clock to move on."""
        await self._sleep(seconds)

    # --- the calls families make -------------------------------------------------------------------

    async def get(self, where: Route, *, params: Mapping[str, Any] | None = None) -> Any:
        """GET and return the decoded JSON body; retried freely (reads are idempotent). Within
        `read_once.open()` an identical GET shares the first one's request."""
        return await self.read_once.get(where.path, params, lambda: self._call("GET", where, params=params))

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
        unreachable_since: float | None = None  # when the run of answerless attempts began
        while True:
            attempt += 1
            cooldown_from = self._clock()
            await self.pacer.wait(where.template)
            queued += self._clock() - cooldown_from
            response, failure, waited = await self._send(method, where, params, body, attempt)
            queued += waited
            if response is not None and 200 <= response.status_code < 300:
                return decode(response, method, where)

            error = failure or error_from(response, method, where)  # type: ignore[arg-type]
            decision = decide(response, failure, is_write=is_write)
            if decision == "fail":
                raise error
            if decision == "unknown":
                confirmed = await recheck_write(recheck, error, method, where)
                if confirmed is not None:
                    log.info("write_confirmed_by_reread", method=method, endpoint=where.template)
                    return confirmed
            throttled = response is not None and response.status_code == 429
            hint = retry_after(response.headers, self.retry.max_retry_after) if throttled and response else None
            if throttled:
                self.pacer.throttled(where.template, hint)
            # A 429's wait is the pacer's (the next slot on the endpoint is after it), not a sleep here.
            delay = 0.0 if throttled else backoff_delay(response, attempt, self.retry)
            # A 429 is a rate signal, hinted or not: pacing. The hint is spent in the pacer's queue, not from
            # the budget; a call told "later" too often still ends (`PACED_PER_RETRY`).
            if throttled:
                paced_retries += 1
            else:
                retries += 1
            spent = self._clock() - started - queued
            if isinstance(failure, NotSent):
                unreachable_since = unreachable_since if unreachable_since is not None else cooldown_from
                if self._clock() - unreachable_since + delay > self.retry.unreachable_seconds:
                    raise error
            else:
                unreachable_since = None
            out_of_tries = retries > self.retry.max_retries or paced_retries > self.retry.max_retries * PACED_PER_RETRY
            # A hint past what is left of the budget: the call cannot succeed in time (queueing is free).
            if hint is not None and spent + hint > self.retry.budget_seconds:
                raise error
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
            if delay > 0:
                await self._sleep(delay)

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
        # The cap is checked here, holding the slot, so that nothing between the check and the send can
        # bunch requests up; a request that must wait gives its slot back meanwhile (the pacer's floor makes
        # that rare: it spaces requests the same way before they ask for a slot).
        while self.budget is not None and (wait := self.budget.claim(where.template)) > 0:
            await self.limiter.release(throttled=False, succeeded=False)
            await self._sleep(wait)
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
            if not throttled and response.status_code < 500:
                self.pacer.succeeded(where.template)  # a 429 slows the pace in `_call`, with its hint
        except WriteRefused:
            refused = True
            raise
        except httpx.RequestError as exc:
            failure = transport_failure(exc, method, where)
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
