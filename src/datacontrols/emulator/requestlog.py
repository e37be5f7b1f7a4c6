"""The record of every request the emulator answered, for assertions such as "a dry run sent only GETs".

Bodies are stored after `redact_value`, so a created key or a secret-named field never lands here; headers
(and with them the admin key) are never stored at all.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

__all__ = ["RequestLog", "RequestLogEntry"]


@dataclass(frozen=True)
class RequestLogEntry:
    method: str
    path: str  # as received, including the /v1 prefix
    template: str | None  # the spec's path template without /v1 (`/organization/projects/{project_id}`)
    status: int | None  # None: the connection was dropped without an answer
    time: float  # the emulator clock when the request arrived
    request_id: str
    query: dict[str, str]
    body: Any  # decoded JSON body with secrets redacted; None when absent or not JSON
    fault: str | None = None  # the injected fault that answered, if any
    applied: bool = False  # whether the handler ran (a write may have changed state)

    @property
    def endpoint(self) -> str:
        """`METHOD template`, the key rate limits and counters use."""
        return f"{self.method} {self.template or self.path}"


class RequestLog(list[RequestLogEntry]):
    """A list of entries with the questions tests ask most."""

    def methods(self) -> set[str]:
        return {entry.method for entry in self}

    def writes(self) -> list[RequestLogEntry]:
        return [entry for entry in self if entry.method != "GET"]

    def for_template(self, template: str, method: str | None = None) -> list[RequestLogEntry]:
        return [e for e in self if e.template == template and (method is None or e.method == method)]

    def count_by_endpoint(self) -> Counter[str]:
        """`Counter({"GET /organization/projects": 3, ...})`."""
        return Counter(entry.endpoint for entry in self)
