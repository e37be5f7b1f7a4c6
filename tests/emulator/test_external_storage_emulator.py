"""The emulator's external storage routes, as openai-python 3.63.0's types describe them (not in the pinned spec).

The spec cannot check these answers, so each one is validated here against a closed model written from the
SDK's `ExternalStorageConfiguration` and provider types (SDK-NEWER.md section 2): every field required,
nothing else allowed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Literal

import httpx
import pytest
from emulator_support import ADMIN_KEY, BASE_URL, check_envelope
from pydantic import BaseModel, ConfigDict

from datacontrols.emulator import Emulator
from datacontrols.emulator.seed import dump_state, load_seed
from testsupport.clock import FakeClock

LIST = "/organization/external_storage"
SUPPORT = "proj_storagesupport000000001"
OTHER = "proj_storageother00000000001"
OLD = "proj_storagearchived00000001"
ROLE = "arn:aws:iam::123456789012:role/openai-storage"
AWS = {"type": "aws", "bucket": "acme-eu", "role_arn": ROLE}
AZURE = {
    "type": "azure",
    "account_name": "acmestore",
    "container": "openai",
    "resource_group": "rg",
    "subscription_id": "sub",
    "tenant_id": "tenant",
}
GCP = {
    "type": "gcp",
    "bucket": "acme-gcs",
    "workload_identity_pool_id": "pool",
    "workload_identity_project_number": "123",
    "workload_identity_provider_id": "prov",
}
OCI = {"type": "oci", "bucket": "acme-oci", "region": "eu-frankfurt-1", "tenancy_ocid": "ocid1.tenancy.oc1..x"}


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class SdkAws(_Closed):
    type: Literal["aws"]
    bucket: str
    role_arn: str
    account_id: str
    external_id: str
    region: str


class SdkAzure(_Closed):
    type: Literal["azure"]
    account_name: str
    container: str
    resource_group: str
    subscription_id: str
    tenant_id: str
    region: str


class SdkGcp(_Closed):
    type: Literal["gcp"]
    bucket: str
    workload_identity_pool_id: str
    workload_identity_project_number: str
    workload_identity_provider_id: str
    audience: str
    region: str


class SdkOci(_Closed):
    type: Literal["oci"]
    bucket: str
    region: str
    tenancy_ocid: str


class SdkConfiguration(_Closed):
    id: str
    created_at: int
    geography: str
    object: Literal["organization.external_storage"]
    project_id: str
    provider: SdkAws | SdkAzure | SdkGcp | SdkOci
    status: Literal["pending", "validated", "degraded", "unhealthy"]


class SdkPage(_Closed):
    object: Literal["list"]
    data: list[SdkConfiguration]
    has_more: bool


class SdkDeleted(_Closed):
    id: str
    deleted: bool
    object: Literal["organization.external_storage.deleted"]


SEED: dict[str, Any] = {
    "projects": [
        {"id": SUPPORT, "name": "Support", "external_storage": [{"id": "extstore_a", "provider": AWS}]},
        {
            "id": OTHER,
            "name": "Other",
            "external_storage": [
                {"id": "extstore_b", "provider": OCI, "status": "unhealthy"},
                {"id": "extstore_c", "provider": AZURE, "geography": "EU", "status": "degraded"},
            ],
        },
        {"id": OLD, "name": "Old", "status": "archived"},
    ]
}


@pytest.fixture
def emulator(clock: FakeClock) -> Emulator:
    return Emulator(admin_key=ADMIN_KEY, seed=SEED, rng_seed=0, clock=clock, sleep=clock.sleep)


@pytest.fixture
async def http(emulator: Emulator) -> AsyncIterator[httpx.AsyncClient]:
    """A bare client (the `raw` fixture checks answers against the pinned spec, which has no such paths)."""
    async with httpx.AsyncClient(
        transport=emulator.http_transport(), base_url=BASE_URL, headers={"Authorization": f"Bearer {ADMIN_KEY}"}
    ) as client:
        yield client


async def listed(http: httpx.AsyncClient, **params: Any) -> SdkPage:
    response = await http.get(LIST, params=params)
    assert response.status_code == 200, response.text
    return SdkPage.model_validate(response.json())


async def test_the_list_is_a_cursor_page_in_creation_order(http: httpx.AsyncClient) -> None:
    first = await listed(http, limit=2)
    assert [c.id for c in first.data] == ["extstore_a", "extstore_b"] and first.has_more
    rest = await listed(http, limit=2, after="extstore_b")
    assert [c.id for c in rest.data] == ["extstore_c"] and not rest.has_more
    backwards = await listed(http, order="desc")
    assert [c.id for c in backwards.data] == ["extstore_c", "extstore_b", "extstore_a"]


async def test_the_project_filter_lists_that_projects_configurations_only(http: httpx.AsyncClient) -> None:
    assert [c.id for c in (await listed(http, project_id=OTHER)).data] == ["extstore_b", "extstore_c"]
    assert [c.project_id for c in (await listed(http, project_id=SUPPORT)).data] == [SUPPORT]
    assert (await listed(http, project_id="proj_nothing")).data == []


async def test_seeded_configurations_carry_the_derived_fields_and_their_status(http: httpx.AsyncClient) -> None:
    by_id = {c.id: c for c in (await listed(http)).data}
    aws = by_id["extstore_a"]
    assert isinstance(aws.provider, SdkAws) and aws.provider.account_id == "123456789012"
    assert (aws.status, aws.geography) == ("validated", "US"), "a seeded one is validated unless it says otherwise"
    assert (by_id["extstore_b"].status, by_id["extstore_b"].geography) == ("unhealthy", "EU"), "from eu-frankfurt-1"
    assert (by_id["extstore_c"].status, by_id["extstore_c"].geography) == ("degraded", "EU"), "as seeded"


@pytest.mark.parametrize(
    ("params", "param"),
    [
        pytest.param({"after": "extstore_nope"}, "after", id="unknown-cursor"),
        pytest.param({"order": "sideways"}, "order", id="bad-order"),
        pytest.param({"limit": 0}, "limit", id="limit-too-small"),
        pytest.param({"limit": 101}, "limit", id="limit-too-large"),
    ],
)
async def test_bad_list_queries_are_400(http: httpx.AsyncClient, params: dict[str, Any], param: str) -> None:
    response = await http.get(LIST, params=params)
    assert response.status_code == 400
    assert check_envelope(response.json())["param"] == param


@pytest.mark.parametrize("provider", [AWS, AZURE, GCP, OCI], ids=lambda p: p["type"])
async def test_register_answers_the_sdk_shape_pending_and_is_audited(
    http: httpx.AsyncClient, emulator: Emulator, provider: dict[str, str]
) -> None:
    response = await http.post(LIST, json={"project_id": SUPPORT, "provider": provider})
    assert response.status_code == 200, response.text
    created = SdkConfiguration.model_validate(response.json())
    assert (created.project_id, created.status, created.provider.type) == (SUPPORT, "pending", provider["type"])
    assert created.provider.model_dump().items() >= provider.items(), "what was sent is answered back"
    got = await http.get(f"{LIST}/{created.id}")
    assert SdkConfiguration.model_validate(got.json()) == created
    [event] = [e for e in emulator.state.events if e.type == "external_storage.registered"]
    assert event.project_id == SUPPORT and event.details["id"] == created.id
    assert event.details["data"] == {"geography": created.geography, "provider": created.provider.model_dump()}


@pytest.mark.parametrize(
    ("body", "status", "param"),
    [
        pytest.param({"provider": AWS}, 400, "project_id", id="no-project"),
        pytest.param({"project_id": SUPPORT}, 400, "provider", id="no-provider"),
        pytest.param({"project_id": SUPPORT, "provider": {"type": "aws", "bucket": "b"}}, 400, None, id="no-role"),
        pytest.param({"project_id": SUPPORT, "provider": {**AWS, "region": "x"}}, 400, None, id="derived-field-sent"),
        pytest.param({"project_id": SUPPORT, "provider": {**AWS, "type": "ibm"}}, 400, None, id="unknown-type"),
        pytest.param({"project_id": "proj_nothing", "provider": AWS}, 404, "project_id", id="unknown-project"),
        pytest.param({"project_id": OLD, "provider": AWS}, 400, "project_id", id="archived-project"),
    ],
)
async def test_bad_registrations_are_refused_and_change_nothing(
    http: httpx.AsyncClient, emulator: Emulator, body: dict[str, Any], status: int, param: str | None
) -> None:
    response = await http.post(LIST, json=body)
    assert response.status_code == status
    error = check_envelope(response.json())
    if param is not None:
        assert error["param"] == param
    assert len(emulator.state.external_storage) == 3 and not emulator.state.events


@pytest.mark.parametrize("method", ["GET", "DELETE"])
async def test_unknown_ids_are_404(http: httpx.AsyncClient, method: str) -> None:
    response = await http.request(method, f"{LIST}/extstore_nope")
    assert response.status_code == 404
    assert check_envelope(response.json())["param"] == "external_storage_id"
    assert (await http.post(f"{LIST}/extstore_nope/validate")).status_code == 404


async def test_delete_disconnects_once_and_is_audited(http: httpx.AsyncClient, emulator: Emulator) -> None:
    response = await http.delete(f"{LIST}/extstore_b")
    assert SdkDeleted.model_validate(response.json()) == SdkDeleted(
        id="extstore_b", deleted=True, object="organization.external_storage.deleted"
    )
    assert [c.id for c in (await listed(http, project_id=OTHER)).data] == ["extstore_c"]
    assert (await http.delete(f"{LIST}/extstore_b")).status_code == 404
    [event] = emulator.state.events
    assert (event.type, event.project_id, event.details) == ("external_storage.removed", OTHER, {"id": "extstore_b"})


async def test_validate_answers_the_configuration_and_validates_a_pending_one(http: httpx.AsyncClient) -> None:
    created = SdkConfiguration.model_validate(
        (await http.post(LIST, json={"project_id": SUPPORT, "provider": GCP})).json()
    )
    validated = SdkConfiguration.model_validate((await http.post(f"{LIST}/{created.id}/validate")).json())
    assert validated.status == "validated" and validated.id == created.id
    unhealthy = SdkConfiguration.model_validate((await http.post(f"{LIST}/extstore_b/validate")).json())
    assert unhealthy.status == "unhealthy", "the emulator has no cloud to ask: a failing one stays failing"


def test_seed_and_dump_round_trip(emulator: Emulator) -> None:
    dumped = dump_state(emulator.state)
    again = Emulator(admin_key=ADMIN_KEY, seed=dumped, rng_seed=9)
    assert dump_state(again.state) == dumped
    assert dumped["projects"][1]["external_storage"][0]["provider"]["region"] == "eu-frankfurt-1"


@pytest.mark.parametrize(
    ("storage", "message"),
    [
        pytest.param({"provider": {"type": "ibm"}}, "provider.type", id="unknown-provider"),
        pytest.param({"provider": AWS, "status": "broken"}, "status", id="unknown-status"),
    ],
)
def test_seed_refuses_what_the_api_cannot_hold(storage: dict[str, Any], message: str) -> None:
    with pytest.raises(Exception, match=message):
        load_seed({"projects": [{"name": "P", "external_storage": [storage]}]})
