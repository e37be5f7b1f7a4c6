"""Projects through the real client: create, list, pagination, modify, residency, archive, errors."""

from __future__ import annotations

import re

import httpx
import pytest
from emulator_support import ADMIN_KEY, Spec, check_envelope, connect

from datacontrols.adminapi import AdminApi
from datacontrols.emulator import Emulator
from datacontrols.errors import BadRequest, NotFound
from testsupport.clock import START, FakeClock

PROJECT_ID = re.compile(r"^proj_[A-Za-z0-9]{24}$")


async def test_fresh_organization_has_only_the_default_project(api: AdminApi) -> None:
    projects = await api.projects.list(include_archived=True)
    assert [p.name for p in projects] == ["Default project"]
    default = projects[0]
    assert PROJECT_ID.match(default.id)
    assert (default.status, default.residency, default.created_at) == ("active", "GLOBAL", int(START))


async def test_create_then_retrieve(api: AdminApi, clock: FakeClock) -> None:
    clock.advance(42)
    created = await api.projects.create("Support Bot", residency="EU_STORAGE_PROCESSING", external_key_id="ekm_1")
    assert PROJECT_ID.match(created.id)
    assert created.created_at == int(START) + 42
    assert (created.status, created.archived_at) == ("active", None)
    fetched = await api.projects.retrieve(created.id)
    assert fetched == created
    assert (fetched.residency, fetched.external_key_id) == ("EU_STORAGE_PROCESSING", "ekm_1")


async def test_new_project_defaults(api: AdminApi) -> None:
    project = await api.projects.create("Plain")
    assert project.residency == "GLOBAL"
    assert (await api.retention.get_project(project.id)).type == "organization_default"
    assert await api.model_permissions.get(project.id) is None
    assert (await api.hosted_tools.get(project.id)).enabled() == dict.fromkeys(
        ["file_search", "web_search", "image_generation", "mcp", "code_interpreter"], True
    )


async def test_ids_are_reproducible_with_a_seed(clock: FakeClock) -> None:
    first = Emulator(admin_key="sk-admin-x-123456", rng_seed=7, clock=clock)
    second = Emulator(admin_key="sk-admin-x-123456", rng_seed=7, clock=clock)
    other = Emulator(admin_key="sk-admin-x-123456", rng_seed=8, clock=clock)
    assert first.dump_state() == second.dump_state() != other.dump_state()


async def test_list_leaves_archived_out_unless_asked(api: AdminApi) -> None:
    kept = await api.projects.create("Kept")
    gone = await api.projects.create("Gone")
    await api.projects.archive(gone.id)
    assert [p.id for p in await api.projects.list()][1:] == [kept.id]
    everything = await api.projects.list(include_archived=True)
    assert [p.name for p in everything] == ["Default project", "Kept", "Gone"]
    assert everything[2].status == "archived"


async def test_250_projects_come_back_in_pages_of_100(clock: FakeClock, spec: Spec | None) -> None:
    seed = {"projects": [{"name": f"p{i:03d}"} for i in range(250)]}
    emulator = Emulator(admin_key=ADMIN_KEY, seed=seed, rng_seed=1, clock=clock)
    api = connect(emulator, clock, spec)
    projects = await api.projects.list()
    await api.aclose()
    assert [p.name for p in projects] == [f"p{i:03d}" for i in range(250)]
    assert len({p.id for p in projects}) == 250
    pages = emulator.requests.for_template("/organization/projects", "GET")
    assert [e.query.get("limit") for e in pages] == ["100", "100", "100"]
    assert [e.query.get("after") for e in pages] == [None, projects[99].id, projects[199].id]


async def test_list_envelope_and_default_limit(raw: httpx.AsyncClient, emulator: Emulator) -> None:
    emulator.load_seed({"projects": [{"name": f"p{i}"} for i in range(25)]})
    body = (await raw.get("/organization/projects")).json()
    assert body["object"] == "list" and len(body["data"]) == 20 and body["has_more"] is True
    assert (body["first_id"], body["last_id"]) == (body["data"][0]["id"], body["data"][-1]["id"])
    rest = (await raw.get("/organization/projects", params={"after": body["last_id"]})).json()
    assert len(rest["data"]) == 5 and rest["has_more"] is False
    empty = (await raw.get("/organization/projects", params={"after": rest["last_id"]})).json()
    assert empty == {"object": "list", "data": [], "first_id": None, "last_id": None, "has_more": False}


