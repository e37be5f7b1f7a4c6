"""Service tiers through the engine against the in-process emulator: plan, apply, then an empty plan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from datacontrols.adminapi import AdminApi
from datacontrols.emulator import Emulator
from datacontrols.engine import apply, diff, observe
from datacontrols.export import export_organization
from datacontrols.plan import FieldChange
from datacontrols.safety import SafetyCheck
from testsupport.desired_files import plan_of, write_desired_state

KEY = "sk-admin-tiers-convergence-000000000000"
SUPPORT = "proj_tierssupport00000000001"
BATCH = "proj_tiersbatch0000000000001"
SEED: dict[str, Any] = {"projects": [{"id": SUPPORT, "name": "Support"}, {"id": BATCH, "name": "Batch"}]}
ORGANIZATION = (
    "unmanaged_projects: ignore\nproject_defaults:\n  service_tiers: {default: standard, enabled_tiers: []}\n"
)
FILES = {"support": "name: Support\n", "batch": "name: Batch\nservice_tiers: {enabled_tiers: [flex]}\n"}
PATH = "/organization/projects/{project_id}/service_tier_settings"


@pytest.fixture
def emulator() -> Emulator:
    return Emulator(admin_key=KEY, seed=SEED, rng_seed=3)


@pytest.fixture
async def api(emulator: Emulator) -> AsyncIterator[AdminApi]:
    client = AdminApi.connect(admin_key=KEY, http_transport=emulator.http_transport())
    yield client
    await client.aclose()


async def test_plan_apply_converges_and_sends_only_what_differs(
    tmp_path: Path, api: AdminApi, emulator: Emulator
) -> None:
    emulator.state.projects[SUPPORT].service_tier_default = "scale"
    desired = write_desired_state(tmp_path, ORGANIZATION, FILES)
    observed = await observe(api, desired)
    plan = diff(desired, observed)
    found = {c.project: c for c in plan if c.kind == "project_service_tiers"}
    assert found["Support"].fields == {
        "default": FieldChange("scale", "standard"),
        "enabled_tiers": FieldChange("all", []),
    }
    assert found["Batch"].fields == {"enabled_tiers": FieldChange("all", ["flex"])}
    assert "requests asking for fast, ultrafast will be refused" in (found["Batch"].disrupts or "")

    emulator.requests.clear()
    result = await apply(api, plan, safety=SafetyCheck.of(desired, observed))
    assert result.ok, result
    bodies = sorted((w.path, w.body) for w in emulator.requests.writes())
    assert bodies == [
        (f"/v1/organization/projects/{BATCH}/service_tier_settings", {"enabled_tiers": ["flex"]}),
        (f"/v1/organization/projects/{SUPPORT}/service_tier_settings", {"default": "standard", "enabled_tiers": []}),
    ]
    assert not [c for c in await plan_of(api, desired) if c.kind == "project_service_tiers"]


async def test_an_ignored_group_is_not_read_and_export_then_plan_is_empty(
    tmp_path: Path, api: AdminApi, emulator: Emulator
) -> None:
    ignored = write_desired_state(tmp_path / "a", ORGANIZATION + "enforcement: {service_tiers: ignore}\n", FILES)
    assert not [c for c in await plan_of(api, ignored) if c.kind == "project_service_tiers"]
    assert emulator.requests.for_template(PATH) == []

    emulator.state.projects[BATCH].enabled_service_tiers = ["ultrafast"]
    result = await export_organization(api, tmp_path / "exported")
    assert result.desired is not None
    assert not (await plan_of(api, result.desired)).has_changes
    assert "enabled_tiers:\n    - ultrafast" in (tmp_path / "exported" / "projects" / "batch.yaml").read_text()
