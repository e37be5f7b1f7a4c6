"""Organization and project data retention through the real client, including the approved set."""

from __future__ import annotations

import httpx
import pytest
from emulator_support import ADMIN_KEY, Spec, check_envelope, connect

from datacontrols.adminapi import AdminApi
from datacontrols.emulator import Emulator
from datacontrols.errors import AuthError
from testsupport.clock import FakeClock

PROJECT_VALUES = [
    "organization_default",
    "none",
    "zero_data_retention",
    "modified_abuse_monitoring",
    "enhanced_zero_data_retention",
    "enhanced_modified_abuse_monitoring",
]


async def test_organization_retention_reads_type_and_writes_retention_type(api: AdminApi, emulator: Emulator) -> None:
    assert (await api.retention.get_organization()).type == "modified_abuse_monitoring"
    updated = await api.retention.update_organization("zero_data_retention")
    assert (updated.object, updated.type) == ("organization.data_retention", "zero_data_retention")
    assert (await api.retention.get_organization()).type == "zero_data_retention"
    (write,) = emulator.requests.writes()
    assert write.body == {"retention_type": "zero_data_retention"}


async def test_unapproved_retention_is_refused_with_403_and_no_effect(clock: FakeClock, spec: Spec | None) -> None:
    emulator = Emulator(
        admin_key=ADMIN_KEY,
        seed={
            "organization": {
                "data_retention": "modified_abuse_monitoring",
                "approved_retention_types": ["zero_data_retention", "modified_abuse_monitoring"],
            }
        },
        clock=clock,
    )
    api = connect(emulator, clock, spec)
    with pytest.raises(AuthError) as caught:
        await api.retention.update_organization("enhanced_zero_data_retention")
    assert (caught.value.status, caught.value.code) == (403, "not_approved")
    assert (await api.retention.get_organization()).type == "modified_abuse_monitoring"
    assert (await api.retention.update_organization("zero_data_retention")).type == "zero_data_retention"

    project = await api.projects.create("Restricted")
    with pytest.raises(AuthError):
        await api.retention.update_project(project.id, "enhanced_modified_abuse_monitoring")
    for always_allowed in ("none", "organization_default", "modified_abuse_monitoring"):
        assert (await api.retention.update_project(project.id, always_allowed)).type == always_allowed
    await api.aclose()


async def test_approved_set_from_the_constructor_overrides_the_seed(clock: FakeClock) -> None:
    emulator = Emulator(admin_key=ADMIN_KEY, clock=clock, approved_retention_types=["zero_data_retention"])
    assert emulator.state.organization.approved_retention_types == ["zero_data_retention"]


@pytest.mark.parametrize(
    ("body", "param", "code"),
    [
        ({}, "retention_type", "missing_required_parameter"),
        ({"retention_type": "organization_default"}, "retention_type", "invalid_value"),
        ({"retention_type": "forever"}, "retention_type", "invalid_value"),
        ({"retention_type": 1}, "retention_type", "invalid_value"),
        ({"type": "zero_data_retention"}, "type", "unknown_parameter"),
    ],
)
async def test_organization_retention_refuses_bad_bodies(
    raw: httpx.AsyncClient, emulator: Emulator, body: dict[str, object], param: str, code: str
) -> None:
    response = await raw.post("/organization/data_retention", json=body)
    assert response.status_code == 400
    error = check_envelope(response.json())
    assert (error["param"], error["code"]) == (param, code)
    assert emulator.state.organization.data_retention == "modified_abuse_monitoring"


async def test_project_retention_takes_all_six_values(api: AdminApi) -> None:
    project = await api.projects.create("Retained")
    for value in PROJECT_VALUES:
        updated = await api.retention.update_project(project.id, value)
        assert (updated.object, updated.type) == ("project.data_retention", value)
        assert (await api.retention.get_project(project.id)).type == value


async def test_project_retention_refuses_unknown_values(raw: httpx.AsyncClient, emulator: Emulator) -> None:
    project_id = next(iter(emulator.state.projects))
    response = await raw.post(f"/organization/projects/{project_id}/data_retention", json={"retention_type": "x"})
    assert response.status_code == 400
    assert check_envelope(response.json())["param"] == "retention_type"
    assert emulator.state.projects[project_id].data_retention == "organization_default"
