"""Customer-managed encryption keys, as openai-python 3.63.0's types describe them (not in the pinned spec).

- List: a cursor page `{object: "list", data, has_more}` (the next page is `after=<id of the last item>`;
  no `first_id`/`last_id`, as the SDK's `CursorPage` reads none), `limit` 1..100 default 20, `order`
  asc|desc by creation (default asc), and the `purpose` filter (`ekm` | `psp_decryption`; absent: all).
- Create: `name`, an optional `purpose` and the fields of the `type` (aws, gcp, azure, oci), the required
  ones required, nothing else. The answer adds `api_project_ids` (the projects whose `external_key_id`
  names the key), `workspace_id` and every provider field the type has (null when not sent).
- Retrieve; delete answers the key itself (not a `*.deleted` object, as the SDK says). The SDK does not say
  what a delete does to the projects bound to the key: the emulator leaves their `external_key_id` as it
  is, the worst case for a reader (a project naming a key that no longer exists).
- Validate: no body, `{status}`. The SDK enumerates no status; the emulator answers the record's, which a
  seed sets (`valid` by default), as it has no KMS to ask.

Audit events, the spec's: `external_key.registered` `{id, data: {name, type}}` and `external_key.removed`
`{id}`.
"""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel

from datacontrols.emulator.errors import ApiFailure
from datacontrols.emulator.paging import cursor_page
from datacontrols.emulator.routing import ApiRoute, Call
from datacontrols.emulator.state import EmulatorState, ExternalKeyRecord

__all__ = ["PROVIDER_FIELDS", "ROUTES", "key_object"]

LIST = "/organization/external_keys"
ONE = "/organization/external_keys/{external_key_id}"
VALIDATE = "/organization/external_keys/{external_key_id}/validate"
WORKSPACE_ID: Final = "org-emulator"

# Each type's fields (required, then optional), as the SDK's create params name them.
PROVIDER_FIELDS: Final[dict[str, tuple[tuple[str, ...], tuple[str, ...]]]] = {
    "aws": (("external_id", "kms_arn", "role_arn"), ()),
    "gcp": (
        (
            "audience",
            "kms_key_location",
            "kms_key_name",
            "kms_key_ring_name",
            "kms_project_id",
            "workload_identity_pool_id",
            "workload_identity_project_number",
            "workload_identity_provider_id",
        ),
        ("kms_key_version",),
    ),
    "azure": (("key_name", "tenant_id", "vault_uri"), ("key_version",)),
    "oci": (("key_ocid", "region", "vault_ocid"), ("key_version_ocid",)),
}
_ALL_FIELDS: Final = tuple(dict.fromkeys(f for req, opt in PROVIDER_FIELDS.values() for f in (*req, *opt)))

Purpose = Literal["ekm", "psp_decryption"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class _Common(_Strict):
    name: str = Field(min_length=1)
    purpose: Purpose | None = None


class _Aws(_Common):
    type: Literal["aws"]
    external_id: str
    kms_arn: str
    role_arn: str


class _Gcp(_Common):
    type: Literal["gcp"]
    audience: str
    kms_key_location: str
    kms_key_name: str
    kms_key_ring_name: str
    kms_project_id: str
    workload_identity_pool_id: str
    workload_identity_project_number: str
    workload_identity_provider_id: str
    kms_key_version: str | None = None


class _Azure(_Common):
    type: Literal["azure"]
    key_name: str
    tenant_id: str
    vault_uri: str
    key_version: str | None = None


class _Oci(_Common):
    type: Literal["oci"]
    key_ocid: str
    region: str
    vault_ocid: str
    key_version_ocid: str | None = None


class _CreateBody(RootModel[Annotated[_Aws | _Gcp | _Azure | _Oci, Field(discriminator="type")]]):
    """A union of four shapes, discriminated by `type`."""


def key_object(state: EmulatorState, record: ExternalKeyRecord) -> dict[str, Any]:
    """The `ExternalKey` the API answers for a record."""
    return {
        "id": record.id,
        "object": "organization.external_key",
        "created_at": record.created_at,
        "name": record.name,
        "type": record.type,
        "purpose": record.purpose,
        "workspace_id": WORKSPACE_ID,
        "api_project_ids": [p.id for p in state.projects.values() if p.external_key_id == record.id],
        **{name: record.config.get(name) for name in _ALL_FIELDS},
    }


def _record(call: Call) -> ExternalKeyRecord:
    return call.lookup(call.state.external_keys, "external_key_id", "external key")


def list_keys(call: Call) -> dict[str, Any]:
    purpose = call.query.get("purpose")
    if purpose is not None and purpose not in ("ekm", "psp_decryption"):
        raise ApiFailure.bad_request(
            "Invalid 'purpose': must be 'ekm' or 'psp_decryption'.", param="purpose", code="invalid_value"
        )
    records = [r for r in call.state.external_keys.values() if purpose is None or r.purpose == purpose]
    return cursor_page(call, records, lambda r: key_object(call.state, r), lambda r: r.id)


def create_key(call: Call) -> dict[str, Any]:
    body = call.body(_CreateBody).root
    sent = body.model_dump(exclude={"name", "purpose", "type"}, exclude_none=True)
    record = ExternalKeyRecord(
        id=call.ids.unused("ekm_", call.state.external_keys),
        name=body.name,
        type=body.type,
        purpose=body.purpose,
        config=sent,
        created_at=call.now,
    )
    call.state.external_keys[record.id] = record
    call.record_event(
        "external_key.registered",
        project_id=None,
        details={"id": record.id, "data": {"name": record.name, "type": record.type}},
    )
    return key_object(call.state, record)


def retrieve_key(call: Call) -> dict[str, Any]:
    return key_object(call.state, _record(call))


def delete_key(call: Call) -> dict[str, Any]:
    record = _record(call)
    answer = key_object(call.state, record)
    del call.state.external_keys[record.id]
    call.record_event("external_key.removed", project_id=None, details={"id": record.id})
    return answer


def validate_key(call: Call) -> dict[str, Any]:
    return {"status": _record(call).validation}


ROUTES = (
    ApiRoute("GET", LIST, list_keys),
    ApiRoute("POST", LIST, create_key),
    ApiRoute("GET", ONE, retrieve_key),
    ApiRoute("DELETE", ONE, delete_key),
    ApiRoute("POST", VALIDATE, validate_key),
)
