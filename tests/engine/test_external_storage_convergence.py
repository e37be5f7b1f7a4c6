"""External storage through the engine against the in-process emulator: reported, never written.

Desired state is written as YAML and loaded by the real loader. The plan reports a mismatch and an unhealthy
configuration as uncorrectable drift, apply sends nothing, export then plan is empty, and `reconcile explain`
says where each project's data is stored and in what state.
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

KEY = "sk-admin-storage-convergence-00000000000"
SUPPORT = "proj_storagesupport000000001"
ARCHIVE = "proj_storagearchive000000001"
PLAIN = "proj_storageplain00000000001"
AWS = {"type": "aws", "bucket": "acme-eu", "role_arn": "arn:aws:iam::123456789012:role/openai", "region": "eu-west-1"}
GCP = {"type": "gcp", "bucket": "acme-us", "region": "us-central1"}

SEED: dict[str, Any] = {
    "projects": [
        {"id": SUPPORT, "name": "Support", "external_storage": [{"id": "extstore_gcp", "provider": GCP}]},
        {
            "id": ARCHIVE,
            "name": "Archive",
            "external_storage": [{"id": "extstore_aws", "provider": AWS, "status": "unhealthy"}],
        },
        {"id": PLAIN, "name": "Plain"},
    ]
}
ORGANIZATION = """\
unmanaged_projects: ignore
project_defaults:
  external_storage: {provider: aws, geography: EU, location: acme-eu}
