"""A repeated warning or error is written once a minute with a count, not once per occurrence.

A daemon starved of file descriptors, or cut off from a service it polls, can hit the same error thousands
of times a second (asyncio's accept loop logs every failed `accept()`): hundreds of megabytes of identical
lines that bury everything else and fill the node's disk. `RepeatLimitedHandler` writes the first of a kind
at once, counts the rest for `WINDOW` seconds, and then writes one line saying how many it held back (the
next one of the kind starts a new window). Lines below WARNING pass untouched: they are the daemon's normal
account of its work.

Two lines are of one kind when they come from the same logger at the same level with the same event (a
structlog event and its fields, less the ones that change every time: the time, the run id), or, from the
standard library, the same unformatted message (`socket.accept() out of system resource`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, Final

__all__ = ["WINDOW", "RepeatLimitedHandler"]

WINDOW: Final = 60.0
MAX_KINDS: Final = 1_000  # kinds remembered at once: the oldest window is closed early beyond this
_VOLATILE: Final = frozenset({"timestamp", "run_id", "request_id", "duration_s", "seconds", "level", "logger"})


@dataclass
class _Window:
    opened: float
    name: str
    level: int
    what: str
    held: int = 0


def _kind(record: logging.LogRecord) -> tuple[Hashable, str]:
    """What makes two records the same, and how to name it in the count's line."""
    message: Any = record.msg
    if isinstance(message, dict):
        event = str(message.get("event", ""))
        fields = tuple(sorted((k, repr(v)) for k, v in message.items() if k not in _VOLATILE and k != "event"))
        return (record.name, record.levelno, event, fields), event
    exception = record.exc_info[0].__name__ if record.exc_info and record.exc_info[0] else None
    return (record.name, record.levelno, str(message), exception), str(message)


class RepeatLimitedHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A StreamHandler that writes each kind of warning or error at most once per `window` seconds, then
    one line with the count of those it held back."""

    def __init__(self, stream: Any = None, *, window: float = WINDOW, clock: Callable[[], float] = time.monotonic):
        super().__init__(stream)
        self.window = window
        self._clock = clock
        self._windows: dict[Hashable, _Window] = {}

    def emit(self, record: logging.LogRecord) -> None:
        now = self._clock()
        self._close_expired(now)
        if record.levelno < logging.WARNING:
            super().emit(record)
            return
        key, what = _kind(record)
        window = self._windows.get(key)
        if window is not None:
            window.held += 1
            return
        if len(self._windows) >= MAX_KINDS:
            self._close(next(iter(self._windows)))
        self._windows[key] = _Window(opened=now, name=record.name, level=record.levelno, what=what)
        super().emit(record)

    def _close_expired(self, now: float) -> None:
        # Windows are kept in the order they opened (a dict keeps insertion order): only the oldest few can
        # have expired, so every line costs a look at the front, not a scan of every kind.
        while self._windows:
            key, window = next(iter(self._windows.items()))
            if now - window.opened < self.window:
                return
            self._close(key)

    def _close(self, key: Hashable) -> None:
        window = self._windows.pop(key)
        if window.held:
            summary = logging.LogRecord(
                window.name,
                window.level,
                __file__,
                0,
                "%s: %d more like it in the last %.0f s (held back, not written one by one)",
                (window.what, window.held, self.window),
                None,
            )
            super().emit(summary)

    def flush_repeats(self) -> None:
        """Write the counts of every open window now."""
        for key in list(self._windows):
            self._close(key)

    def close(self) -> None:
        """At exit (`logging.shutdown`), the counts still held are written first: none is lost."""
        try:
            self.flush_repeats()
        finally:
            super().close()
