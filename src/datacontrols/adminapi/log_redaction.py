"""Secrets scrubbed out of httpx's and httpcore's own log records.

This adds a filter to those libraries' loggers and nothing else: no handler, no level, no format. Whoever
configures logging (the CLI, the daemon, or an application using this package as a library) keeps full
control of it, and the admin key still cannot reach a log line through a library's DEBUG trace.
"""

from __future__ import annotations

import logging

from datacontrols.redaction import redact

__all__ = ["guard_library_logs"]


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


def guard_library_logs() -> None:
    """Idempotent: the filter is added once per logger."""
    for name in _LIBRARY_LOGGERS:
        library_log = logging.getLogger(name)
        if _REDACTING_FILTER not in library_log.filters:
            library_log.addFilter(_REDACTING_FILTER)
