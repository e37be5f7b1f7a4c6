"""`reconcile export` of the organization's certificates: each one's PEM into `certificates/`, its entry into
`organization: certificates:`, and planning the written files is empty; a certificate whose PEM the API does
not return leaves the list out whole; a different file in the way is refused before anything is written."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from datacontrols.adminapi import AdminApi
from datacontrols.emulator import Emulator
from datacontrols.emulator.state import CertificateRecord
from datacontrols.errors import ConfigError
from datacontrols.export import export_organization
from datacontrols.kinds.certificates import pem_paths
from testsupport.certificates import PEM
from testsupport.desired_files import plan_of

KEY = "sk-admin-certificates-export-000000000"
SUPPORT = "proj_certificatesexport00001"
SEED: dict[str, Any] = {"projects": [{"id": SUPPORT, "name": "Support"}, {"name": "Plain"}]}


@pytest.fixture
def emulator() -> Emulator:
    emu = Emulator(admin_key=KEY, seed=SEED, rng_seed=9)
    certificates = [
        CertificateRecord(id="cert_org", name="corp-ca", content=PEM, valid_at=0, expires_at=0, active=True),
        CertificateRecord(
            id="cert_sup", name="Partner CA/2026", content=PEM, valid_at=0, expires_at=0, project_ids=[SUPPORT]
        ),
        CertificateRecord(id="cert_off", name="old", content=PEM, valid_at=0, expires_at=0),
    ]
    emu.state.certificates.update({c.id: c for c in certificates})
    return emu


@pytest.fixture
async def api(emulator: Emulator) -> AsyncIterator[AdminApi]:
    async with AdminApi.connect(admin_key=KEY, http_transport=emulator.http_transport()) as client:
        yield client


async def test_export_writes_each_certificate_s_pem_and_entry_and_then_the_plan_is_empty(
    tmp_path: Path, api: AdminApi, emulator: Emulator
) -> None:
    out = tmp_path / "out"
    result = await export_organization(api, out)
    assert result.desired is not None
    declared = result.desired.organization.organization.certificates
    assert declared is not None
    assert {name: (s.file, s.active) for name, s in declared.items()} == {
        "corp-ca": ("certificates/corp-ca.pem", True),
        "Partner CA/2026": ("certificates/Partner-CA-2026.pem", False),
        "old": ("certificates/old.pem", False),
    }
    for setting in declared.values():
        assert (out / setting.file).read_text() == PEM
    assert result.desired.certificates == {name: PEM for name in declared}, "the loader read them back"
    support = next(p for p in result.desired.projects if p.name == "Support")
    assert support.certificates == ["Partner CA/2026"]
    assert not (await plan_of(api, result.desired)).has_changes
    reads = emulator.requests.for_template("/organization/certificates/{certificate_id}", "GET")
    assert len(reads) == 3 and all(e.query.get("include[]") == "content" for e in reads)


async def test_a_certificate_without_content_leaves_the_list_out_with_a_note(
    tmp_path: Path, api: AdminApi, emulator: Emulator
) -> None:
    emulator.state.certificates["cert_off"].content = "not a certificate"
    result = await export_organization(api, tmp_path / "out")
    assert result.desired is not None and result.desired.organization.organization.certificates is None
    assert any("no PEM certificate for old" in note for note in result.notes)
    assert not (tmp_path / "out" / "certificates").exists()


async def test_a_different_file_in_the_way_is_refused_before_any_write(tmp_path: Path, api: AdminApi) -> None:
    out = tmp_path / "out"
    (out / "certificates").mkdir(parents=True)
    (out / "certificates" / "old.pem").write_text("mine\n")
    with pytest.raises(ConfigError, match="exists with other content"):
        await export_organization(api, out)
    assert not (out / "organization.yaml").exists() and (out / "certificates" / "old.pem").read_text() == "mine\n"
    result = await export_organization(api, out, force=True)
    assert (out / "certificates" / "old.pem").read_text() == PEM and result.desired is not None


def test_pem_paths_are_safe_and_distinct() -> None:
    assert pem_paths(["a b", "a/b", "../x", "A-B"]) == {
        "../x": "certificates/x.pem",
        "A-B": "certificates/A-B.pem",
        "a b": "certificates/a-b-2.pem",
        "a/b": "certificates/a-b-3.pem",
    }
