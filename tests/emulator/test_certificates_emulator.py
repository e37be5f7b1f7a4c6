"""The emulator's mTLS certificates: the rules REFERENCE.md section 19 gives, checked against the pinned spec."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from emulator_support import ADMIN_KEY, BASE_URL, check_envelope

from datacontrols.emulator import Emulator

PROJECT = "proj_certificatesupport00001"
PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    emulator = Emulator(admin_key=ADMIN_KEY, seed={"projects": [{"id": PROJECT, "name": "Support"}]}, rng_seed=0)
    async with httpx.AsyncClient(
        transport=emulator.http_transport(), base_url=BASE_URL, headers={"Authorization": f"Bearer {ADMIN_KEY}"}
    ) as client:
        yield client


async def test_upload_activate_per_project_and_delete_only_when_inactive_everywhere(http: httpx.AsyncClient) -> None:
    made = (await http.post("/organization/certificates", json={"name": "ca", "certificate": PEM})).json()
    assert made["object"] == "certificate" and "content" not in made["certificate_details"]
    listed = (await http.get("/organization/certificates")).json()
    assert [(c["name"], c["active"]) for c in listed["data"]] == [("ca", False)], "not activated on upload"
    on = await http.post(
        f"/organization/projects/{PROJECT}/certificates/activate", json={"certificate_ids": [made["id"]]}
    )
    assert on.json()["object"] == "organization.project.certificate.activation"
    project = (await http.get(f"/organization/projects/{PROJECT}/certificates")).json()
    assert [c["active"] for c in project["data"]] == [True]
    refused = await http.delete(f"/organization/certificates/{made['id']}")
    assert refused.status_code == 400
    check_envelope(refused.json())
    await http.post(f"/organization/projects/{PROJECT}/certificates/deactivate", json={"certificate_ids": [made["id"]]})
    content = (await http.get(f"/organization/certificates/{made['id']}", params={"include[]": "content"})).json()
    assert content["certificate_details"]["content"] == PEM
    deleted = await http.delete(f"/organization/certificates/{made['id']}")
    assert deleted.json() == {"object": "certificate.deleted", "id": made["id"]}


@pytest.mark.parametrize(
    "body",
    [{"certificate": "not a pem"}, {"certificate": PEM + "-----BEGIN PRIVATE KEY-----\n"}, {"name": "no content"}],
    ids=["not-pem", "with-a-private-key", "no-certificate"],
)
async def test_an_upload_that_is_not_a_public_certificate_is_refused(
    http: httpx.AsyncClient, body: dict[str, str]
) -> None:
    answer = await http.post("/organization/certificates", json=body)
    assert answer.status_code == 400
    check_envelope(answer.json())


async def test_activation_is_atomic_an_unknown_id_changes_nothing(http: httpx.AsyncClient) -> None:
    made = (await http.post("/organization/certificates", json={"name": "ca", "certificate": PEM})).json()
    answer = await http.post("/organization/certificates/activate", json={"certificate_ids": [made["id"], "cert_no"]})
    assert answer.status_code == 404
    assert [c["active"] for c in (await http.get("/organization/certificates")).json()["data"]] == [False]
