"""The desired-state format of customer-managed encryption keys: which key protects a project's data.

    encryption_key: {name: acme-prod-ekm}              # project files, project_defaults
    encryption_key: {name: acme-prod-ekm, type: aws}   # type (aws|azure|gcp|oci) checked when given
    encryption_key: openai_managed                     # the project must not use a customer-managed key

`name` is the key's name as registered (`/organization/external_keys`), compared exactly. Absent = not
managed. The setting is report-only: the tool never registers, deletes or rotates a key and never binds
one (that is `external_key_id`, by id, which the project lifecycle applies), so a file that says the
opposite of its own `external_key_id` is refused.
"""

from __future__ import annotations

from typing import Any, Final, Literal

from pydantic import Field, field_validator, model_validator

from datacontrols.desired.model import DesiredModel, Text

__all__ = [
    "ENCRYPTION_KEY_DESCRIPTION",
    "EncryptionKey",
    "EncryptionKeySetting",
    "KeyChecks",
]


class EncryptionKey(DesiredModel):
    """The project's data is encrypted with this customer-managed key."""

    name: Text = Field(description="The key's name as registered in the organization")
    type: Literal["aws", "azure", "gcp", "oci"] | None = Field(
        default=None, description="The cloud whose KMS holds the key; absent = not checked"
    )


EncryptionKeySetting = Literal["openai_managed"] | EncryptionKey

ENCRYPTION_KEY_DESCRIPTION: Final = (
    "The customer-managed key that encrypts the project's data: {name: <registered key name>, type: "
    "aws|azure|gcp|oci} (type checked only when given), or `openai_managed`: the project must not use a "
    "customer-managed key; absent = not managed. Report-only: a project without the key, bound to another or "
    "to one that cannot be used is shown as uncorrectable, never written"
)


class KeyChecks(DesiredModel):
    """Mixed into the classes a file is validated with: an explicit null is ambiguous, so it is refused, and a
    project file may not contradict its own `external_key_id`."""

    @field_validator("encryption_key", mode="before", check_fields=False)
    @classmethod
    def _refuse_null_key(cls, value: Any) -> Any:
        if value is None:
            raise ValueError(
                "null is ambiguous here; write `openai_managed` to forbid a customer-managed key, or leave the key "
                "out to leave it unmanaged"
            )
        return value

    @model_validator(mode="after")
    def _agrees_with_external_key_id(self) -> Any:
        if "external_key_id" not in self.model_fields_set or "encryption_key" not in self.model_fields_set:
            return self
        bound, wanted = getattr(self, "external_key_id", None), getattr(self, "encryption_key", None)
        if bound is None and isinstance(wanted, EncryptionKey):
            raise ValueError(
                "`external_key_id: null` clears the project's key, and `encryption_key` requires one; drop one"
            )
        if bound is not None and wanted == "openai_managed":
            raise ValueError(
                f"`external_key_id: {bound}` binds a customer-managed key, and `encryption_key: openai_managed` "
                "forbids one; drop one"
            )
        return self
