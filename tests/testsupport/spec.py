"""The official Admin API spec for tests: where it is, why a test skips without it, and openapi-core adapters.

The spec is found through `OPENAI_ADMIN_SPEC`, else at `<repo>/../shared/openai-admin-api/openapi-admin-subset.json`.
It is never copied into the repository; a test that needs it skips, saying where it looked.
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path
from typing import Any

import httpx
import pytest
from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers, ImmutableMultiDict

__all__ = [
    "ENV_VAR",
    "SHARED_SPEC",
    "HttpxOpenAPIRequest",
    "HttpxOpenAPIResponse",
    "find_spec",
    "missing_reason",
    "require_spec_document",
    "require_spec_path",
    "spec_candidates",
    "spec_document",
]

ENV_VAR = "OPENAI_ADMIN_SPEC"
REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_SPEC = Path("shared") / "openai-admin-api" / "openapi-admin-subset.json"  # beside the repository


def spec_candidates() -> list[Path]:
    """Where the spec may be, in order: the environment variable, then the path beside the repository."""
    candidates = []
    configured = os.environ.get(ENV_VAR)
    if configured:
        candidates.append(Path(configured))
    candidates.append(REPO_ROOT.parent / SHARED_SPEC)
    return candidates


def find_spec() -> Path | None:
    return next((path for path in spec_candidates() if path.is_file()), None)


def missing_reason() -> str:
    """Why the spec tests skip: what was looked at, and what to set."""
    configured = os.environ.get(ENV_VAR)
    looked = f"{ENV_VAR}={configured!r} (not a file), " if configured else f"{ENV_VAR} unset, "
    return (
        f"the official Admin API spec was not found: {looked}"
        f"and no file at <repo>/../{SHARED_SPEC.as_posix()}; set {ENV_VAR} to run the tests that need it"
    )


def require_spec_path(*, module_level: bool = False) -> Path:
    """The spec's path; without one, skip the calling test (or its whole module) and say why."""
    path = find_spec()
    if path is None:
        pytest.skip(missing_reason(), allow_module_level=module_level)
    return path


def require_spec_document() -> dict[str, Any]:
    """The parsed spec (read once per file per session); without one, skip the calling test."""
    return spec_document(require_spec_path())


@functools.cache
def spec_document(path: Path) -> dict[str, Any]:
    """The spec at `path`, parsed once per session for every folder that reads it (about 1 MB of JSON)."""
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document


class HttpxOpenAPIRequest:
    """An httpx request in the shape of openapi-core's `Request` protocol."""

    def __init__(self, request: httpx.Request) -> None:
        self._request = request
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(list(request.url.params.multi_items())),
            header=Headers(list(request.headers.items())),
            cookie=ImmutableMultiDict(),
        )

    @property
    def host_url(self) -> str:
        return f"{self._request.url.scheme}://{self._request.url.netloc.decode('ascii')}"

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
        content_type: str = self._request.headers.get("content-type", "application/json")
        return content_type.lower()


class HttpxOpenAPIResponse:
    """An (already read) httpx response in the shape of openapi-core's `Response` protocol."""

    def __init__(self, response: httpx.Response) -> None:
        self.data: bytes | None = response.content
        self.status_code = response.status_code
        self.content_type = response.headers.get("content-type", "")
        self.headers = Headers(list(response.headers.items()))
