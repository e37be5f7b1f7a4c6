"""The read-only face of a daemon that its HTTP side serves, and the shape of that HTTP side.

The HTTP server depends on `DaemonView`, not on the daemon, and the daemon is handed a `ProbeServerFactory`:
so the two never import each other, and importing the daemon loads no web server.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from datacontrols.daemon.status import StatusAccess

__all__ = ["DaemonView", "ProbeServer", "ProbeServerFactory"]


class DaemonView(Protocol):
    """What /healthz, /readyz, /status and /metrics read; each call answers from the daemon's state of now.
    `status()` is the full document; `status_access` decides who sees it (the others see its summary)."""

    status_access: StatusAccess

    def liveness(self) -> tuple[bool, dict[str, Any]]: ...

    def readiness(self) -> tuple[bool, dict[str, Any]]: ...

    def status(self) -> dict[str, Any]: ...

    def render_metrics(self) -> bytes: ...


class ProbeServer(Protocol):
    """A server answering for a `DaemonView`; `port` is the bound port once `start()` returned."""

    port: int | None

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class ProbeServerFactory(Protocol):
    def __call__(self, view: DaemonView, host: str, port: int, /) -> ProbeServer: ...
