"""The typed, async OpenAI Admin API client.

    async with AdminApi.connect(admin_key=key) as api:
        projects = await api.projects.list(include_archived=True)

One `Transport` (one httpx.AsyncClient) per `AdminApi`; each endpoint family is a small module whose class
is attached here. Adding a family is one module and one line in `AdminApi.__init__`.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

from pydantic import SecretStr

from datacontrols.adminapi.api_keys import AdminApiKeys, ProjectApiKeys
from datacontrols.adminapi.audit_logs import AuditLogs
from datacontrols.adminapi.groups import OrganizationGroups, ProjectGroups, ProjectRoles
from datacontrols.adminapi.members import Invites, OrganizationUsers, ProjectUsers
from datacontrols.adminapi.permissions import HostedToolPermissionsApi, ModelPermissionsApi
from datacontrols.adminapi.projects import Projects
from datacontrols.adminapi.rate_limits import RateLimits
from datacontrols.adminapi.retention import DataRetention
from datacontrols.adminapi.service_accounts import ServiceAccounts
from datacontrols.adminapi.spend import Spend
from datacontrols.adminapi.transport import DEFAULT_BASE_URL, RetryPolicy, Transport

__all__ = ["DEFAULT_BASE_URL", "AdminApi", "RetryPolicy", "Transport"]


class AdminApi:
    """The Admin API, grouped by endpoint family."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport
        self.retention = DataRetention(transport)
        self.projects = Projects(transport)
        self.model_permissions = ModelPermissionsApi(transport)
        self.hosted_tools = HostedToolPermissionsApi(transport)
        # access: people, groups, service accounts and keys
        self.organization_users = OrganizationUsers(transport)
        self.invites = Invites(transport)
        self.project_users = ProjectUsers(transport)
        self.groups = OrganizationGroups(transport)
        self.project_groups = ProjectGroups(transport)
        self.project_roles = ProjectRoles(transport)
        self.service_accounts = ServiceAccounts(transport)
        self.project_api_keys = ProjectApiKeys(transport)
        self.admin_api_keys = AdminApiKeys(transport)
        self.audit_logs = AuditLogs(transport)
        self.rate_limits = RateLimits(transport)
        self.spend = Spend(transport)

    @classmethod
    def connect(
        cls, *, admin_key: str | SecretStr, base_url: str = DEFAULT_BASE_URL, read_only: bool = False, **options: Any
    ) -> AdminApi:
        """Build a client; `read_only=True` gives one that cannot send anything but GET."""
        return cls(Transport(admin_key=admin_key, base_url=base_url, read_only=read_only, **options))

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
