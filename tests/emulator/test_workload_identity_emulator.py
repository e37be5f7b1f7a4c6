"""The emulator's workload identity providers and federation rules (openai-python 3.63.0's shapes, not in the spec).

Answers are validated against closed models written from the SDK's types (SDK-NEWER.md section 8).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Literal

import httpx
import pytest
from emulator_support import ADMIN_KEY, BASE_URL, check_envelope
from pydantic import BaseModel, ConfigDict

from datacontrols.emulator import Emulator

SUPPORT = "proj_federationsupport000001"
PROVIDERS = "/organization/workload_identity_providers"


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class SdkProvider(_Closed):
    id: str
    object: Literal["organization.workload_identity_provider"]
    type: Literal["oidc"]
    name: str
    description: str | None
    issuer: str
    audience: str
    enabled: bool
    attribute_transformations: list[dict[str, str]]
    verification: dict[str, Any]
    created_at: int
    updated_at: int


class SdkRule(_Closed):
    id: str
    object: Literal["organization.workload_identity_federation_rule"]
    workload_identity_provider_id: str
    project_id: str
    service_account_id: str
    attribute_matchers: dict[str, str | bool | int | float]
    permissions: dict[str, Any]
    name: str | None
    description: str | None
    enabled: bool
    created_at: int
    updated_at: int


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    seed = {"projects": [{"id": SUPPORT, "name": "Support", "service_accounts": [{"id": "svc_a", "name": "a"}]}]}
    emulator = Emulator(admin_key=ADMIN_KEY, seed=seed, rng_seed=0)
    async with httpx.AsyncClient(
        transport=emulator.http_transport(), base_url=BASE_URL, headers={"Authorization": f"Bearer {ADMIN_KEY}"}
    ) as client:
        yield client


async def provider(http: httpx.AsyncClient) -> SdkProvider:
    body = {"name": "gh", "issuer": "https://token.actions.githubusercontent.com", "audience": "openai", "type": "oidc"}
    answer = await http.post(PROVIDERS, json=body)
    assert answer.status_code == 200, answer.text
    return SdkProvider.model_validate(answer.json())


async def test_rules_live_under_their_provider_and_keep_a_provider_from_being_deleted(
    http: httpx.AsyncClient,
) -> None:
    made = await provider(http)
    rules = f"{PROVIDERS}/{made.id}/federation_rules"
    body = {"attribute_matchers": {"repository": "acme/x"}, "project_id": SUPPORT, "service_account_id": "svc_a"}
    created = await http.post(rules, json={**body, "name": "r", "permissions": {"type": "restricted", "scopes": ["s"]}})
    assert created.status_code == 200, created.text
    rule = SdkRule.model_validate(created.json())
    assert rule.permissions == {"type": "restricted", "scopes": ["s"]}
    listed = (await http.get(rules, params={"service_account_id": "svc_a"})).json()
    assert [r["id"] for r in listed["data"]] == [rule.id] and listed["has_more"] is False
    assert (await http.get(rules, params={"service_account_id": "svc_other"})).json()["data"] == []

    refused = await http.delete(f"{PROVIDERS}/{made.id}")
    assert refused.status_code == 400
    check_envelope(refused.json())
    updated = await http.post(f"{rules}/{rule.id}", json={"enabled": False})
    assert SdkRule.model_validate(updated.json()).enabled is False
    assert (await http.post(f"{rules}/{rule.id}", json={"project_id": SUPPORT})).status_code == 400, "no re-pointing"
    deleted = await http.delete(f"{rules}/{rule.id}")
    assert deleted.json() == {
        "id": rule.id,
        "deleted": True,
        "object": "organization.workload_identity_federation_rule.deleted",
    }
    assert (await http.delete(f"{PROVIDERS}/{made.id}")).status_code == 200


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"attribute_matchers": {}, "project_id": SUPPORT, "service_account_id": "svc_nobody"}, 404),
        ({"attribute_matchers": {}, "project_id": "proj_nothere00000000000001", "service_account_id": "svc_a"}, 404),
        ({"project_id": SUPPORT, "service_account_id": "svc_a"}, 400),
        (
            {
                "attribute_matchers": {},
                "project_id": SUPPORT,
                "service_account_id": "svc_a",
                "permissions": {"type": "x"},
            },
            400,
        ),
    ],
    ids=["account-not-in-project", "unknown-project", "matchers-required", "unknown-permissions"],
)
async def test_a_wrong_rule_is_refused(http: httpx.AsyncClient, body: dict[str, Any], status: int) -> None:
    made = await provider(http)
    answer = await http.post(f"{PROVIDERS}/{made.id}/federation_rules", json=body)
    assert answer.status_code == status, answer.text
    check_envelope(answer.json())
