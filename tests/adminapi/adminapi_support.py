"""Helpers for the Admin API client tests: a realistic admin key, request-body decoding, and a
tiny loopback HTTP server for what respx cannot show (real sockets, httpcore's own logging, real timeouts
and dropped connections). Fixtures that use them live in conftest.py beside this file."""

from __future__ import annotations

import asyncio
import json
import secrets
import string
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from datacontrols.adminapi import AdminApi

BASE_URL = "https://admin-api.test/v1"
MakeApi = Callable[..., AdminApi]  # the `make_api` fixture: AdminApi.connect with test defaults
# Random per run, in the real shape, so a leak cannot hide behind a constant someone special-cased.
ADMIN_KEY = "sk-admin-" + "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(40))


def body_of(call: Any) -> Any:
    """The JSON body a respx call sent (None when it sent none)."""
    content = call.request.content
    return json.loads(content) if content else None


# --- a loopback HTTP server -------------------------------------------------------------------------


class Drop:
    """Answer nothing and close the connection (after the request was fully received)."""


class Hang:
    """Answer nothing and keep the connection open until the server stops."""


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # JSON-encoded unless bytes
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[str, str, bytes], Awaitable[Reply | Drop | Hang]]


@dataclass
class SeenRequest:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes


class LoopbackServer:
    """HTTP/1.1 with keep-alive on 127.0.0.1, just enough for httpx; counts connections in use."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[SeenRequest] = []
        self.open_connections = 0
        self.max_open_connections = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopping = asyncio.Event()

    @property
    def base_url(self) -> str:
        assert self._server is not None
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/v1"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)

    async def stop(self) -> None:
        self._stopping.set()
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.open_connections += 1
        self.max_open_connections = max(self.max_open_connections, self.open_connections)
        try:
            await self._serve(reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self.open_connections -= 1
            writer.close()
            self._tasks.discard(task)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
            request_line, *lines = head.split("\r\n")
            method, target, _ = request_line.split(" ", 2)
            headers = {k.strip().lower(): v.strip() for k, v in (ln.split(":", 1) for ln in lines if ln)}
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            self.requests.append(SeenRequest(method, target, headers, body))
            reply = await self.handler(method, target, body)
            if isinstance(reply, Drop):
                return
            if isinstance(reply, Hang):
                await self._stopping.wait()
                return
            payload = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
            extra = "".join(f"{k}: {v}\r\n" for k, v in reply.headers.items())
            writer.write(
                f"HTTP/1.1 {reply.status} X\r\ncontent-type: application/json\r\n"
                f"content-length: {len(payload)}\r\n{extra}\r\n".encode("latin-1")
                + payload
            )
            await writer.drain()
