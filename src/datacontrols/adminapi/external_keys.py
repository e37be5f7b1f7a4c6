"""Customer-managed encryption keys (`/organization/external_keys`): who can decrypt a project's data.

Not in the pinned spec: the shapes are openai-python 3.63.0's (`types/admin/organization/`, see
SDK-NEWER.md section 1). A key is a customer-held KMS key of AWS, GCP, Azure or OCI that OpenAI encrypts a
project's data at rest with (purpose `ekm`; the SDK also knows `psp_decryption`, which it never explains).
The key does not name its projects' binding: the binding is the project's `external_key_id` (in the spec),
and `api_project_ids` is its read-only reverse view.

The list is a cursor page (`{data, has_more}`, next page `after=<id of the last item>`) and takes a
`purpose` filter. Only reads are here. `POST .../validate` (OpenAI checks it can use the key) is a POST,
which a dry run's client refuses by construction, and its status values are not enumerated; creating or
deleting a key needs the customer's KMS and IAM setup, and the SDK does not say what a delete does to the
projects bound to it; so this tool never sends either.
"""

from __future__ import annotations

from typing import Final

from pydantic import Field

from datacontrols.adminapi.base import ApiModel, Family, parse
from datacontrols.adminapi.transport import route

__all__ = ["KEY_PURPOSES", "KEY_TYPES", "ExternalKey", "ExternalKeys"]

LIST_PATH = "/organization/external_keys"
ONE_PATH = "/organization/external_keys/{external_key_id}"

KEY_TYPES: Final[tuple[str, ...]] = ("aws", "azure", "gcp", "oci")
KEY_PURPOSES: Final[tuple[str, ...]] = ("ekm", "psp_decryption")


class ExternalKey(ApiModel):
    """One registered key, read leniently: every provider's fields are optional, `type` says which apply."""

    id: str
    object: str = "organization.external_key"  # a plain string in the SDK, no literal
    name: str
    type: str  # aws | azure | gcp | oci, and values the API may add
    purpose: str | None = None  # ekm | psp_decryption | null
    api_project_ids: list[str] = Field(default_factory=list)
    workspace_id: str | None = None
    created_at: int | None = None
    # aws
    kms_arn: str | None = None
    role_arn: str | None = None
    external_id: str | None = None
    # gcp
    kms_project_id: str | None = None
    kms_key_location: str | None = None
    kms_key_ring_name: str | None = None
    kms_key_name: str | None = None
    kms_key_version: str | None = None
    # azure
    vault_uri: str | None = None
    key_name: str | None = None
    key_version: str | None = None
    tenant_id: str | None = None
    # oci
    vault_ocid: str | None = None
    key_ocid: str | None = None
    key_version_ocid: str | None = None
    region: str | None = None

    @property
    def encrypts_data(self) -> bool:
        """Whether the key is for encrypting data at rest (EKM). A null purpose is given the benefit of the
        doubt (create makes `purpose` optional and the SDK names no default); `psp_decryption`, which the SDK
        never explains, and any value it may add, are not read as EKM."""
        return self.purpose in (None, "ekm")

    @property
    def locator(self) -> str | None:
        """Where the key lives in the customer's cloud, in one string (the ARN, key name, vault key or OCID)."""
        if self.type == "aws":
            return self.kms_arn
        if self.type == "gcp" and self.kms_key_name:
            ring = f"{self.kms_project_id or ''}/{self.kms_key_location or ''}/{self.kms_key_ring_name or ''}"
            return f"{ring}/{self.kms_key_name}"
        if self.type == "azure" and self.key_name:
            return f"{self.vault_uri or ''}/keys/{self.key_name}"
        if self.type == "oci":
            return self.key_ocid
        return None


class ExternalKeys(Family):
    async def list(self, *, purpose: str | None = None) -> list[ExternalKey]:
        """Every key of the organization (of one purpose when given), following pagination to its end."""
        where = route(LIST_PATH)
        params = {"purpose": purpose} if purpose is not None else None
        return [parse(ExternalKey, item, where) async for item in self._t.paginate(where, params=params)]

    async def get(self, external_key_id: str) -> ExternalKey | None:
        """One key; None when it does not exist (a project may still name a removed key)."""
        return await self._get_or_none(ExternalKey, route(ONE_PATH, external_key_id=external_key_id))
