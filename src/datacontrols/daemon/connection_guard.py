"""The probe server under abuse: a bounded number of connections, and none held open without a request.

uvicorn accepts every connection and waits for a request on it for as long as the client likes; about
20,000 idle connections that each sent one byte exhausted the process's file descriptors, so the kubelet's
probes timed out and the scheduled runs failed to open connections to the Admin API. Two rules stop that:

- A connection that has not completed a request within `header_timeout` seconds is closed (uvicorn's own
  keep-alive timeout covers a connection between requests).
- At most `max_connections` are held. When one more arrives, the oldest connection that is not serving a
  request is closed to make room: a probe that sends its request at once is answered, whoever holds the rest.

The guard is the protocol class uvicorn instantiates for each connection (`uvicorn.Config(http=...)`).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from typing import Any, Final

from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["DEFAULT_HEADER_TIMEOUT", "DEFAULT_MAX_CONNECTIONS", "guarded_protocol"]

DEFAULT_MAX_CONNECTIONS: Final = 256
DEFAULT_HEADER_TIMEOUT: Final = 5.0


def guarded_protocol(
    *, max_connections: int = DEFAULT_MAX_CONNECTIONS, header_timeout: float = DEFAULT_HEADER_TIMEOUT
) -> type[H11Protocol]:
    """A protocol class with its own table of open connections (one per server)."""
    open_connections: OrderedDict[GuardedProtocol, None] = OrderedDict()

    class GuardedProtocol(H11Protocol):
        _header_timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            open_connections[self] = None
            self._header_timer = self.loop.call_later(header_timeout, self._close_if_no_request)
            if len(open_connections) > max_connections:
                self._evict_one_idle()

        def connection_lost(self, exc: Exception | None) -> None:
            open_connections.pop(self, None)
            if self._header_timer is not None:
                self._header_timer.cancel()
            super().connection_lost(exc)

        def _serving(self) -> bool:
            return self.cycle is not None and not self.cycle.response_complete

        def _close_if_no_request(self) -> None:
            self._header_timer = None
            if self.cycle is None and not self.transport.is_closing():
                self.transport.close()

        def _evict_one_idle(self) -> None:
            for other in open_connections:
                if other is not self and not other._serving() and not other.transport.is_closing():
                    other.transport.close()
                    open_connections.pop(other, None)  # its connection_lost comes later; it no longer counts
                    return
            self.transport.close()  # every other connection is serving a request: this one waits its turn

    return GuardedProtocol