async def test_a_full_last_page_says_no_more(raw: httpx.AsyncClient, emulator: Emulator) -> None:
    emulator.load_seed({"projects": [{"name": f"p{i}"} for i in range(40)]})
    first = (await raw.get("/organization/projects")).json()
    second = (await raw.get("/organization/projects", params={"after": first["last_id"]})).json()
    assert (len(first["data"]), first["has_more"]) == (20, True)
    assert (len(second["data"]), second["has_more"]) == (20, False)


async def test_archived_projects_do_not_count_towards_a_page(raw: httpx.AsyncClient, emulator: Emulator) -> None:
    seed = [{"name": f"a{i}", "status": "archived"} for i in range(3)] + [{"name": f"p{i}"} for i in range(2)]
    emulator.load_seed({"projects": seed})
    page = (await raw.get("/organization/projects", params={"limit": "2"})).json()
    assert ([p["name"] for p in page["data"]], page["has_more"]) == (["p0", "p1"], False)
    with_archived = (await raw.get("/organization/projects", params={"limit": "2", "include_archived": "true"})).json()
    assert ([p["name"] for p in with_archived["data"]], with_archived["has_more"]) == (["a0", "a1"], True)


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "101"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"include_archived": "maybe"}, "include_archived"),
        ({"after": "proj_unknown"}, "after"),
    ],
)
async def test_bad_list_parameters_are_400(raw: httpx.AsyncClient, params: dict[str, str], param: str) -> None:
    response = await raw.get("/organization/projects", params=params)
    assert response.status_code == 400
    assert check_envelope(response.json())["param"] == param


async def test_modify_name_and_external_key(api: AdminApi) -> None:
    project = await api.projects.create("Old", external_key_id="ekm_1")
    renamed = await api.projects.modify(project.id, name="New")
    assert (renamed.name, renamed.external_key_id) == ("New", "ekm_1")
    cleared = await api.projects.modify(project.id, external_key_id=None)
    assert (cleared.name, cleared.external_key_id) == ("New", None)
    assert await api.projects.retrieve(project.id) == cleared


async def test_residency_is_chosen_at_creation_only(api: AdminApi, raw: httpx.AsyncClient, emulator: Emulator) -> None:
    project = await api.projects.create("Tokyo", residency="JP_STORAGE")
    response = await raw.post(f"/organization/projects/{project.id}", json={"residency": "EU_STORAGE_PROCESSING"})
    assert response.status_code == 400
    assert check_envelope(response.json())["param"] == "residency"
    assert (await api.projects.retrieve(project.id)).residency == "JP_STORAGE"
    assert emulator.state.projects[project.id].residency == "JP_STORAGE"


@pytest.mark.parametrize(
    ("body", "param", "code"),
    [
        ({"name": "x", "owner": "me"}, "owner", "unknown_parameter"),
        ({"name": 5}, "name", "invalid_type"),
        ({"name": ""}, "name", "invalid_value"),
    ],
)
async def test_modify_refuses_bad_bodies(
    api: AdminApi, raw: httpx.AsyncClient, body: dict[str, object], param: str, code: str
) -> None:
    project = await api.projects.create("Target")
    response = await raw.post(f"/organization/projects/{project.id}", json=body)
    assert response.status_code == 400
    error = check_envelope(response.json())
    assert (error["param"], error["code"]) == (param, code)
    assert (await api.projects.retrieve(project.id)).name == "Target"


@pytest.mark.parametrize(
    ("body", "param", "code"),
    [
        ({}, "name", "missing_required_parameter"),
        ({"name": "x", "residency": "MARS_STORAGE"}, "residency", "invalid_value"),
        ({"name": "x", "residency": "eu_storage_processing"}, "residency", "invalid_value"),
        ({"name": ["x"]}, "name", "invalid_type"),
        ({"name": "x", "geography": "EU"}, "geography", "unknown_parameter"),
    ],
)
async def test_create_refuses_bad_bodies(
    raw: httpx.AsyncClient, emulator: Emulator, body: dict[str, object], param: str, code: str
) -> None:
    response = await raw.post("/organization/projects", json=body)
    assert response.status_code == 400
    error = check_envelope(response.json())
    assert (error["param"], error["code"]) == (param, code)
    assert len(emulator.state.projects) == 1


