"""Seed and dump of the organization's customer-managed encryption keys (the SDK's shapes, not in the spec).

    external_keys:                         # top level, beside projects
      - id: ekm_...                        # optional: generated when absent
        name: acme-prod
        type: aws                          # aws | gcp | azure | oci
        purpose: ekm                       # default ekm; psp_decryption, or null
        kms_arn: "arn:aws:kms:eu-west-1:123456789012:key/..."   # the type's fields, as create takes them
        validation: valid                  # what validate answers (the emulator has no KMS); default valid
        created_at: 1711471533             # optional: the emulator clock when absent

A project uses a key by its own `external_key_id`; a seed may name a key it does not list (a removed one).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from datacontrols.emulator.routes.external_keys import PROVIDER_FIELDS
from datacontrols.emulator.state import EmulatorState, ExternalKeyRecord, IdFactory

__all__ = ["SeedExternalKey", "dump_keys", "keys_from_seed"]


class SeedExternalKey(BaseModel):
    """One key; the type's provider fields are given beside the others, and only those are taken."""

    model_config = ConfigDict(extra="allow", strict=True)

    id: str | None = None
    name: str = Field(min_length=1)
    type: Literal["aws", "gcp", "azure", "oci"]
    purpose: Literal["ekm", "psp_decryption"] | None = "ekm"
    validation: str = "valid"
    created_at: int | None = None

    @model_validator(mode="after")
    def _fields_of_its_type(self) -> SeedExternalKey:
        required, optional = PROVIDER_FIELDS[self.type]
        extra = dict(self.model_extra or {})
        unknown = sorted(set(extra) - {*required, *optional})
        if unknown:
            raise ValueError(f"a {self.type} key has no field {', '.join(unknown)}")
        if not all(isinstance(value, str) for value in extra.values()):
            raise ValueError("a key's provider fields are strings")
        return self

    @property
    def config(self) -> dict[str, str]:
        return {name: str(value) for name, value in (self.model_extra or {}).items()}


def keys_from_seed(entries: list[SeedExternalKey], state: EmulatorState, ids: IdFactory, now: int) -> None:
    given = {e.id for e in entries if e.id is not None}  # unique: `SeedDocument` checks it
    for entry in entries:
        key_id = entry.id if entry.id is not None else ids.unused("ekm_", {*given, *state.external_keys})
        state.external_keys[key_id] = ExternalKeyRecord(
            id=key_id,
            name=entry.name,
            type=entry.type,
            purpose=entry.purpose,
            config=entry.config,
            created_at=entry.created_at if entry.created_at is not None else now,
            validation=entry.validation,
        )


def dump_keys(state: EmulatorState) -> list[dict[str, Any]]:
    return [
        {
            "id": k.id,
            "name": k.name,
            "type": k.type,
            "purpose": k.purpose,
            **k.config,
            "validation": k.validation,
            "created_at": k.created_at,
        }
        for k in state.external_keys.values()
    ]
