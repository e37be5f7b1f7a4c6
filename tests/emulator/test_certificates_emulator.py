"""mTLS certificates as the spec describes them; every answer is checked against the spec by the `raw` fixture.

`PEM` is a real self-signed certificate (made once with openssl; its key was thrown away, and a certificate
is public anyway), so the DER reading in `emulator/pem.py` is tested on what a user would upload.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from emulator_support import check_envelope

from datacontrols.emulator import Emulator
from datacontrols.emulator.pem import certificate_validity
from datacontrols.emulator.seed import SeedError
from testsupport.certificates import PEM

VALID_AT = int(datetime(2026, 12, 7, 12, 19, 43, tzinfo=UTC).timestamp())  # openssl x509 -noout -dates
EXPIRES_AT = int(datetime(2028, 1, 11, 12, 19, 43, tzinfo=UTC).timestamp())
PROJECT = "proj_certificates00000000001"


@pytest.fixture
def seeded(emulator: Emulator) -> Emulator:
    emulator.load_seed({"projects": [{"id": PROJECT, "name": "Certs"}]})
    return emulator


def ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def refused(response: httpx.Response, status: int, param: str) -> None:
    assert response.status_code == status, response.text
    assert check_envelope(response.json())["param"] == param


async def upload(raw: httpx.AsyncClient, name: str | None = "gateway") -> dict[str, Any]:
    return ok(await raw.post("/organization/certificates", json={"certificate": PEM, "name": name}))


def test_the_validity_is_read_from_the_certificate() -> None:
    assert certificate_validity(PEM) == (VALID_AT, EXPIRES_AT)


def der_with_times(not_before: bytes, not_after: bytes) -> str:
    """A structurally complete certificate (nothing signed) with the given UTCTime values."""

    def tlv(tag: int, body: bytes) -> bytes:
        return bytes([tag, len(body)]) + body

    validity = tlv(0x30, tlv(0x17, not_before) + tlv(0x17, not_after))
    tbs = tlv(0x30, tlv(0xA0, tlv(0x02, b"\x02")) + tlv(0x02, b"\x01") + tlv(0x30, b"") + tlv(0x30, b"") + validity)
    body = base64.b64encode(tlv(0x30, tbs + tlv(0x30, b"") + tlv(0x03, b"\x00"))).decode()
    return f"-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n"


def test_two_digit_years_follow_rfc_5280() -> None:
    """50..99 are 19xx and 00..49 are 20xx (Python's %y would put 1960 at 2060)."""
    valid_at, expires_at = certificate_validity(der_with_times(b"600101000000Z", b"490101000000Z"))
    assert datetime.fromtimestamp(valid_at, UTC).year == 1960
    assert datetime.fromtimestamp(expires_at, UTC).year == 2049


@pytest.mark.parametrize(
    "content",
    ["not a certificate", PEM.replace("MIIB", "!!!!"), PEM + PEM, PEM.replace("CERTIFICATE", "PUBLIC KEY")],
    ids=["text", "not-base64", "two-blocks", "other-block"],
)
async def test_an_upload_must_be_one_pem_certificate(raw: httpx.AsyncClient, content: str) -> None:
    refused(await raw.post("/organization/certificates", json={"certificate": content}), 400, "certificate")


async def test_a_certificate_is_uploaded_read_renamed_and_deleted(raw: httpx.AsyncClient, emulator: Emulator) -> None:
    created = await upload(raw)
    assert (created["object"], created["name"]) == ("certificate", "gateway")
    assert created["certificate_details"] == {"valid_at": VALID_AT, "expires_at": EXPIRES_AT}
    one = f"/organization/certificates/{created['id']}"
    assert ok(await raw.get(one)) == created, "without include, no content and no active"
    for include in ("include[]", "include"):
        assert ok(await raw.get(one, params={include: "content"}))["certificate_details"]["content"] == PEM
    refused(await raw.get(one, params={"include[]": "key"}), 400, "include")
    assert ok(await raw.post(one, json={"name": "edge"}))["name"] == "edge"
    assert ok(await raw.delete(one)) == {"object": "certificate.deleted", "id": created["id"]}
    refused(await raw.get(one), 404, "certificate_id")
    types = [e.type for e in emulator.events]
    assert types == ["certificate.created", "certificate.updated", "certificate.deleted"]
    assert emulator.events[2].details == {"id": created["id"], "name": "edge", "certificate": PEM}


async def test_activation_for_the_organization_and_for_projects(raw: httpx.AsyncClient, seeded: Emulator) -> None:
    first, second = await upload(raw, "a"), await upload(raw, "b")
    assert [c["active"] for c in ok(await raw.get("/organization/certificates"))["data"]] == [False, False]
    body = {"certificate_ids": [first["id"]]}
    activated = ok(await raw.post("/organization/certificates/activate", json=body))
    assert activated["object"] == "organization.certificate.activation"
    assert [(c["id"], c["active"]) for c in activated["data"]] == [(first["id"], True)]
    assert ok(await raw.post("/organization/certificates/activate", json=body)) == activated, "idempotent"
    listed = ok(await raw.get("/organization/certificates"))["data"]
    assert [(c["id"], c["active"]) for c in listed] == [(second["id"], False), (first["id"], True)], "newest first"
    in_project = f"/organization/projects/{PROJECT}/certificates"
    assert [c["active"] for c in ok(await raw.get(in_project))["data"]] == [False, False], "a project's own flag"
    both = {"certificate_ids": [first["id"], second["id"]]}
    project_on = ok(await raw.post(f"{in_project}/activate", json=both))
    assert project_on["object"] == "organization.project.certificate.activation"
    assert {c["object"] for c in project_on["data"]} == {"organization.project.certificate"}
    asc = ok(await raw.get(in_project, params={"order": "asc"}))["data"]
    assert [(c["id"], c["active"]) for c in asc] == [(first["id"], True), (second["id"], True)]
    off = ok(await raw.post(f"{in_project}/deactivate", json={"certificate_ids": [second["id"]]}))
    assert off["object"] == "organization.project.certificate.deactivation" and off["data"][0]["active"] is False
    assert [e.type for e in seeded.events][-3:] == [
        "certificates.activated",
        "certificates.activated",
        "certificates.deactivated",
    ]


async def test_activation_is_atomic_and_takes_1_to_10_ids(raw: httpx.AsyncClient, emulator: Emulator) -> None:
    known = (await upload(raw))["id"]
    unknown = await raw.post("/organization/certificates/activate", json={"certificate_ids": [known, "cert_nope"]})
    refused(unknown, 404, "certificate_ids")
    assert emulator.state.certificates[known].active is False, "nothing changed"
    for ids in ([], [known] * 11):
        refused(
            await raw.post("/organization/certificates/activate", json={"certificate_ids": ids}), 400, "certificate_ids"
        )


async def test_an_active_certificate_cannot_be_deleted(raw: httpx.AsyncClient, seeded: Emulator) -> None:
    """ "The certificate must be inactive for the organization and all projects.\""""
    cert = (await upload(raw))["id"]
    body = {"certificate_ids": [cert]}
    ok(await raw.post(f"/organization/projects/{PROJECT}/certificates/activate", json=body))
    refused(await raw.delete(f"/organization/certificates/{cert}"), 400, "certificate_id")
    ok(await raw.post(f"/organization/projects/{PROJECT}/certificates/deactivate", json=body))
    ok(await raw.post("/organization/certificates/activate", json=body))
    refused(await raw.delete(f"/organization/certificates/{cert}"), 400, "certificate_id")
    ok(await raw.post("/organization/certificates/deactivate", json=body))
    ok(await raw.delete(f"/organization/certificates/{cert}"))


async def test_at_most_50_certificates(raw: httpx.AsyncClient, emulator: Emulator) -> None:
    """ "Organizations can upload up to 50 certificates.\""""
    emulator.load_seed({"certificates": [{"content": PEM} for _ in range(50)]})
    refused(await raw.post("/organization/certificates", json={"certificate": PEM}), 400, "certificate")


async def test_certificates_survive_a_dump_and_a_reload(raw: httpx.AsyncClient, seeded: Emulator) -> None:
    cert = (await upload(raw))["id"]
    ok(await raw.post(f"/organization/projects/{PROJECT}/certificates/activate", json={"certificate_ids": [cert]}))
    before = dict(seeded.state.certificates)
    seeded.load_seed(seeded.dump_state())
    assert seeded.state.certificates == before


@pytest.mark.parametrize(
    ("entry", "message"),
    [({"content": "nope"}, "PEM CERTIFICATE"), ({"content": PEM, "projects": ["Nowhere"]}, "no project 'Nowhere'")],
)
def test_a_seeded_certificate_is_checked(emulator: Emulator, entry: dict[str, Any], message: str) -> None:
    with pytest.raises(SeedError, match=message):
        emulator.load_seed({"certificates": [entry]})
