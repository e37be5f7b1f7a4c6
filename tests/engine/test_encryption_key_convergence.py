"""Encryption keys through the engine against the in-process emulator: reported, never written.

Desired state is written as YAML and loaded by the real loader. The plan reports a project without the
required key, one bound to another key, one bound to a removed key and one bound to a key that is not for
data at rest, each as critical uncorrectable drift; apply sends nothing; export then plan is empty; and
`reconcile explain` says which key protects each project's data.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from datacontrols.adminapi import AdminApi
from datacontrols.emulator import Emulator
from datacontrols.engine import apply, diff, observe
from datacontrols.explain import explain_organization, explanation_json, render_explanation
from datacontrols.export import export_organization
from datacontrols.plan import FieldChange
from datacontrols.safety import SafetyCheck
from testsupport.desired_files import plan_of, write_desired_state

KEY = "sk-admin-keys-convergence-000000000000000"
PROD, DEV, GONE, PSP, PLAIN = (
    "proj_keysprod0000000000001",
    "proj_keysdev00000000000001",
    "proj_keysgone0000000000001",
    "proj_keyspsp00000000000001",
    "proj_keysplain000000000001",
)
ARN = "arn:aws:kms:eu-west-1:123456789012:key/prod"

SEED: dict[str, Any] = {
    "projects": [
        {"id": PROD, "name": "Prod", "external_key_id": "ekm_prod"},
        {"id": DEV, "name": "Dev", "external_key_id": "ekm_dev"},
        {"id": GONE, "name": "Gone", "external_key_id": "ekm_removed"},
        {"id": PSP, "name": "Psp", "external_key_id": "ekm_psp"},
        {"id": PLAIN, "name": "Plain"},
    ],
    "external_keys": [
        {"id": "ekm_prod", "name": "acme-prod", "type": "aws", "kms_arn": ARN},
        {"id": "ekm_dev", "name": "acme-dev", "type": "aws", "kms_arn": "arn:aws:kms:eu-west-1:1:key/dev"},
        {"id": "ekm_psp", "name": "acme-prod", "type": "oci", "purpose": "psp_decryption", "key_ocid": "ocid1.k"},
    ],
}
ORGANIZATION = """\
unmanaged_projects: ignore
project_defaults:
  encryption_key: {name: acme-prod}
