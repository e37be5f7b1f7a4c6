"""HTTPS_PROXY and NO_PROXY are honoured, and the proxy never sees the admin key."""

from __future__ import annotations

import asyncio

import pytest

from datacontrols.adminapi import AdminApi, RetryPolicy
from datacontrols.adminapi.proxy import proxy_for
from datacontrols.errors import ApiError

KEY = "sk-admin-proxytest-" + "p" * 32


def test_proxy_comes_from_the_environment_and_no_proxy_exempts(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    assert proxy_for("https://api.openai.com/v1") is None
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    assert proxy_for("https://api.openai.com/v1") == "http://proxy.internal:3128"
    assert proxy_for("http://127.0.0.1:8089/v1") is None, "plain http uses HTTP_PROXY, which is unset"
    monkeypatch.setenv("NO_PROXY", "api.openai.com")
    assert proxy_for("https://api.openai.com/v1") is None


async def test_requests_go_through_the_proxy_as_a_connect_without_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    received: list[bytes] = []

    async def proxy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        received.append(await reader.readuntil(b"\r\n\r\n"))
        writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")  # refuse the tunnel
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(proxy, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{port}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    async with server:
        api = AdminApi.connect(admin_key=KEY, base_url="https://api.openai.com/v1", retry=RetryPolicy(budget_seconds=0))
        async with api:
            with pytest.raises(ApiError):
                await api.projects.list()
    assert received, "the request went to the proxy"
    assert received[0].startswith(b"CONNECT api.openai.com:443 HTTP/1.1")
    assert KEY.encode() not in b"".join(received), "the proxy sees only the tunnel request"
