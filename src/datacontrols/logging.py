"""Logging: structlog over the standard library, to stderr, secrets scrubbed.

JSON lines when stderr is not a terminal (Kubernetes, CI), readable lines when it is. A warning or error
repeated within a minute is written once, then counted (`log_repeats`). stdout is reserved for
what a command prints (a plan, a schema). Every event passes `scrub_secrets`: values under secret-looking
keys are replaced whole and `sk-...` shapes are removed from all strings. Tracebacks never carry locals.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any, Literal

import structlog

from datacontrols.colors import wants_color
from datacontrols.errors import ConfigError
from datacontrols.log_repeats import RepeatLimitedHandler
from datacontrols.redaction import redact_value

__all__ = ["LOG_FORMATS", "LOG_LEVELS", "LogFormat", "configure_logging", "scrub_secrets"]

LogFormat = Literal["auto", "json", "console"]
LOG_FORMATS: tuple[LogFormat, ...] = ("auto", "json", "console")
LOG_LEVELS = ("debug", "info", "warning", "error")


def _checked(level: str, fmt: str) -> None:
    if level.lower() not in LOG_LEVELS:
        raise ConfigError(f"--log-level must be one of {', '.join(LOG_LEVELS)}, not {level!r}")
    if fmt not in LOG_FORMATS:
        raise ConfigError(f"--log-format must be one of {', '.join(LOG_FORMATS)}, not {fmt!r}")


def scrub_secrets(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: redact secrets from every field of an event."""
    return redact_value(dict(event_dict))  # type: ignore[no-any-return]


def configure_logging(level: str = "info", fmt: LogFormat = "auto", stream: Any = None) -> None:
    """Route structlog and stdlib logs through one handler on stderr (or `stream`).

    An unknown level or format is a `ConfigError` (one line), before anything is configured."""
    _checked(level, fmt)
    out = stream or sys.stderr
    json_out = fmt == "json" or (fmt == "auto" and not _isatty(out))
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
        scrub_secrets,
    ]
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    renderer: Any
    final: list[Any] = [structlog.stdlib.ProcessorFormatter.remove_processors_meta]
    if json_out:
        final.append(
            structlog.processors.ExceptionRenderer(structlog.tracebacks.ExceptionDictTransformer(show_locals=False))
        )
        final.append(_log_pipeline_fields)
        renderer = structlog.processors.JSONRenderer()
    else:
        # structlog's default console traceback (rich) prints every frame's locals: the admin key among them.
        colors = wants_color(out)
        renderer = structlog.dev.ConsoleRenderer(colors=colors, exception_formatter=structlog.dev.plain_traceback)
    final += [scrub_secrets, renderer]
    handler = RepeatLimitedHandler(out)  # a warning repeated a thousand times a second is one line a minute
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(foreign_pre_chain=shared, processors=final))
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # httpx logs every request URL at INFO; we record API calls ourselves, by route template.
    for noisy in ("httpx", "httpcore", "apscheduler.executors.default", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _log_pipeline_fields(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """`message` and `severity` beside structlog's `event` and `level`: the fields that Cloud Logging,
    Fluent Bit, Loki and Datadog key on, so a warning is not filed as an INFO line of unparsed text."""
    event_dict.setdefault("message", event_dict.get("event"))
    level = event_dict.get("level")
    if isinstance(level, str):
        event_dict.setdefault("severity", level.upper())
    return event_dict


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False
