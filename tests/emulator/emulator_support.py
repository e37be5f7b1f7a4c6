"""Helpers for the emulator tests: the spec check and the real client wired to the emulator.

Every response the client receives through `api` is checked against the official spec: documented statuses
with openapi-core, undocumented error statuses against the error envelope, and every response for its
`x-request-id`. So each client-driven test is also a contract test of the emulator.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx

from datacontrols.adminapi import AdminApi
from datacontrols.emulator import Emulator
from testsupport.clock import FakeClock
from testsupport.spec import HttpxOpenAPIRequest, HttpxOpenAPIResponse, spec_document

ADMIN_KEY = "sk-admin-emulator-tests-0123456789"
BASE_URL = "https://api.openai.com/v1"
REQUEST_ID = re.compile(r"^req_[0-9a-f]{32}$")


class Spec:
    """The official spec, for validating the emulator's answers."""

    def __init__(self, path: Path) -> None:
        from openapi_core import OpenAPI

        self.document = spec_document(path)
        self.openapi = OpenAPI.from_dict(self.document)

    def documented_statuses(self, method: str, path: str) -> set[int]:
        api_path = path.removeprefix("/v1")
        for template, item in self.document["paths"].items():
            pattern = re.sub(r"\\\{[a-z_]+\\\}", "[^/]+", re.escape(template))
            if re.fullmatch(pattern, api_path) and method.lower() in item:
                return {int(code) for code in item[method.lower()]["responses"]}
        return set()

    def check(self, request: httpx.Request, response: httpx.Response) -> None:
        assert REQUEST_ID.match(response.headers.get("x-request-id", "")), "every answer carries x-request-id"
        documented = self.documented_statuses(request.method, request.url.path)
        if response.status_code in documented:
            self.openapi.validate_response(HttpxOpenAPIRequest(request), HttpxOpenAPIResponse(response))
        else:
            assert response.status_code >= 400, f"undocumented success {response.status_code}"
            check_envelope(response.json())


def check_envelope(body: Any) -> dict[str, Any]:
    """The spec's ErrorResponse: exactly `error` with message/type (strings) and param/code (string or null)."""
    assert isinstance(body, dict) and set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"message", "type", "param", "code"}, error
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["type"], str) and error["type"]
    assert error["param"] is None or isinstance(error["param"], str)
    assert error["code"] is None or isinstance(error["code"], str)
    return error


class ValidatingTransport(httpx.AsyncBaseTransport):
    """Passes requests to the emulator and checks every answer against the spec."""

    def __init__(self, inner: httpx.AsyncBaseTransport, spec: Spec | None) -> None:
        self._inner = inner
        self._spec = spec
        self.checked = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        await response.aread()
        if self._spec is not None:  # without the spec, behaviour is still tested, shapes are not
            self._spec.check(request, response)
            self.checked += 1
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


def connect(emulator: Emulator, clock: FakeClock, spec: Spec | None = None, **options: Any) -> AdminApi:
    """The real client on the emulator, with fake sleep and clock so retries cost no time."""
    inner = emulator.http_transport()
    transport = ValidatingTransport(inner, spec) if spec is not None else inner
    return AdminApi.connect(
        admin_key=ADMIN_KEY,
        base_url=BASE_URL,
        http_transport=transport,
        sleep=clock.sleep,
        clock=clock,
        **options,
    )
