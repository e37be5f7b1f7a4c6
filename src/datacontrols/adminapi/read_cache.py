"""An HTTP transport that answers a GET it has already answered: each thing read once, for one run.

The pull-request view (`datacontrols.prview`) observes the organization twice, for the head and the base
desired state; the second observation is answered from the first through this cache.
"""

from __future__ import annotations

import httpx

__all__ = ["ReadCache"]


class ReadCache(httpx.AsyncBaseTransport):
    """Wraps a transport: a GET it has answered with 2xx or 404 is answered again from memory, for one run.

    A 404 is an answer about the organization (a project without a model policy reads as 404), so it is kept
    too; other failures (429, 5xx) are not, and the next observation retries them as usual.
    """

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner
        self._answers: dict[str, tuple[int, list[tuple[bytes, bytes]], bytes]] = {}
        self.hits = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        key = str(request.url)
        if request.method == "GET" and key in self._answers:
            self.hits += 1
            status, headers, body = self._answers[key]
            return httpx.Response(status, headers=headers, content=body, request=request)
        response = await self._inner.handle_async_request(request)
        if request.method != "GET" or not (200 <= response.status_code < 300 or response.status_code == 404):
            return response
        body = await response.aread()
        await response.aclose()
        # The body is decoded already: drop the headers that describe the encoded form.
        headers = [
            (k, v)
            for k, v in response.headers.raw
            if k.lower() not in (b"content-encoding", b"content-length", b"transfer-encoding")
        ]
        self._answers[key] = (response.status_code, headers, body)
        return httpx.Response(response.status_code, headers=headers, content=body, request=request)

    async def aclose(self) -> None:
        self._answers.clear()
        await self._inner.aclose()
