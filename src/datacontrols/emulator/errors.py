"""Error answers in the API's envelope: `{"error": {"message", "type", "param", "code"}}`.

Route handlers raise `ApiFailure`; the dispatcher turns it into the response. The constructors below are the
catalogue of errors the emulator gives, so their status, type and code are chosen in one place:

    status  type                   code                          when
    400     invalid_request_error  invalid_json                  the body is not JSON, or not an object
    400     invalid_request_error  unknown_parameter             a body field the endpoint does not take
    400     invalid_request_error  missing_required_parameter    a required body field is absent
    400     invalid_request_error  invalid_type / invalid_value  a field of the wrong type or outside its enum
    400     invalid_request_error  invalid_value                 a query parameter out of range
    400     invalid_request_error  project_archived              a write to an archived project
    400     invalid_request_error  default_project_immutable     modifying (or archiving) the default project
    401     invalid_request_error  missing_api_key / invalid_api_key
    403     invalid_request_error  not_approved                  a retention type or residency OpenAI has not
                                                                 approved for this organization
    404     invalid_request_error  not_found                     unknown project, or no model policy
    404     invalid_request_error  unknown_url                   no such endpoint (or method)
    429     requests               rate_limit_exceeded           the rate limit, or an injected 429
    5xx     server_error           None                          injected server errors

Messages never contain the admin key or a request body value; they may name ids taken from the URL.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["ApiFailure", "envelope"]


def envelope(message: str, type: str, param: str | None = None, code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": type, "param": param, "code": code}}


class ApiFailure(Exception):
    """An error answer; raise it from a handler to refuse a request without touching state."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return envelope(self.message, self.type, self.param, self.code)

    # --- the catalogue ---------------------------------------------------------------------------------

    @classmethod
    def bad_request(cls, message: str, *, param: str | None = None, code: str | None = None) -> ApiFailure:
        return cls(400, message, param=param, code=code)

    @classmethod
    def invalid_json(cls) -> ApiFailure:
        return cls(
            400,
            "We could not parse the JSON body of your request. The body must be a JSON object.",
            code="invalid_json",
        )

    @classmethod
    def missing_key(cls) -> ApiFailure:
        return cls(
            401,
            "You didn't provide an API key. You need to provide your API key in an Authorization header "
            "using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
            code="missing_api_key",
        )

    @classmethod
    def wrong_key(cls) -> ApiFailure:
        # The real API echoes a masked key; the emulator echoes nothing of it.
        return cls(401, "Incorrect API key provided.", code="invalid_api_key")

    @classmethod
    def not_approved(cls, what: str, value: str, *, param: str) -> ApiFailure:
        return cls(
            403,
            f"This organization is not approved for {what} {value!r}. Contact OpenAI to request access.",
            param=param,
            code="not_approved",
        )

    @classmethod
    def not_found(cls, message: str, *, param: str | None = None) -> ApiFailure:
        return cls(404, message, param=param, code="not_found")

    @classmethod
    def unknown_url(cls, method: str, path: str) -> ApiFailure:
        return cls(404, f"Invalid URL ({method} {path})", code="unknown_url")

    @classmethod
    def rate_limited(cls, endpoint: str, wait: float | None) -> ApiFailure:
        """A 429 as the API gives it: `retry-after-ms` (exact) and `retry-after` (whole seconds, at least 1),
        or neither when `wait` is None (the real API has been seen to omit both)."""
        headers = None
        text = ""
        if wait is not None:
            seconds = max(1, math.ceil(wait - 1e-9))
            headers = {"retry-after": str(seconds), "retry-after-ms": str(max(1, math.ceil(wait * 1000 - 1e-6)))}
            text = f" Please try again in {seconds}s."
        return cls(
            429,
            f"Rate limit reached for requests to {endpoint}.{text}",
            type="requests",
            code="rate_limit_exceeded",
            headers=headers,
        )

    @classmethod
    def server_error(cls, status: int) -> ApiFailure:
        messages = {
            500: "The server had an error while processing your request. Sorry about that!",
            502: "Bad gateway.",
            503: "The server is overloaded or not ready yet.",
        }
        return cls(status, messages.get(status, "Server error."), type="server_error")
