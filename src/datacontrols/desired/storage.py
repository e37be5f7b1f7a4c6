"""The desired-state format of external storage: where a project's data is kept, in the customer's bucket.

    external_storage: {provider: aws, geography: EU, location: acme-openai-eu}   # project files, project_defaults
    external_storage: none                  # the project must not use external storage

`provider` is required; `geography` (the OpenAI geography the API derives from the storage region, compared
case-insensitively) and `location` (the bucket; for Azure `<account_name>/<container>`) are checked only
when given. Absent = not managed. The setting is report-only: the tool never registers or removes storage
(that needs the customer's IAM setup, and removing it changes the project's retention).
"""

from __future__ import annotations

from typing import Any, Final, Literal

from pydantic import Field, field_validator

from datacontrols.desired.model import DesiredModel, Text

__all__ = [
    "EXTERNAL_STORAGE_DESCRIPTION",
    "ExternalStorage",
    "ExternalStorageSetting",
    "StorageChecks",
]


class ExternalStorage(DesiredModel):
    """The project's data is stored in this customer-managed bucket."""

    provider: Literal["aws", "azure", "gcp", "oci"] = Field(description="The cloud the bucket is in")
    geography: Text | None = Field(
        default=None,
        description="The OpenAI geography derived from the storage region (e.g. EU, US); absent = not checked",
    )
    location: Text | None = Field(
        default=None,
        description="The bucket; for Azure `<account_name>/<container>`; absent = not checked",
    )


ExternalStorageSetting = Literal["none"] | ExternalStorage

EXTERNAL_STORAGE_DESCRIPTION: Final = (
    "Customer-managed storage of the project's data: {provider: aws|azure|gcp|oci, geography: EU, location: "
    "<bucket, or account/container for Azure>} (geography and location checked only when given), or `none`: "
    "the project must not use external storage; absent = not managed. Report-only: a difference or a degraded "
    "or unhealthy configuration is shown as uncorrectable, never written"
)


class StorageChecks(DesiredModel):
    """Mixed into the classes a file is validated with: an explicit null is ambiguous, so it is refused."""

    @field_validator("external_storage", mode="before", check_fields=False)
    @classmethod
    def _refuse_null_storage(cls, value: Any) -> Any:
        if value is None:
            raise ValueError(
                "null is ambiguous here; write `none` to forbid external storage, or leave the key out to leave "
                "it unmanaged"
            )
        return value
