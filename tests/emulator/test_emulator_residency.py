"""The residencies openai-python knows and the pinned spec lacks (SDK-NEWER.md section 6), end to end:
accepted in desired-state files, served by the emulator, created and then quiet through the engine.

These exchanges carry values outside the spec's `PublicProjectResidency`, so they go through a plain client
(the spec check would rightly flag them); the shape is checked against the client's `Project` model instead.
tests/contract/test_contract_emulator.py checks that the three are still missing from the spec.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from emulator_support import ADMIN_KEY, BASE_URL, check_envelope

from datacontrols.adminapi import AdminApi
from datacontrols.adminapi.projects import RESIDENCIES, SDK_ONLY_RESIDENCIES, Project
from datacontrols.emulator import Emulator
from datacontrols.engine import apply
from datacontrols.safety import SafetyCheck
from testsupport.desired_files import plan_of, write_desired_state


@pytest.fixture
async def plain(emulator: Emulator) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=emulator.http_transport(), base_url=BASE_URL, headers={"Authorization": f"Bearer {ADMIN_KEY}"}
    ) as client:
        yield client


@pytest.fixture
async def unchecked_api(emulator: Emulator) -> AsyncIterator[AdminApi]:
    client = AdminApi.connect(admin_key=ADMIN_KEY, base_url=BASE_URL, http_transport=emulator.http_transport())
    yield client
    await client.aclose()


def test_the_sdk_residencies_are_known() -> None:
    assert set(SDK_ONLY_RESIDENCIES) == {"JP_STORAGE_PROCESSING", "IN_STORAGE_PROCESSING", "AU_STORAGE_PROCESSING"}
    assert set(SDK_ONLY_RESIDENCIES) < set(RESIDENCIES) and len(RESIDENCIES) == 15


@pytest.mark.parametrize("residency", SDK_ONLY_RESIDENCIES)
async def test_the_emulator_creates_lists_and_dumps_them(
    plain: httpx.AsyncClient, emulator: Emulator, residency: str
) -> None:
    created = await plain.post("/organization/projects", json={"name": f"In {residency}", "residency": residency})
    assert created.status_code == 200, created.text
    project = Project.model_validate(created.json())
    assert project.residency == residency
    assert (await plain.get(f"/organization/projects/{project.id}")).json()["residency"] == residency
    listed = (await plain.get("/organization/projects")).json()["data"]
    assert {p["residency"] for p in listed if p["id"] == project.id} == {residency}
    emulator.load_seed(emulator.dump_state())
    assert emulator.state.projects[project.id].residency == residency, "a dump with it loads again"


async def test_they_need_approval_like_the_others(plain: httpx.AsyncClient, emulator: Emulator) -> None:
    emulator.state.organization.approved_residencies = ["JP_STORAGE_PROCESSING"]
    jp = await plain.post("/organization/projects", json={"name": "jp", "residency": "JP_STORAGE_PROCESSING"})
    assert jp.status_code == 200
    au = await plain.post("/organization/projects", json={"name": "au", "residency": "AU_STORAGE_PROCESSING"})
    assert au.status_code == 403 and check_envelope(au.json())["code"] == "not_approved"


async def test_a_residency_nobody_knows_is_still_refused(plain: httpx.AsyncClient) -> None:
    response = await plain.post("/organization/projects", json={"name": "mars", "residency": "MARS_STORAGE"})
    assert response.status_code == 400 and check_envelope(response.json())["param"] == "residency"


async def test_a_desired_project_in_one_is_created_there_and_then_quiet(
    tmp_path: Path, unchecked_api: AdminApi, emulator: Emulator
) -> None:
    desired = write_desired_state(
        tmp_path, "unmanaged_projects: ignore\n", {"au": "name: AU\nresidency: AU_STORAGE_PROCESSING\n"}
    )
    [project] = desired.projects
    assert project.residency == "AU_STORAGE_PROCESSING"
    plan = await plan_of(unchecked_api, desired)
    [create] = [c for c in plan if c.kind == "project"]
    assert create.action == "create" and create.fields["residency"].after == "AU_STORAGE_PROCESSING"
    await apply(unchecked_api, plan, safety=SafetyCheck())
    [created] = [p for p in emulator.state.projects.values() if p.name == "AU"]
    assert created.residency == "AU_STORAGE_PROCESSING"
    assert [c for c in await plan_of(unchecked_api, desired)] == [], "converged: the next plan is empty"
