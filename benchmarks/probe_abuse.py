"""`uv run python -m benchmarks.probe_abuse [--connections N]`: the daemon's probe server under slowloris.

Opens N connections to the daemon's HTTP server that each send one byte and then nothing, then times
`/healthz` ten times. Prints the connections the server still holds and the slowest probe. The bound: the
probe answers within a second, and the server holds at most its connection cap.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import socket
import time
from typing import Any

import httpx

from datacontrols.daemon.connection_guard import DEFAULT_MAX_CONNECTIONS
from datacontrols.daemon.file_limit import raise_file_limit
from datacontrols.daemon.http import HttpServer


class _View:
    def liveness(self) -> tuple[bool, dict[str, Any]]:
        return True, {"status": "ok", "checks": {}}

    def readiness(self) -> tuple[bool, dict[str, Any]]:
        return True, {"status": "ready", "reasons": []}

    def status(self) -> dict[str, Any]:
        return {}

    def render_metrics(self) -> bytes:
        return b""


async def measure(connections: int) -> dict[str, float]:
    limit = raise_file_limit()
    server = HttpServer(_View(), "127.0.0.1", 0)
    await server.start()
    assert server.port is not None
    held: list[socket.socket] = []
    opened_at = time.monotonic()
    for index in range(connections):
        sock = socket.socket()
        sock.setblocking(False)
        try:
            sock.connect(("127.0.0.1", server.port))
        except BlockingIOError:
            pass
        except OSError:
            sock.close()
            break
        held.append(sock)
        if index % 200 == 0:
            await asyncio.sleep(0)
    for sock in held:
        with contextlib.suppress(OSError):
            sock.send(b"G")
    await asyncio.sleep(1)
    open_seconds = time.monotonic() - opened_at
    slowest = 0.0
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}", timeout=10) as http:
        for _ in range(10):
            started = time.monotonic()
            status = (await http.get("/healthz", headers={"Connection": "close"})).status_code
            assert status == 200
            slowest = max(slowest, time.monotonic() - started)
    state = server._server.server_state if server._server is not None else None
    still_held = len(state.connections) if state is not None else -1
    for sock in held:
        sock.close()
    await server.stop()
    return {
        "file_limit": float(limit or 0),
        "idle_connections_opened": float(len(held)),
        "seconds_to_open": round(open_seconds, 2),
        "server_connections_held": float(still_held),
        "connection_cap": float(DEFAULT_MAX_CONNECTIONS),
        "slowest_healthz_seconds": round(slowest, 4),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--connections", type=int, default=18_000)
    args = parser.parse_args()
    for name, value in asyncio.run(measure(args.connections)).items():
        print(f"{name:28} {value:g}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
