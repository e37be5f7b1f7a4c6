"""The baseline: how a naive tool reads an organization, to put every figure of ours next to a ratio.

It is what a first script (or a young Terraform provider) does:
- one plain `httpx.AsyncClient`, one request at a time;
- a fixed 3 retries with a fixed 1 s sleep on 429 and 5xx, ignoring Retry-After;
- every setting of every project it sees, managed or not;
- the first page of each list only, at the server's default size (20 for most lists): `has_more` ignored.
  (The last is a real bug: a third-party provider returned only the first 20 projects.)

It reads what our engine reads, minus what a naive tool never thinks of: the project's roles and its
groups' role assignments (so it cannot tell a group's role) and the admin key list.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

__all__ = ["NaiveClient", "NaiveResult"]

BASE_URL = "https://api.openai.com/v1"
ORGANIZATION_READS = (
    "/organization/data_retention",
    "/organization/spend_limit",
    "/organization/spend_alerts",
    "/organization/users",
    "/organization/groups",
    "/organization/invites",
)
PROJECT_READS = (
    "data_retention",
    "model_permissions",
    "hosted_tool_permissions",
    "rate_limits",
    "spend_limit",
    "spend_alerts",
    "users",
    "groups",
    "service_accounts",
    "api_keys",
)
RETRYABLE = frozenset({429, 500, 502, 503, 504})


@dataclass
class Read:
    """One logical read: its endpoint template, whether it ended well, and for a list whether it was cut."""

    template: str
    ok: bool
    truncated: bool = False
    items: int = 0


@dataclass
class NaiveResult:
    reads: list[Read] = field(default_factory=list)
    projects_seen: int = 0

    @property
    def failed(self) -> int:
        return sum(not r.ok for r in self.reads)

    @property
    def truncated(self) -> int:
        return sum(r.truncated for r in self.reads)

    def completed(self) -> Counter[str]:
        """Reads per endpoint template that succeeded and were complete."""
        return Counter(r.template for r in self.reads if r.ok and not r.truncated)


class NaiveClient:
    def __init__(
        self,
        http_transport: httpx.AsyncBaseTransport,
        *,
        admin_key: str,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        retries: int = 3,
        retry_delay: float = 1.0,
    ) -> None:
        self._http = httpx.AsyncClient(
            base_url=BASE_URL, transport=http_transport, headers={"Authorization": f"Bearer {admin_key}"}
        )
        self._sleep = sleep
        self._retries = retries
        self._retry_delay = retry_delay

    async def aclose(self) -> None:
        await self._http.aclose()

    async def read_organization(self) -> NaiveResult:
        result = NaiveResult()
        projects = await self._read("/organization/projects", "/organization/projects", result)
        for path in ORGANIZATION_READS:
            await self._read(path, path, result)
        seen = [p["id"] for p in projects.get("data", [])] if projects else []
        result.projects_seen = len(seen)
        for project_id in seen:
            for setting in PROJECT_READS:
                template = f"/organization/projects/{{project_id}}/{setting}"
                await self._read(f"/organization/projects/{project_id}/{setting}", template, result)
        return result

    async def _read(self, path: str, template: str, result: NaiveResult) -> Mapping[str, Any] | None:
        attempt = 0
        while True:
            response = await self._http.get(path)
            if response.status_code not in RETRYABLE or attempt >= self._retries:
                break
            attempt += 1
            await self._sleep(self._retry_delay)
        ok = response.status_code < 300 or response.status_code == 404  # 404: "not set" (spend limit, models)
        body: Mapping[str, Any] | None = response.json() if response.status_code < 300 else None
        is_list = body is not None and body.get("object") == "list"
        items = len(body.get("data", [])) if body is not None and is_list else 0
        truncated = bool(body is not None and is_list and body.get("has_more"))
        result.reads.append(Read(f"GET {template}", ok, truncated, items))
        return body
