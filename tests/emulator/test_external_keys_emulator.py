"""The emulator's encryption key routes, as openai-python 3.63.0's types describe them (not in the pinned spec).

The spec cannot check these answers, so each one is validated here against a closed model written from the
SDK's `ExternalKey` (SDK-NEWER.md section 1): the required fields required, every provider field present
(null when not sent), nothing else allowed.
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

LIST = "/organization/external_keys"
BOUND = "proj_keysbound0000000000001"
PLAIN = "proj_keysplain0000000000001"
KMS_ARN = "arn:aws:kms:eu-west-1:123456789012:key/1111"
AWS = {"type": "aws", "name": "acme-aws", "external_id": "x", "kms_arn": KMS_ARN, "role_arn": "arn:aws:iam::1:role/r"}
GCP = {
    "type": "gcp",
    "name": "acme-gcp",
    "audience": "aud",
    "kms_key_location": "europe-west4",
    "kms_key_name": "key",
    "kms_key_ring_name": "ring",
    "kms_project_id": "acme",
    "workload_identity_pool_id": "pool",
    "workload_identity_project_number": "123",
    "workload_identity_provider_id": "prov",
}
AZURE = {"type": "azure", "name": "acme-azure", "key_name": "k", "tenant_id": "t", "vault_uri": "https://v"}
OCI = {"type": "oci", "name": "acme-oci", "key_ocid": "ocid1.key", "region": "eu-frankfurt-1", "vault_ocid": "v"}


class SdkExternalKey(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    id: str
    api_project_ids: list[str]
    created_at: int
    name: str
    object: str
    type: str
    workspace_id: str
    purpose: Literal["ekm", "psp_decryption"] | None
    external_id: str | None
    kms_arn: str | None
    role_arn: str | None
    audience: str | None
    kms_key_location: str | None
    kms_key_name: str | None
    kms_key_ring_name: str | None
    kms_key_version: str | None
    kms_project_id: str | None
    workload_identity_pool_id: str | None
    workload_identity_project_number: str | None
    workload_identity_provider_id: str | None
    key_name: str | None
    key_version: str | None
    tenant_id: str | None
    vault_uri: str | None
    key_ocid: str | None
    key_version_ocid: str | None
    region: str | None
    vault_ocid: str | None


class SdkPage(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    object: Literal["list"]
    data: list[SdkExternalKey]
    has_more: bool


SEED: dict[str, Any] = {
    "projects": [
        {"id": BOUND, "name": "Bound", "external_key_id": "ekm_a"},
        {"id": PLAIN, "name": "Plain"},
    ],
    "external_keys": [
        {"id": "ekm_a", "name": "acme-prod", "type": "aws", "kms_arn": KMS_ARN},
        {"id": "ekm_b", "name": "acme-psp", "type": "azure", "purpose": "psp_decryption", "validation": "failed"},
        {"id": "ekm_c", "name": "acme-oci", "type": "oci", "key_ocid": "ocid1.key"},
    ],
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
    assert [k.id for k in first.data] == ["ekm_a", "ekm_b"] and first.has_more
    rest = await listed(http, limit=2, after="ekm_b")
    assert [k.id for k in rest.data] == ["ekm_c"] and not rest.has_more
    assert [k.id for k in (await listed(http, order="desc")).data] == ["ekm_c", "ekm_b", "ekm_a"]


async def test_the_purpose_filter_and_the_projects_a_key_protects(http: httpx.AsyncClient) -> None:
    assert [k.id for k in (await listed(http, purpose="psp_decryption")).data] == ["ekm_b"]
    assert [k.id for k in (await listed(http, purpose="ekm")).data] == ["ekm_a", "ekm_c"]
    by_id = {k.id: k for k in (await listed(http)).data}
    assert by_id["ekm_a"].api_project_ids == [BOUND], "the projects whose external_key_id names it"
    assert by_id["ekm_c"].api_project_ids == []
    assert (by_id["ekm_a"].kms_arn, by_id["ekm_a"].vault_uri) == (KMS_ARN, None)


@pytest.mark.parametrize(
    ("params", "param"),
    [
        pytest.param({"after": "ekm_nope"}, "after", id="unknown-cursor"),
        pytest.param({"order": "sideways"}, "order", id="bad-order"),
        pytest.param({"purpose": "signing"}, "purpose", id="bad-purpose"),
        pytest.param({"limit": 101}, "limit", id="limit-too-large"),
    ],
)
async def test_bad_list_queries_are_400(http: httpx.AsyncClient, params: dict[str, Any], param: str) -> None:
    response = await http.get(LIST, params=params)
    assert response.status_code == 400
    assert check_envelope(response.json())["param"] == param


@pytest.mark.parametrize("body", [AWS, GCP, AZURE, OCI], ids=lambda b: b["type"])
async def test_register_answers_the_sdk_shape_and_is_audited(
    http: httpx.AsyncClient, emulator: Emulator, body: dict[str, str]
) -> None:
    response = await http.post(LIST, json={**body, "purpose": "ekm"})
    assert response.status_code == 200, response.text
    created = SdkExternalKey.model_validate(response.json())
    assert created.model_dump().items() >= body.items(), "what was sent is answered back"
    assert (created.purpose, created.api_project_ids) == ("ekm", [])
    got = await http.get(f"{LIST}/{created.id}")
    assert SdkExternalKey.model_validate(got.json()) == created
    [event] = emulator.state.events
    assert (event.type, event.details) == (
        "external_key.registered",
        {"id": created.id, "data": {"name": body["name"], "type": body["type"]}},
    )


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({k: v for k, v in AWS.items() if k != "kms_arn"}, id="a-required-field-missing"),
        pytest.param({k: v for k, v in AWS.items() if k != "name"}, id="no-name"),
        pytest.param({**AWS, "vault_uri": "https://v"}, id="another-types-field"),
        pytest.param({**AWS, "type": "hsm"}, id="unknown-type"),
        pytest.param({**AWS, "purpose": "signing"}, id="unknown-purpose"),
    ],
)
async def test_bad_registrations_are_refused_and_change_nothing(
    http: httpx.AsyncClient, emulator: Emulator, body: dict[str, Any]
) -> None:
    response = await http.post(LIST, json=body)
    assert response.status_code == 400
    check_envelope(response.json())
    assert len(emulator.state.external_keys) == 3 and not emulator.state.events


async def test_delete_answers_the_key_and_leaves_its_projects_naming_it(
    http: httpx.AsyncClient, emulator: Emulator
) -> None:
    response = await http.delete(f"{LIST}/ekm_a")
    deleted = SdkExternalKey.model_validate(response.json())
    assert (deleted.id, deleted.api_project_ids) == ("ekm_a", [BOUND]), "the key itself, not a *.deleted object"
    assert (await http.get(f"{LIST}/ekm_a")).status_code == 404
    assert emulator.state.projects[BOUND].external_key_id == "ekm_a", "the SDK does not say: the worst case"
    [event] = emulator.state.events
    assert (event.type, event.details) == ("external_key.removed", {"id": "ekm_a"})


async def test_validate_answers_the_seeded_status(http: httpx.AsyncClient) -> None:
    assert (await http.post(f"{LIST}/ekm_a/validate")).json() == {"status": "valid"}
    assert (await http.post(f"{LIST}/ekm_b/validate")).json() == {"status": "failed"}
    missing = await http.post(f"{LIST}/ekm_nope/validate")
    assert missing.status_code == 404 and check_envelope(missing.json())["param"] == "external_key_id"


def test_seed_and_dump_round_trip(emulator: Emulator) -> None:
    dumped = dump_state(emulator.state)
    again = Emulator(admin_key=ADMIN_KEY, seed=dumped, rng_seed=9)
    assert dump_state(again.state) == dumped
    assert dumped["external_keys"][0] == {
        "id": "ekm_a",
        "name": "acme-prod",
        "type": "aws",
        "purpose": "ekm",
        "kms_arn": KMS_ARN,
        "validation": "valid",
        "created_at": dumped["external_keys"][0]["created_at"],
    }


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        pytest.param([{"name": "k", "type": "hsm"}], "type", id="unknown-type"),
        pytest.param([{"name": "k", "type": "aws", "vault_uri": "v"}], "no field vault_uri", id="another-types-field"),
        pytest.param([{"id": "e", "name": "k", "type": "aws"}] * 2, "used twice", id="an-id-twice"),
    ],
)
def test_seed_refuses_what_the_api_cannot_hold(keys: list[dict[str, Any]], message: str) -> None:
    with pytest.raises(Exception, match=message):
        load_seed({"external_keys": keys})
