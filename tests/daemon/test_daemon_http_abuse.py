"""The probe server under abuse: thousands of idle connections do not keep the kubelet's probe out."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from typing import Any

import httpx

from datacontrols.daemon.file_limit import raise_file_limit
from datacontrols.daemon.http import HttpServer


class ReadyView:
    def liveness(self) -> tuple[bool, dict[str, Any]]:
        return True, {"status": "ok", "checks": {}}

    def readiness(self) -> tuple[bool, dict[str, Any]]:
        return True, {"status": "ready", "reasons": []}

    def status(self) -> dict[str, Any]:
        return {}

    def render_metrics(self) -> bytes:
        return b""


async def _open_idle(port: int, count: int) -> list[socket.socket]:
    """`count` connections that each send one byte of a request and then nothing (slowloris)."""
    held: list[socket.socket] = []
    for _ in range(count):
        sock = socket.socket()
        sock.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            sock.connect(("127.0.0.1", port))
        held.append(sock)
        if len(held) % 100 == 0:
            await asyncio.sleep(0)  # let the server accept
    await asyncio.sleep(0.2)
    for sock in held:
        with contextlib.suppress(OSError):  # already closed by the server: that is the point
            sock.send(b"G")
    return held


async def test_healthz_answers_within_a_second_with_thousands_of_idle_connections_open() -> None:
    raise_file_limit()
    server = HttpServer(ReadyView(), "127.0.0.1", 0, max_connections=64, header_timeout=30)
    await server.start()
    assert server.port is not None
    held = await _open_idle(server.port, 1500)
    try:
        await asyncio.sleep(0.2)
        state = server._server.server_state if server._server is not None else None
        assert state is not None and len(state.connections) <= 64, "idle connections are evicted, not held"
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}", timeout=5) as http:
            for _ in range(5):
                started = time.monotonic()
                response = await http.get("/healthz", headers={"Connection": "close"})
                assert response.status_code == 200
                assert time.monotonic() - started < 1.0
    finally:
        for sock in held:
            sock.close()
        await server.stop()


async def test_a_connection_that_never_completes_a_request_is_closed() -> None:
    server = HttpServer(ReadyView(), "127.0.0.1", 0, header_timeout=0.3)
    await server.start()
    assert server.port is not None
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # the headers never end
        await writer.drain()
        closed = await asyncio.wait_for(reader.read(), timeout=3)  # EOF once the server closes it
        assert closed == b""
        writer.close()
    finally:
        await server.stop()
