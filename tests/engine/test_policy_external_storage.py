"""The organization policy's `external_storage_geographies`: every project keeps its data in its own
customer-managed storage, in one of the geographies named. Files that say `none`, another geography or no
geography are refused at their line; live projects no file holds (no file, or no `external_storage`) are
critical findings when they have no storage, storage elsewhere, or storage that is degraded or unhealthy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from datacontrols.adminapi import AdminApi
from datacontrols.desired.policy import Policy, storage_breach
from datacontrols.emulator import Emulator
from datacontrols.engine import diff, observe
from datacontrols.errors import DesiredStateError
from datacontrols.explain import explain_organization, render_explanation
from datacontrols.kinds.policy import PolicyFacts
from testsupport.desired_files import write_desired_state

KEY = "sk-admin-policy-storage-0000000000000000"
EU = {"type": "aws", "bucket": "acme-eu", "role_arn": "arn:aws:iam::123456789012:role/openai", "region": "eu-west-1"}
US = {"type": "gcp", "bucket": "acme-us", "region": "us-central1"}
SEED: dict[str, Any] = {
    "projects": [
        {"id": "proj_plainstore000000000001", "name": "Plain"},
        {"id": "proj_eustore000000000000001", "name": "Europe", "external_storage": [{"id": "xs_eu", "provider": EU}]},
        {"id": "proj_usstore000000000000001", "name": "America", "external_storage": [{"id": "xs_us", "provider": US}]},
        {
            "id": "proj_sickstore00000000000001",
            "name": "Sick",
            "external_storage": [{"id": "xs_sick", "provider": EU, "status": "degraded"}],
        },
    ]
}
POLICY = "unmanaged_projects: report\npolicy:\n  external_storage_geographies: [eu]\n"


def test_files_without_storage_there_are_refused_at_their_line(tmp_path: Path) -> None:
    files = {
        "plain": "name: Plain\nexternal_storage: none\n",  # 2
        "america": "name: America\nexternal_storage: {provider: gcp, geography: US}\n",  # 2
        "vague": "name: Vague\nexternal_storage: {provider: aws}\n",  # 2
        "europe": "name: Europe\nexternal_storage: {provider: aws, geography: EU}\n",
    }
    with pytest.raises(DesiredStateError) as caught:
        write_desired_state(tmp_path, POLICY, files)
    found = {str(p).split("/projects/")[1].split(".yaml")[0]: str(p) for p in caught.value.problems}
    assert set(found) == {"plain", "america", "vague"}
    assert "not kept in customer-managed external storage (allowed: eu)" in found["plain"]
    assert "external storage in US (allowed: eu)" in found["america"]
    assert "names no geography (allowed: eu)" in found["vague"]
    assert all(":2:" in p and "policy.external_storage_geographies" in p for p in found.values())


async def test_live_projects_no_file_holds_are_critical_findings(
    tmp_path: Path, api: AdminApi, emulator: Emulator
) -> None:
    desired = write_desired_state(tmp_path, POLICY, {"europe": "name: Europe\n"})
    plan = diff(desired, await observe(api, desired))
    found = {c.project: c for c in plan if isinstance(c.facts, PolicyFacts)}
    assert set(found) == {"Plain", "America", "Sick"}, "Europe keeps its data in EU storage"
    assert all(
        (c.kind, c.subject, c.severity) == ("external_storage", "policy: external_storage_geographies", "critical")
        for c in found.values()
    )
    assert "not kept in customer-managed external storage" in found["Plain"].reason
    assert "external storage in US" in found["America"].reason
    assert "is degraded" in found["Sick"].reason
    assert emulator.requests.writes() == []


async def test_explain_shows_the_standing(tmp_path: Path, api: AdminApi) -> None:
    desired = write_desired_state(tmp_path, POLICY, {"europe": "name: Europe\n"})
    text = render_explanation(await explain_organization(api, desired))
    lines = [line for line in text.splitlines() if "external_storage_geographies" in line]
    assert len(lines) == 4 and sum("met:" in line for line in lines) == 1


def test_the_rule_as_a_pure_function() -> None:
    policy = Policy.model_validate({"external_storage_geographies": ["EU", "UK"]})
    assert storage_breach(policy, ["eu"]) is None
    assert storage_breach(policy, ["EU", None]) == "external storage in an unknown geography (allowed: EU, UK)"
    assert storage_breach(Policy(), []) is None
