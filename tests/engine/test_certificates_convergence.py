"""mTLS certificates through the loader and the engine against the in-process emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from datacontrols.adminapi import AdminApi
from datacontrols.desired import load_desired_state
from datacontrols.emulator import Emulator
from datacontrols.emulator.state import CertificateRecord
from datacontrols.engine import apply, diff, observe
from datacontrols.errors import DesiredStateError
from datacontrols.export import export_organization
from datacontrols.safety import SafetyCheck
from testsupport.certificates import PEM
from testsupport.desired_files import plan_of, write_desired_state

KEY = "sk-admin-certificates-convergence-00000"
SUPPORT = "proj_certificatesupport00001"
SEED: dict[str, Any] = {"projects": [{"id": SUPPORT, "name": "Support"}, {"name": "Plain"}]}
ORGANIZATION = """\
unmanaged_projects: ignore
organization:
  certificates:
    corp-ca: {file: certificates/corp-ca.pem}
    partner: {file: certificates/partner.pem, active: false}
"""
FILES = {"support": "name: Support\ncertificates: [partner]\n", "plain": "name: Plain\n"}


def state(root: Path, organization: str = ORGANIZATION, files: dict[str, str] = FILES) -> Any:
    (root / "certificates").mkdir(parents=True, exist_ok=True)
    for name in ("corp-ca", "partner"):
        (root / "certificates" / f"{name}.pem").write_text(PEM)
    return write_desired_state(root, organization, files)


@pytest.fixture
def emulator() -> Emulator:
    return Emulator(admin_key=KEY, seed=SEED, rng_seed=9)


@pytest.fixture
async def api(emulator: Emulator) -> AsyncIterator[AdminApi]:
    client = AdminApi.connect(admin_key=KEY, http_transport=emulator.http_transport())
    yield client
    await client.aclose()


def kinds(plan: Any) -> list[tuple[str, str | None, str | None, str]]:
    return [(c.kind, c.project, c.subject, c.action) for c in plan if "certificates" in c.kind]


async def test_upload_and_activate_then_the_plan_is_empty(tmp_path: Path, api: AdminApi, emulator: Emulator) -> None:
    desired = state(tmp_path)
    observed = await observe(api, desired)
    plan = diff(desired, observed)
    assert kinds(plan) == [
        ("organization_certificates", None, "corp-ca", "create"),
        ("organization_certificates", None, "partner", "create"),
        ("project_certificates", "Support", "partner", "update"),
    ]
    assert {c.subject: c.severity for c in plan if c.kind == "organization_certificates"} == {
        "corp-ca": "critical",  # active for the organization: lets clients in
        "partner": "normal",
    }
    result = await apply(api, plan, safety=SafetyCheck.of(desired, observed, allow_unsafe=plan.digest()))
    assert result.ok, result
    records = {r.name: r for r in emulator.state.certificates.values()}
    assert records["corp-ca"].active and not records["partner"].active
    assert records["partner"].project_ids == [SUPPORT] and records["corp-ca"].project_ids == []
    assert kinds(await plan_of(api, desired)) == []


async def test_an_undeclared_active_certificate_is_deactivated_and_a_project_extra_too(
    tmp_path: Path, api: AdminApi, emulator: Emulator
) -> None:
    emulator.state.certificates["cert_old"] = CertificateRecord(
        id="cert_old", name="old", content=PEM, valid_at=0, expires_at=0, active=True, project_ids=[SUPPORT]
    )
    plan = await plan_of(api, state(tmp_path))
    found = {(c.kind, c.subject): c for c in plan if c.subject == "old"}
    organization = found[("organization_certificates", "old")]
    assert (organization.action, organization.severity) == ("update", "high")
    assert "clients presenting old are refused" in (organization.disrupts or "")
    assert found[("project_certificates", "old")].fields["active"].after is False


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (PEM + "-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n", "holds a private key"),
        ("hello\n", "is not a PEM certificate"),
        (None, "cannot read the file"),
    ],
)
def test_the_loader_refuses_a_key_or_a_missing_file_at_its_line(
    tmp_path: Path, content: str | None, message: str
) -> None:
    state(tmp_path)
    target = tmp_path / "certificates" / "partner.pem"
    if content is None:
        target.unlink()
    else:
        target.write_text(content)
    with pytest.raises(DesiredStateError) as raised:
        load_desired_state(tmp_path)
    [problem] = raised.value.problems
    assert problem.path.endswith("/organization.yaml") and problem.line == 5 and message in problem.message


def test_a_path_outside_the_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DesiredStateError, match="inside the desired-state directory"):
        state(tmp_path, ORGANIZATION.replace("certificates/partner.pem", "../partner.pem"))


async def test_export_writes_each_project_s_active_certificates(
    tmp_path: Path, api: AdminApi, emulator: Emulator
) -> None:
    emulator.state.certificates["cert_a"] = CertificateRecord(
        id="cert_a", name="a", content=PEM, valid_at=0, expires_at=0, project_ids=[SUPPORT]
    )
    result = await export_organization(api, tmp_path / "out")
    assert result.desired is not None
    support = next(p for p in result.desired.projects if p.name == "Support")
    plain = next(p for p in result.desired.projects if p.name == "Plain")
    assert (support.certificates, plain.certificates) == (["a"], None)
    assert not (await plan_of(api, result.desired)).has_changes
