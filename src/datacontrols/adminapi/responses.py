"""What an HTTP exchange means: a decoded body, a typed `ApiError` from an error answer, or a failure to
send that says whether the request reached the server."""

from __future__ import annotations

from typing import Any

import httpx

from datacontrols.adminapi.routes import Route
from datacontrols.errors import (
    ApiError,
    ApiUnreachable,
    AuthError,
    BadRequest,
    NotFound,
    RateLimited,
    TransientApiError,
)
from datacontrols.redaction import redact

__all__ = ["NotSent", "Unsendable", "decode", "error_from", "transport_failure"]


class NotSent(ApiUnreachable):
    """The request never reached the server (connection refused, DNS, connect timeout)."""


class Unsendable(ApiUnreachable):
    """The request cannot be sent at all (bad URL scheme, an illegal header): retrying cannot help."""


def transport_failure(exc: httpx.RequestError, method: str, where: Route) -> ApiError:
    # Only the exception's type name is used: its text can carry URLs or header values.
    kind = type(exc).__name__
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.LocalProtocolError):
        return Unsendable(f"the request could not be sent ({kind})", method=method, path=where.template)
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        return NotSent(f"could not connect ({kind})", method=method, path=where.template)
    return ApiUnreachable(f"no complete answer ({kind})", method=method, path=where.template)


def decode(response: httpx.Response, method: str, where: Route) -> Any:
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


def error_from(response: httpx.Response, method: str, where: Route) -> ApiError:
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
