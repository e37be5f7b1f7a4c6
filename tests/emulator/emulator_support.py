"""Helpers for the emulator tests: fake time, the spec check, and the real client wired to the emulator.

Every response the client receives through `api` is checked against the official spec: documented statuses
with openapi-core, undocumented error statuses against the error envelope, and every response for its
`x-request-id`. So each client-driven test is also a contract test of the emulator.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import httpx
from werkzeug.datastructures import Headers, ImmutableMultiDict

from datacontrols.adminapi import AdminApi
from datacontrols.emulator import Emulator

ADMIN_KEY = "sk-admin-emulator-tests-0123456789"
BASE_URL = "https://api.openai.com/v1"
REQUEST_ID = re.compile(r"^req_[0-9a-f]{32}$")
START = 1_780_000_000.0


class FakeClock:
    """Time that moves only when told to (or when the fake sleep is awaited)."""

    def __init__(self, start: float = START) -> None:
        self.now = start
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += max(0.0, seconds)


def spec_path() -> Path:
    configured = os.environ.get("OPENAI_ADMIN_SPEC")
    if configured:
        return Path(configured)
    repo = Path(__file__).resolve().parents[2]
    return repo.parent / "shared" / "openai-admin-api" / "openapi-admin-subset.json"


class _Request:
    """An httpx request in the shape openapi-core reads."""

    def __init__(self, request: httpx.Request) -> None:
        from openapi_core.datatypes import RequestParameters

        self._request = request
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(list(request.url.params.multi_items())),
            header=Headers(list(request.headers.items())),
            cookie=ImmutableMultiDict(),
        )

    @property
    def host_url(self) -> str:
        return f"{self._request.url.scheme}://{self._request.url.netloc.decode()}"

    @property
    def path(self) -> str:
        return self._request.url.path

    @property
    def method(self) -> str:
        return self._request.method.lower()

    @property
    def body(self) -> bytes | None:
        return self._request.content or None

    @property
    def content_type(self) -> str:
        return self._request.headers.get("content-type", "application/json").lower()


class _Response:
    def __init__(self, response: httpx.Response) -> None:
        self.data = response.content
        self.status_code = response.status_code
        self.content_type = response.headers.get("content-type", "")
        self.headers = Headers(list(response.headers.items()))


class Spec:
    """The official spec, for validating the emulator's answers."""

    def __init__(self, path: Path) -> None:
        from openapi_core import OpenAPI

        self.document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
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
            self.openapi.validate_response(_Request(request), _Response(response))
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