"""
FILES = {
    "support": "name: Support\n",
    "archive": "name: Archive\n",
    "plain": "name: Plain\nexternal_storage: none\n",
}


desired_state = write_desired_state


@pytest.fixture
def emulator() -> Emulator:
    return Emulator(admin_key=KEY, seed=SEED, rng_seed=11)


@pytest.fixture
async def api(emulator: Emulator) -> AsyncIterator[AdminApi]:
    client = AdminApi.connect(admin_key=KEY, http_transport=emulator.http_transport())
    yield client
    await client.aclose()


async def test_the_plan_reports_the_mismatch_and_the_unhealthy_storage_and_apply_writes_nothing(
    tmp_path: Path, api: AdminApi, emulator: Emulator
) -> None:
    desired = desired_state(tmp_path, ORGANIZATION, FILES)
    observed = await observe(api, desired)
    plan = diff(desired, observed)

    found = [(c.project, c.action, c.subject, c.severity) for c in plan if c.kind == "external_storage"]
    assert found == [
        ("Archive", "uncorrectable", "extstore_aws", "critical"),
        ("Support", "uncorrectable", "extstore_gcp", "critical"),
    ], "Plain has none, as its file says"
    by_project = {c.project: c for c in plan if c.kind == "external_storage"}
    assert by_project["Archive"].fields == {"status": FieldChange("unhealthy", "validated")}
    assert by_project["Support"].fields == {
        "provider": FieldChange("gcp", "aws"),
        "location": FieldChange("acme-us", "acme-eu"),
        "geography": FieldChange("US", "EU"),
    }
    assert by_project["Support"].facts.project_id == SUPPORT, "the engine fills the live project's id"
    assert plan.has_changes and not plan.applicable, "drift, but nothing this tool would write"

    emulator.requests.clear()
    result = await apply(api, plan, safety=SafetyCheck.of(desired, observed))
    assert result.ok and result.applied == []
    assert emulator.requests.writes() == []
    assert (await plan_of(api, desired)) == plan, "it stays reported until a person fixes it"


async def test_no_storage_where_one_is_required_and_storage_where_none_is(tmp_path: Path, api: AdminApi) -> None:
    files = {"plain": "name: Plain\n", "support": "name: Support\nexternal_storage: none\n"}
    plan = await plan_of(api, desired_state(tmp_path, ORGANIZATION, files))
    found = {c.project: c for c in plan if c.kind == "external_storage"}
    assert found["Plain"].subject is None and found["Plain"].severity == "critical"
    assert "no external storage" in found["Plain"].reason
    assert found["Support"].fields == {"provider": FieldChange("gcp", None)}


async def test_an_ignored_group_is_not_read(tmp_path: Path, api: AdminApi, emulator: Emulator) -> None:
    organization = ORGANIZATION + "enforcement: {external_storage: ignore}\n"
    plan = await plan_of(api, desired_state(tmp_path, organization, FILES))
    assert not [c for c in plan if c.kind == "external_storage"]
    assert emulator.requests.for_template("/organization/external_storage") == []


async def test_export_then_plan_is_empty(tmp_path: Path, api: AdminApi, emulator: Emulator) -> None:
    emulator.state.external_storage["extstore_aws"].status = "validated"
    emulator.state.external_storage["extstore_gcp"].status = "pending"  # registered, not yet validated: not drift
    result = await export_organization(api, tmp_path / "exported")
    assert result.desired is not None
    support = (tmp_path / "exported" / "projects" / "support.yaml").read_text()
    assert "external_storage:\n  provider: gcp\n  geography: US\n  location: acme-us\n" in support
    assert "external_storage" not in (tmp_path / "exported" / "projects" / "plain.yaml").read_text()
    assert not [note for note in result.notes if "external_storage" in note]

    plan = await plan_of(api, result.desired)
    assert not plan.has_changes, plan.to_json()


async def test_explain_says_where_each_projects_data_is_stored(api: AdminApi, emulator: Emulator) -> None:
    emulator.state.external_storage["extstore_gcp"].status = "pending"
    explanation = await explain_organization(api, None)
    text = render_explanation(explanation)
    assert "  data stored in        OpenAI (no external storage)\n" in text
    assert (
        "  data stored in        customer-managed aws bucket acme-eu (geography EU), unhealthy (OpenAI cannot "
        "reliably reach it: check its access policy)\n"
    ) in text
    assert "customer-managed gcp bucket acme-us (geography US), pending (registered, not yet validated)" in text
    document = {p["name"]: p for p in explanation_json(explanation)["projects"]}
    assert document["Archive"]["external_storage"] == [
        {"id": "extstore_aws", "provider": "aws", "location": "acme-eu", "geography": "EU", "status": "unhealthy"}
    ]
    assert document["Plain"]["external_storage"] == []
    assert len(emulator.requests.for_template("/organization/external_storage")) == 1, "one listing for all"
    assert emulator.requests.methods() == {"GET"}


class Forbidden(httpx.AsyncBaseTransport):
    """The emulator, except that external storage answers 403 (an organization not entitled to it)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/organization/external_storage"):
            error = {"message": "Not entitled to external storage.", "type": "invalid_request_error"}
            return httpx.Response(403, json={"error": error | {"param": None, "code": None}})
        return await self._inner.handle_async_request(request)


async def test_storage_that_cannot_be_read_is_said_so_by_plan_export_and_explain(
    tmp_path: Path, emulator: Emulator
) -> None:
    async with AdminApi.connect(admin_key=KEY, http_transport=Forbidden(emulator.http_transport())) as api:
        plan = await plan_of(api, desired_state(tmp_path / "desired", ORGANIZATION, FILES))
        found = [(c.project, c.action, c.severity) for c in plan if c.kind == "external_storage"]
        assert found == [("Archive", "report", "high"), ("Plain", "report", "high"), ("Support", "report", "high")]
        assert all("Not entitled" in c.reason for c in plan if c.kind == "external_storage")

        result = await export_organization(api, tmp_path / "exported")
        assert sum("external_storage of project" in note and "left out" in note for note in result.notes) == 3

        explanation = await explain_organization(api, None, only="Support")
    [project] = explanation.projects
    assert project.external_storage is None
    assert project.storage.startswith("unknown: external storage could not be read (GET /organization/external_")
    assert "HTTP 403: Not entitled to external storage." in project.storage
    assert explanation_json(explanation)["projects"][0]["external_storage"] is None