"""
FILES = {name.lower(): f"name: {name}\n" for name in ("Prod", "Dev", "Gone", "Psp", "Plain")}
KIND = "encryption_key"

desired_state = write_desired_state


@pytest.fixture
def emulator() -> Emulator:
    return Emulator(admin_key=KEY, seed=SEED, rng_seed=11)


@pytest.fixture
async def api(emulator: Emulator) -> AsyncIterator[AdminApi]:
    client = AdminApi.connect(admin_key=KEY, http_transport=emulator.http_transport())
    yield client
    await client.aclose()


async def test_every_project_not_protected_as_agreed_is_critical_and_apply_writes_nothing(
    tmp_path: Path, api: AdminApi, emulator: Emulator
) -> None:
    desired = desired_state(tmp_path, ORGANIZATION, FILES)
    observed = await observe(api, desired)
    plan = diff(desired, observed)

    found = {c.project: c for c in plan if c.kind == KIND}
    assert sorted(found) == ["Dev", "Gone", "Plain", "Psp"], "Prod has the agreed key"
    assert {(c.action, c.severity) for c in found.values()} == {("uncorrectable", "critical")}
    assert found["Dev"].fields == {"name": FieldChange("acme-dev", "acme-prod")}
    assert found["Gone"].fields == {"name": FieldChange("ekm_removed", "acme-prod")}
    assert found["Psp"].fields == {"purpose": FieldChange("psp_decryption", "ekm")}, "its name is the agreed one"
    assert found["Plain"].subject is None and "OpenAI-managed keys" in found["Plain"].reason
    assert found["Dev"].facts.project_id == DEV, "the engine fills the live project's id"
    assert plan.has_changes and not plan.applicable, "drift, but nothing this tool would write"
    reads = emulator.requests.for_template("/organization/external_keys/{external_key_id}", "GET")
    assert len(reads) == 4, "one read per project that names a key; none for Plain"

    emulator.requests.clear()
    result = await apply(api, plan, safety=SafetyCheck.of(desired, observed))
    assert result.ok and result.applied == []
    assert emulator.requests.writes() == []
    assert (await plan_of(api, desired)) == plan, "it stays reported until a person fixes it"


async def test_openai_managed_reports_a_key_and_accepts_none(tmp_path: Path, api: AdminApi) -> None:
    organization = "unmanaged_projects: ignore\nproject_defaults:\n  encryption_key: openai_managed\n"
    plan = await plan_of(api, desired_state(tmp_path, organization, {"prod": "name: Prod\n", "plain": "name: Plain\n"}))
    [change] = [c for c in plan if c.kind == KIND]
    assert (change.project, change.severity, change.subject) == ("Prod", "high", "ekm_prod")


async def test_a_file_that_binds_by_id_and_checks_by_name_converges(
    tmp_path: Path, api: AdminApi, emulator: Emulator
) -> None:
    """`external_key_id` is applied by the project lifecycle; the next plan checks the key by name: empty."""
    files = {"plain": "name: Plain\nexternal_key_id: ekm_prod\nencryption_key: {name: acme-prod, type: aws}\n"}
    desired = desired_state(tmp_path, "unmanaged_projects: ignore\n", files)
    observed = await observe(api, desired)
    plan = diff(desired, observed)
    assert [(c.kind, c.action) for c in plan] == [("project", "update"), (KIND, "uncorrectable")]
    result = await apply(api, plan, safety=SafetyCheck.of(desired, observed))
    assert result.ok and emulator.state.projects[PLAIN].external_key_id == "ekm_prod"
    assert not (await plan_of(api, desired)).has_changes


async def test_an_ignored_group_is_not_read(tmp_path: Path, api: AdminApi, emulator: Emulator) -> None:
    organization = ORGANIZATION + "enforcement: {encryption_key: ignore}\n"
    plan = await plan_of(api, desired_state(tmp_path, organization, FILES))
    assert not [c for c in plan if c.kind == KIND]
    assert emulator.requests.for_template("/organization/external_keys/{external_key_id}") == []


async def test_export_then_plan_is_empty(tmp_path: Path, api: AdminApi, emulator: Emulator) -> None:
    emulator.state.projects[GONE].external_key_id = None  # a removed key cannot be exported (noted)
    result = await export_organization(api, tmp_path / "exported")
    assert result.desired is not None
    exported = tmp_path / "exported" / "projects"
    assert "external_key_id: ekm_prod\n" in (exported / "prod.yaml").read_text()
    assert "encryption_key:\n  name: acme-prod\n  type: aws\n" in (exported / "prod.yaml").read_text()
    assert "encryption_key" not in (exported / "plain.yaml").read_text()
    assert not [note for note in result.notes if KIND in note]

    plan = await plan_of(api, result.desired)
    found = [(c.kind, c.project, c.subject) for c in plan.drift]
    assert found == [(KIND, "Psp", "ekm_psp")], "only the key that is not for data at rest stays reported"


async def test_explain_says_which_key_protects_each_projects_data(api: AdminApi, emulator: Emulator) -> None:
    explanation = await explain_organization(api, None)
    text = render_explanation(explanation)
    assert "  data encrypted with   OpenAI-managed keys (no customer-managed key)\n" in text
    assert f'  data encrypted with   customer-managed aws key "acme-prod" (ekm_prod) at {ARN}, purpose ekm\n' in text
    assert "ekm_removed, which the organization does not have" in text
    assert "purpose psp_decryption: not a data-encryption (ekm) key" in text
    document = {p["name"]: p for p in explanation_json(explanation)["projects"]}
    assert document["Prod"]["encryption_key"] == {
        "customer_managed": True,
        "id": "ekm_prod",
        "registered": True,
        "name": "acme-prod",
        "type": "aws",
        "purpose": "ekm",
        "locator": ARN,
        "usable": True,
    }
    assert document["Gone"]["encryption_key"]["registered"] is False
    assert document["Psp"]["encryption_key"]["usable"] is False
    assert document["Plain"]["encryption_key"]["customer_managed"] is False
    assert len(emulator.requests.for_template("/organization/external_keys", "GET")) == 1, "one listing for all"
    assert emulator.requests.methods() == {"GET"}

    emulator.requests.clear()
    [one] = (await explain_organization(api, None, only="Plain")).projects
    assert one.encryption.startswith("OpenAI-managed")
    assert not [r for r in emulator.requests if "external_keys" in r.path], "a project without a key costs no read"


class Forbidden(httpx.AsyncBaseTransport):
    """The emulator, except that encryption keys answer 403 (an organization not entitled to them)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if "/organization/external_keys" in request.url.path:
            error = {"message": "Not entitled to EKM.", "type": "invalid_request_error"}
            return httpx.Response(403, json={"error": error | {"param": None, "code": None}})
        return await self._inner.handle_async_request(request)


async def test_keys_that_cannot_be_read_are_said_so_by_plan_export_and_explain(
    tmp_path: Path, emulator: Emulator
) -> None:
    async with AdminApi.connect(admin_key=KEY, http_transport=Forbidden(emulator.http_transport())) as api:
        plan = await plan_of(api, desired_state(tmp_path / "desired", ORGANIZATION, FILES))
        found = sorted((c.project, c.action, c.severity) for c in plan if c.kind == KIND)
        assert found[0] == ("Dev", "report", "high") and ("Plain", "uncorrectable", "critical") in found
        assert all("Not entitled" in c.reason for c in plan if c.kind == KIND and c.action == "report")

        result = await export_organization(api, tmp_path / "exported")
        assert sum(f"{KIND} of project" in note and "left out" in note for note in result.notes) == 4

        explanation = await explain_organization(api, None, only="Prod")
    [project] = explanation.projects
    assert project.key_binding is None
    assert project.encryption.startswith("unknown: the encryption key could not be read (GET /organization/external")
    assert explanation_json(explanation)["projects"][0]["encryption_key"] is None
