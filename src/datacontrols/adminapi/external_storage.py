"""Customer-managed external storage (`/organization/external_storage`): where a project's data is kept.

Not in the pinned spec: the shapes are openai-python 3.63.0's (`types/admin/organization/`, see
SDK-NEWER.md section 2). A configuration ties one project to a bucket of the customer's AWS, Azure, GCP or
OCI account; its `provider` is discriminated by `type` and the response adds values the customer never sent
(`region`, `account_id`, `external_id`, `audience`). `geography` is the OpenAI geography derived from the
storage region; `status` is pending | validated | degraded | unhealthy.

The list is a cursor page (`{data, has_more}`, next page `after=<id of the last item>`) and takes a
`project_id` filter. Only reads are here: registering or removing storage needs the customer's IAM setup,
and removing a project's last configuration puts back organization-default retention, so this tool never
writes it.
"""

from __future__ import annotations

from typing import Final

from datacontrols.adminapi.base import ApiModel, Family, parse
from datacontrols.adminapi.transport import route

__all__ = [
    "PROVIDERS",
    "STORAGE_STATUSES",
    "ExternalStorage",
    "ExternalStorageConfiguration",
    "StorageProvider",
]

LIST_PATH = "/organization/external_storage"
ONE_PATH = "/organization/external_storage/{external_storage_id}"

PROVIDERS: Final[tuple[str, ...]] = ("aws", "azure", "gcp", "oci")
STORAGE_STATUSES: Final[tuple[str, ...]] = ("pending", "validated", "degraded", "unhealthy")


class StorageProvider(ApiModel):
    """One provider shape, read leniently: every provider's fields are optional, `type` says which apply."""

    type: str  # aws | azure | gcp | oci, and values the API may add
    bucket: str | None = None  # aws, gcp, oci
    region: str | None = None
    # aws
    role_arn: str | None = None
    account_id: str | None = None
    external_id: str | None = None
    # azure
    account_name: str | None = None
    container: str | None = None
    resource_group: str | None = None
    subscription_id: str | None = None
    tenant_id: str | None = None
    # gcp
    workload_identity_pool_id: str | None = None
    workload_identity_project_number: str | None = None
    workload_identity_provider_id: str | None = None
    audience: str | None = None
    # oci
    tenancy_ocid: str | None = None

    @property
    def location(self) -> str | None:
        """Where the data lands, in one string: the bucket, or for Azure `<account_name>/<container>`."""
        if self.type == "azure":
            if self.account_name is None and self.container is None:
                return None
            return f"{self.account_name or ''}/{self.container or ''}"
        return self.bucket


class ExternalStorageConfiguration(ApiModel):
    id: str
    object: str = "organization.external_storage"
    project_id: str
    provider: StorageProvider
    geography: str | None = None
    status: str  # pending | validated | degraded | unhealthy, and values the API may add
    created_at: int | None = None


class ExternalStorage(Family):
    async def list(self, *, project_id: str | None = None) -> list[ExternalStorageConfiguration]:
        """Every configuration of the organization, or of one project, following pagination to its end."""
        where = route(LIST_PATH)
        params = {"project_id": project_id} if project_id is not None else None
        return [
            parse(ExternalStorageConfiguration, item, where) async for item in self._t.paginate(where, params=params)
        ]

    async def get(self, external_storage_id: str) -> ExternalStorageConfiguration | None:
        """One configuration; None when it does not exist."""
        return await self._get_or_none(
            ExternalStorageConfiguration, route(ONE_PATH, external_storage_id=external_storage_id)
        )
