"""Customer-managed external storage, as openai-python 3.63.0's types describe it (not in the pinned spec).

- List: a cursor page `{object: "list", data, has_more}` (the next page is `after=<id of the last item>`;
  no `first_id`/`last_id`, as the SDK's `CursorPage` reads none), `limit` 1..100 default 20, `order`
  asc|desc by creation (default asc), and the `project_id` filter (a project with none: an empty page).
- Create: `project_id` and a `provider` discriminated by `type`, every request field required, nothing else.
  The answer adds what OpenAI derives (`region`; for AWS `account_id` from the role and an `external_id`;
  for GCP the `audience`), the `geography` of the region (the emulator's guess: an EU region is `EU`,
  anything else `US`) and `status: pending`. Archived or unknown projects are refused (400, 404).
- Retrieve, delete (`organization.external_storage.deleted`) and validate (the emulator has no cloud to ask:
  a pending configuration becomes validated; degraded and unhealthy ones, seeded, stay as they are).
  Unknown ids answer 404.

Audit events, as the SDK names them: `external_storage.registered` `{id, data: {geography, provider}}` and
`external_storage.removed` `{id}`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from datacontrols.emulator.errors import ApiFailure
from datacontrols.emulator.paging import cursor_page
from datacontrols.emulator.routing import ApiRoute, Call
from datacontrols.emulator.state import ExternalStorageRecord

__all__ = ["ROUTES", "derive_provider", "geography_of"]

LIST = "/organization/external_storage"
ONE = "/organization/external_storage/{external_storage_id}"
VALIDATE = "/organization/external_storage/{external_storage_id}/validate"

_DEFAULT_REGION = {"aws": "us-east-1", "azure": "eastus", "gcp": "us-central1"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class _Aws(_Strict):
    type: Literal["aws"]
    bucket: str
    role_arn: str


class _Azure(_Strict):
    type: Literal["azure"]
    account_name: str
    container: str
    resource_group: str
    subscription_id: str
    tenant_id: str


class _Gcp(_Strict):
    type: Literal["gcp"]
    bucket: str
    workload_identity_pool_id: str
    workload_identity_project_number: str
    workload_identity_provider_id: str


class _Oci(_Strict):
    type: Literal["oci"]
    bucket: str
    region: str
    tenancy_ocid: str


class _CreateBody(_Strict):
    project_id: str
    provider: Annotated[_Aws | _Azure | _Gcp | _Oci, Field(discriminator="type")]


def geography_of(region: str | None) -> str:
    """The OpenAI geography of a storage region, as far as the emulator guesses it: EU or US."""
    name = (region or "").lower()
    return "EU" if name.startswith("eu") or "europe" in name else "US"


def derive_provider(provider: dict[str, str], external_id: str) -> dict[str, str]:
    """The provider object the API answers for one a client sent: the derived fields added."""
    answered = dict(provider)
    kind = answered["type"]
    answered.setdefault("region", _DEFAULT_REGION.get(kind, "us-east-1"))
    if kind == "aws":
        parts = answered.get("role_arn", "").split(":")
        answered.setdefault("account_id", parts[4] if len(parts) > 4 else "")
        answered.setdefault("external_id", external_id)
    if kind == "gcp":
        answered.setdefault(
            "audience",
            f"//iam.googleapis.com/projects/{answered.get('workload_identity_project_number', '')}/locations/global/"
            f"workloadIdentityPools/{answered.get('workload_identity_pool_id', '')}/providers/"
            f"{answered.get('workload_identity_provider_id', '')}",
        )
    return answered


def _object(record: ExternalStorageRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "object": "organization.external_storage",
        "created_at": record.created_at,
        "geography": record.geography,
        "project_id": record.project_id,
        "provider": dict(record.provider),
        "status": record.status,
    }


def _record(call: Call) -> ExternalStorageRecord:
    return call.lookup(call.state.external_storage, "external_storage_id", "external storage configuration")


def list_storage(call: Call) -> dict[str, Any]:
    project_id = call.query.get("project_id")
    records = [r for r in call.state.external_storage.values() if project_id is None or r.project_id == project_id]
    return cursor_page(call, records, _object, lambda r: r.id)


def create_storage(call: Call) -> dict[str, Any]:
    body = call.body(_CreateBody)
    project = call.state.projects.get(body.project_id)
    if project is None:
        raise ApiFailure.not_found(f"No project found with id '{body.project_id}'.", param="project_id")
    if project.archived:
        raise ApiFailure.bad_request(
            f"Project '{project.id}' is archived; archived projects cannot be updated.",
            param="project_id",
            code="project_archived",
        )
    provider = derive_provider(body.provider.model_dump(), call.ids.resource("", 32))
    record = ExternalStorageRecord(
        id=call.ids.unused("extstore_", call.state.external_storage),
        project_id=project.id,
        provider=provider,
        geography=geography_of(provider.get("region")),
        created_at=call.now,
    )
    call.state.external_storage[record.id] = record
    call.record_event(
        "external_storage.registered",
        project_id=project.id,
        details={"id": record.id, "data": {"geography": record.geography, "provider": dict(provider)}},
    )
    return _object(record)


def retrieve_storage(call: Call) -> dict[str, Any]:
    return _object(_record(call))


def delete_storage(call: Call) -> dict[str, Any]:
    record = _record(call)
    del call.state.external_storage[record.id]
    call.record_event("external_storage.removed", project_id=record.project_id, details={"id": record.id})
    return {"id": record.id, "object": "organization.external_storage.deleted", "deleted": True}


def validate_storage(call: Call) -> dict[str, Any]:
    record = _record(call)
    if record.status == "pending":
        record.status = "validated"
    return _object(record)


ROUTES = (
    ApiRoute("GET", LIST, list_storage),
    ApiRoute("POST", LIST, create_storage),
    ApiRoute("GET", ONE, retrieve_storage),
    ApiRoute("DELETE", ONE, delete_storage),
    ApiRoute("POST", VALIDATE, validate_storage),
)