async def test_every_residency_of_the_spec_is_accepted(api: AdminApi, spec: Spec | None) -> None:
    if spec is None:
        pytest.skip("the Admin API spec is not available; set OPENAI_ADMIN_SPEC")
    residencies = spec.document["components"]["schemas"]["PublicProjectResidency"]["enum"]
    assert len(residencies) == 12
    for residency in residencies:
        assert (await api.projects.create(f"in {residency}", residency=residency)).residency == residency


async def test_unapproved_residency_is_403(api: AdminApi, emulator: Emulator) -> None:
    emulator.state.organization.approved_residencies = ["EU_STORAGE_PROCESSING"]
    assert (await api.projects.create("eu", residency="EU_STORAGE_PROCESSING")).residency == "EU_STORAGE_PROCESSING"
    assert (await api.projects.create("global")).residency == "GLOBAL"
    with pytest.raises(Exception) as caught:
        await api.projects.create("jp", residency="JP_STORAGE")
    assert getattr(caught.value, "status", None) == 403


async def test_the_default_project_cannot_be_modified_or_archived(api: AdminApi) -> None:
    (default,) = await api.projects.list()
    with pytest.raises(BadRequest) as modify:
        await api.projects.modify(default.id, name="Renamed")
    assert (modify.value.status, modify.value.code) == (400, "default_project_immutable")
    with pytest.raises(BadRequest):
        await api.projects.archive(default.id)
    assert (await api.projects.retrieve(default.id)).name == "Default project"


async def test_archive_is_one_way(api: AdminApi, raw: httpx.AsyncClient, clock: FakeClock) -> None:
    project = await api.projects.create("Short lived")
    clock.advance(100)
    archived = await api.projects.archive(project.id)
    assert (archived.status, archived.archived_at) == ("archived", int(START) + 100)
    clock.advance(100)
    again = await api.projects.archive(project.id)
    assert again.archived_at == int(START) + 100, "archiving twice keeps the first archived_at"
    with pytest.raises(BadRequest) as modify:
        await api.projects.modify(project.id, name="Back")
    assert modify.value.code == "project_archived"
    with pytest.raises(BadRequest):
        await api.retention.update_project(project.id, "zero_data_retention")
    with pytest.raises(BadRequest):
        await api.hosted_tools.update(project.id, {"mcp": False})
    unarchive = await raw.post(f"/organization/projects/{project.id}/unarchive")
    assert unarchive.status_code == 404
    assert check_envelope(unarchive.json())["code"] == "unknown_url"
    assert (await api.projects.retrieve(project.id)).status == "archived"


async def test_unknown_project_is_404_everywhere(api: AdminApi, raw: httpx.AsyncClient) -> None:
    with pytest.raises(NotFound) as caught:
        await api.projects.retrieve("proj_doesnotexist")
    assert caught.value.status == 404 and caught.value.request_id
    for suffix in ("", "/data_retention", "/model_permissions", "/hosted_tool_permissions"):
        response = await raw.get(f"/organization/projects/proj_doesnotexist{suffix}")
        assert response.status_code == 404
        error = check_envelope(response.json())
        assert (error["type"], error["code"], error["param"]) == ("invalid_request_error", "not_found", "project_id")
    response = await raw.post("/organization/projects/proj_doesnotexist/archive")
    assert response.status_code == 404


async def test_accepted_project_writes_are_recorded_as_events(api: AdminApi, emulator: Emulator) -> None:
    project = await api.projects.create("Audited")
    await api.projects.modify(project.id, name="Audited 2")
    await api.projects.archive(project.id)
    with pytest.raises(BadRequest):
        await api.projects.modify(project.id, name="refused")
    events = [(e.type, e.project_id) for e in emulator.events]
    assert events == [
        ("project.created", project.id),
        ("project.updated", project.id),
        ("project.archived", project.id),
    ]
    assert emulator.events[1].details == {"id": project.id, "changes_requested": {"title": "Audited 2"}}
