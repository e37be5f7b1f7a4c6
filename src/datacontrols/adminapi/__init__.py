"""The typed, async OpenAI Admin API client.

    async with AdminApi.connect(admin_key=key) as api:
        projects = await api.projects.list(include_archived=True)

One `Transport` (one httpx.AsyncClient) per `AdminApi`; each endpoint family is a small module whose class
is attached here. Adding a family is one module and one line in `AdminApi.__init__`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from types import TracebackType

import httpx
from pydantic import SecretStr

from datacontrols.adminapi.api_keys import AdminApiKeys, ProjectApiKeys
from datacontrols.adminapi.audit_logs import AuditLogs
from datacontrols.adminapi.budget import RequestBudget
from datacontrols.adminapi.certificates import Certificates
from datacontrols.adminapi.external_keys import ExternalKeys
from datacontrols.adminapi.external_storage import ExternalStorage
from datacontrols.adminapi.groups import OrganizationGroups, ProjectGroups, ProjectRoles
from datacontrols.adminapi.members import Invites, OrganizationUsers, ProjectUsers
from datacontrols.adminapi.permissions import HostedToolPermissionsApi, ModelPermissionsApi
from datacontrols.adminapi.projects import Projects
from datacontrols.adminapi.rate_limits import RateLimits
from datacontrols.adminapi.retention import DataRetention
from datacontrols.adminapi.roles import RoleAssignments, Roles
from datacontrols.adminapi.service_accounts import ServiceAccounts
from datacontrols.adminapi.service_tiers import ServiceTiers
from datacontrols.adminapi.spend import Spend
from datacontrols.adminapi.transport import DEFAULT_BASE_URL, RequestRecord, RetryPolicy, Transport
from datacontrols.adminapi.workload_identity import WorkloadIdentity

__all__ = ["DEFAULT_BASE_URL", "AdminApi", "RequestBudget", "RequestRecord", "RetryPolicy", "Transport"]


class AdminApi:
    """The Admin API, grouped by endpoint family."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport
        self.retention = DataRetention(transport)
        self.projects = Projects(transport)
        self.model_permissions = ModelPermissionsApi(transport)
        self.hosted_tools = HostedToolPermissionsApi(transport)
        self.external_storage = ExternalStorage(transport)  # not in the pinned spec: the SDK's shapes
        self.service_tiers = ServiceTiers(transport)  # not in the pinned spec: the SDK's shapes
        self.workload_identity = WorkloadIdentity(transport)  # not in the pinned spec: the SDK's shapes
        self.certificates = Certificates(transport)
        self.external_keys = ExternalKeys(transport)  # not in the pinned spec: the SDK's shapes
        # access: people, groups, service accounts and keys
        self.organization_users = OrganizationUsers(transport)
        self.invites = Invites(transport)
        self.project_users = ProjectUsers(transport)
        self.groups = OrganizationGroups(transport)
        self.project_groups = ProjectGroups(transport)
        self.project_roles = ProjectRoles(transport)
        self.roles = Roles(transport)  # custom roles, of the organization and of a project
        self.role_assignments = RoleAssignments(transport)
        self.service_accounts = ServiceAccounts(transport)
        self.project_api_keys = ProjectApiKeys(transport)
        self.admin_api_keys = AdminApiKeys(transport)
        self.audit_logs = AuditLogs(transport)
        self.rate_limits = RateLimits(transport)
        self.spend = Spend(transport)

    @classmethod
    def connect(
        cls,
        *,
        admin_key: str | SecretStr,
        base_url: str = DEFAULT_BASE_URL,
        read_only: bool = False,
        retry: RetryPolicy | None = None,
        timeout: float = 30.0,
        connect_timeout: float = 5.0,
        concurrency: int = 4,
        max_concurrency: int = 8,
        max_connections: int = 8,
        http_transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        on_request: Callable[[RequestRecord], None] | None = None,
        budget: RequestBudget | None = None,
    ) -> AdminApi:
        """A client of the Admin API at `base_url`, authenticated with `admin_key`. Use it as an async
        context manager (or call `aclose()`), so its connections are closed.

        - `read_only=True`: a client whose HTTP layer refuses anything but GET before sending (a dry run).
        - `retry`: how hard each call tries (`RetryPolicy`: retries, delays, the budget of seconds per call).
        - `timeout`, `connect_timeout`: seconds per request and per connection attempt.
        - `concurrency`, `max_concurrency`: requests in flight at first and at most (halved on each 429);
          `max_connections`: the connection pool's size.
        - `http_transport`: an httpx transport to send through (the emulator's, a cache, a test double).
        - `sleep`, `clock`: the waiting and the monotonic clock retries use (virtual time in tests).
        - `on_request`: called with a `RequestRecord` after each exchange (metrics; no URL ids, no headers).
        - `budget`: a hard cap on requests per endpoint (`RequestBudget`), shared by every client given it.

        The key is sent only as the Authorization header to `base_url` and never appears in a message, a
        repr or a log line. Creating a client sends nothing.
        """
        return cls(
            Transport(
                admin_key=admin_key,
                base_url=base_url,
                read_only=read_only,
                retry=retry,
                timeout=timeout,
                connect_timeout=connect_timeout,
                concurrency=concurrency,
                max_concurrency=max_concurrency,
                max_connections=max_connections,
                http_transport=http_transport,
                sleep=sleep,
                clock=clock,
                on_request=on_request,
                budget=budget,
            )
        )

    @property
    def read_only(self) -> bool:
        return self.transport.read_only

    def __repr__(self) -> str:
        return f"AdminApi({self.transport!r})"

    async def aclose(self) -> None:
        await self.transport.aclose()

    async def __aenter__(self) -> AdminApi:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
