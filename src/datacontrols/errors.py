"""Every error this tool raises on purpose, and whether trying again can help.

    DataControlsError                 base; `str(err)` is one line meant for a person
    ├── ConfigError                   terminal: the desired state or the command line is wrong
    │   └── DesiredStateError         carries every positioned problem found in the files
    ├── UnsafePlanError               terminal: a plan crossed a safety rule; a human must decide
    ├── WriteRefused                  terminal: a write was attempted through a read-only client
    └── ApiError                      the Admin API answered with an error, or could not be reached
        ├── AuthError                 terminal: 401/403, the key, its scopes or the org's entitlement
        ├── NotFound                  404
        ├── BadRequest                400/409/422 and other 4xx: the request was understood and refused
        └── TransientApiError         429, 5xx, 408, timeouts, dropped connections, after retries ran out
            ├── RateLimited           429
            └── ApiUnreachable        no HTTP answer at all (DNS, refused, reset, timeout)

Terminal errors mean "wait for a human or a config change"; transient ones mean "the next run may succeed".
No error text ever contains the admin key or a created API key: messages are built from the API's error
envelope and our own words, and `redact()` scrubs anything that looks like a key before it is stored.
"""

from __future__ import annotations

from dataclasses import dataclass

from datacontrols.redaction import redact

__all__ = [
    "ApiError",
    "ApiUnreachable",
    "AuthError",
    "BadRequest",
    "ConfigError",
    "DataControlsError",
    "DesiredStateError",
    "NotFound",
    "Problem",
    "RateLimited",
    "TransientApiError",
    "UnsafePlanError",
    "WriteRefused",
]


class DataControlsError(Exception):
    """Base class; the message is one line, safe to print and to log."""

    def __init__(self, message: str) -> None:
        super().__init__(redact(message))

    @property
    def message(self) -> str:
        return str(self.args[0])


class ConfigError(DataControlsError):
    """The desired state, a flag or the environment is wrong; no request was sent."""


@dataclass(frozen=True, order=True)
class Problem:
    """One positioned finding in a desired-state file: `path:line:col: field: message`."""

    path: str
    line: int
    col: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}:{self.col}"
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


class DesiredStateError(ConfigError):
    """The desired-state files are invalid; `problems` lists every finding, sorted by position."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems)
        count = len(self.problems)
        first = str(self.problems[0]) if self.problems else "no problems"
        more = f" (and {count - 1} more)" if count > 1 else ""
        super().__init__(f"{first}{more}")


class UnsafePlanError(DataControlsError):
    """A plan crossed a safety rule (a threshold, a lock-out guard); nothing was written."""


class WriteRefused(DataControlsError):
    """A non-GET request was attempted through a read-only (dry-run) client."""


class ApiError(DataControlsError):
    """The Admin API answered with an error status, or could not be reached."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        type: str | None = None,
        code: str | None = None,
        request_id: str | None = None,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        self.status = status
        self.type = type
        self.code = code
        self.request_id = request_id
        self.method = method
        self.path = path
        self.api_message = redact(message)
        super().__init__(self._one_line())

    def _one_line(self) -> str:
        parts = []
        if self.method and self.path:
            parts.append(f"{self.method} {self.path}")
        if self.status is not None:
            parts.append(f"HTTP {self.status}")
        head = " ".join(parts)
        text = f"{head}: {self.api_message}" if head else self.api_message
        details = [f"{name}={value}" for name, value in (("type", self.type), ("code", self.code)) if value]
        if self.request_id:
            details.append(f"request id {self.request_id}")
        if details:
            text += f" ({', '.join(details)})"
        hint = self.hint()
        return f"{text}. {hint}" if hint else text

    def hint(self) -> str:
        """The next thing a person should try; empty when there is nothing useful to say."""
        return ""


class AuthError(ApiError):
    """401 or 403: the admin key is missing, wrong, lacks a scope, or the org lacks the entitlement."""

    def hint(self) -> str:
        if self.status == 401:
            return (
                "Check the admin key: it must be an organization Admin API key, which starts with sk-admin, "
                "given through OPENAI_ADMIN_KEY or --admin-key-file, and not revoked"
            )
        return (
            "Check the admin key's scopes and that the organization is entitled to this control "
            "(zero data retention, modified abuse monitoring and residency need OpenAI's approval)"
        )


class NotFound(ApiError):
    """404: the resource does not exist (or no longer does)."""


class BadRequest(ApiError):
    """A 4xx other than 401/403/404/408/429: the API understood the request and refused it."""


class TransientApiError(ApiError):
    """A failure that a later attempt may not see: 429, 5xx, 408, timeouts, dropped connections."""

    def hint(self) -> str:
        return "The Admin API is busy or unavailable; the next run will try again"


class RateLimited(TransientApiError):
    """429 after every allowed retry."""

    def hint(self) -> str:
        return "The Admin API kept rate-limiting; raise --retry-budget or run less often"


class ApiUnreachable(TransientApiError):
    """No HTTP answer at all: DNS, refused or reset connection, timeout."""

    def hint(self) -> str:
        return "Check --base-url / DATACONTROLS_BASE_URL and the network path to the Admin API"
