"""Using the emulator without sockets, and how a dropped connection reaches the client.

The app signals a dropped connection by starting a response (status line and headers promising a body) and
then raising `ConnectionDropped`. Served by uvicorn, the server closes the socket mid-response, and httpx
raises `RemoteProtocolError`. In-process, `EmulatorTransport` (an `httpx.ASGITransport` wrapper) turns the
exception into the same `httpx.RemoteProtocolError`, so the client sees one behaviour in both settings.
"""

from __future__ import annotations

import httpx
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["ConnectionDropped", "EmulatorTransport", "close_on_drop", "transport"]

# Headers that promise a body the server will never send: the client must notice the cut.
DROP_HEADERS = [(b"content-type", b"application/json"), (b"content-length", b"1024")]


class ConnectionDropped(Exception):
    """Raised by the app after starting a response, to cut the connection without an answer."""


class EmulatorTransport(httpx.AsyncBaseTransport):
    """In-process transport to the emulator app; a dropped connection becomes an httpx.TransportError."""

    def __init__(self, app: ASGIApp) -> None:
        self._asgi = httpx.ASGITransport(app=app)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return await self._asgi.handle_async_request(request)
        except ConnectionDropped:
            raise httpx.RemoteProtocolError(
                "peer closed connection without sending complete message body", request=request
            ) from None

    async def aclose(self) -> None:
        await self._asgi.aclose()


def transport(app: ASGIApp) -> httpx.AsyncBaseTransport:
    """An httpx transport that sends requests straight into the emulator app (no sockets)."""
    return EmulatorTransport(app)


def close_on_drop(app: ASGIApp) -> ASGIApp:
    """For a real server: swallow `ConnectionDropped` so uvicorn closes the half-sent response quietly.

    Returning without completing a started response makes uvicorn close the connection; letting the exception
    through would do the same but log a traceback for every injected drop.
    """

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await app(scope, receive, send)
        except ConnectionDropped:
            return

    return wrapped
