"""The read-only HTTP layer of a dry run: anything but GET is refused before it is sent."""

from __future__ import annotations

import httpx

from datacontrols.errors import WriteRefused

__all__ = ["ReadOnlyHTTPTransport"]


class ReadOnlyHTTPTransport(httpx.AsyncBaseTransport):
    """Wraps a real transport and refuses every request that is not GET, before it is sent.

    A dry run is built on this object. It is not a flag consulted by callers: the write simply cannot pass.
    """

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method != "GET":
            raise WriteRefused(f"refused {request.method} {request.url.path}: this is a read-only (dry-run) client")
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()
