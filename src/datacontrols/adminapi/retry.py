"""When a failed exchange is retried, after how long, and when a write's outcome must be re-read first.

- 429, 5xx, 408, 409 and connection failures are retried with exponential backoff and jitter, honouring
  `retry-after-ms`, then `Retry-After` (seconds or HTTP date), and obeying `x-should-retry`. Each call has a
  total retry budget (`RetryPolicy.budget_seconds`). A 429 is a rate signal, with or without a hint: the
  transport's pacer slows the endpoint and the call waits its turn. Only a 429 whose body says the quota is
  spent (`insufficient_quota`) ends the call at once: waiting will not fix that.
- A POST or DELETE is retried only when the server certainly did not act on it (connection never made, 429,
  or `x-should-retry: true`). When the outcome is unknown (a timeout after sending, a dropped connection, any
  5xx), the caller's `recheck` re-reads the resource (`recheck_write`).
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC
from typing import Any, Final, Literal

import httpx

from datacontrols.adminapi.responses import NotSent, Unsendable
from datacontrols.adminapi.routes import Route
from datacontrols.errors import ApiError, TransientApiError

__all__ = [
    "PACED_PER_RETRY",
    "RETRYABLE_STATUS",
    "Decision",
    "OutcomeUnknown",
    "RetryPolicy",
    "backoff_delay",
    "decide",
    "is_quota_stop",
    "recheck_write",
    "retry_after",
]

PACED_PER_RETRY: Final = 10  # a rate-limited call may be told "come back later" this many times per allowed retry
RETRYABLE_STATUS: Final = frozenset({408, 409, 429}) | frozenset(range(500, 600))

Decision = Literal["retry", "unknown", "fail"]


class OutcomeUnknown(TransientApiError):
    """A write may or may not have taken effect, and nothing could re-read it to find out."""

    def hint(self) -> str:
        return "The write may have taken effect; the next run re-reads live state and plans again"


@dataclass(frozen=True)
class RetryPolicy:
    """How hard one call tries. Delays are capped; the whole call never exceeds `budget_seconds`."""

    max_retries: int = 6
    initial_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 120.0
    budget_seconds: float = 300.0
    # An API that gives no answer at all (connection refused, DNS failure, connect timeout) is retried this
    # long, then the call fails with one line: waiting out the whole budget helps against 429s and 5xx, not
    # against a wrong host or a closed network path, where it would only be minutes of silence.
    unreachable_seconds: float = 15.0


def decide(
    response: httpx.Response | None,
    failure: ApiError | None,
    *,
    is_write: bool,
) -> Decision:
    """'retry', 'unknown' (a write whose effect is uncertain: re-read before resending) or 'fail'."""
    if response is None:
        assert failure is not None
        if isinstance(failure, Unsendable):
            return "fail"
        if isinstance(failure, NotSent) or not is_write:
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
        return "fail" if is_quota_stop(response) else "retry"
    if is_write:
        # Even a 503 may come after the write was applied (a proxy whose upstream reset): re-read first.
        return "unknown"
    return "retry"


def backoff_delay(response: httpx.Response | None, attempt: int, policy: RetryPolicy) -> float:
    """The server's hint when it gave a usable one, else capped exponential backoff with jitter."""
    if response is not None:
        hinted = retry_after(response.headers, policy.max_retry_after)
        if hinted is not None:
            return hinted
    backoff = min(policy.initial_delay * 2.0 ** (attempt - 1), policy.max_delay)
    return backoff * (1 - 0.25 * random.random())


async def recheck_write(
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


def is_quota_stop(response: httpx.Response) -> bool:
    """A 429 that says the organization's quota or credit is spent, which no waiting fixes."""
    try:
        body = response.json()
    except ValueError:
        return False
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return False
    return "insufficient_quota" in (error.get("code"), error.get("type"))


def retry_after(headers: httpx.Headers, ceiling: float) -> float | None:
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
