"""The request log: what tests assert on ("a dry run sent only GETs", requests per endpoint)."""

from __future__ import annotations

import pytest
from emulator_support import connect

from datacontrols.adminapi import AdminApi
from datacontrols.emulator import Emulator
from datacontrols.errors import WriteRefused
from testsupport.clock import START, FakeClock


async def test_a_read_only_client_leaves_only_gets(emulator: Emulator, clock: FakeClock) -> None:
    api = connect(emulator, clock, read_only=True)
    (project,) = await api.projects.list(include_archived=True)
    await api.retention.get_organization()
    await api.retention.get_project(project.id)
    await api.model_permissions.get(project.id)
    await api.hosted_tools.get(project.id)
    with pytest.raises(WriteRefused):
        await api.projects.create("never sent")
    await api.aclose()
    assert emulator.requests.methods() == {"GET"}
    assert emulator.requests.writes() == []
    assert emulator.requests.count_by_endpoint() == {
        "GET /organization/projects": 1,
        "GET /organization/data_retention": 1,
        "GET /organization/projects/{project_id}/data_retention": 1,
        "GET /organization/projects/{project_id}/model_permissions": 1,
        "GET /organization/projects/{project_id}/hosted_tool_permissions": 1,
    }


async def test_entries_record_what_happened(api: AdminApi, emulator: Emulator, clock: FakeClock) -> None:
    clock.advance(5)
    created = await api.projects.create("Logged", external_key_id="ekm_1")
    await api.model_permissions.get(created.id)
    create, read = emulator.requests
    assert (create.method, create.path, create.template) == (
        "POST",
        "/v1/organization/projects",
        "/organization/projects",
    )
    assert (create.status, create.time, create.applied, create.fault) == (200, START + 5, True, None)
    assert create.body == {"name": "Logged", "external_key_id": "ekm_1"}
    assert read.path == f"/v1/organization/projects/{created.id}/model_permissions"
    assert (read.status, read.applied) == (404, False)
    assert read.request_id != create.request_id
    assert len(emulator.requests.for_template("/organization/projects", "POST")) == 1
    assert emulator.requests.for_template("/organization/projects", "GET") == []
