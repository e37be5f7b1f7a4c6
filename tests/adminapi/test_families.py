"""Each endpoint family sends exactly the request the spec describes and reads the answer into its model."""

from __future__ import annotations

import httpx
import pytest
import respx
from adminapi_support import ADMIN_KEY, body_of

from datacontrols import __version__
from datacontrols.adminapi import AdminApi
from datacontrols.adminapi.permissions import HostedToolPermissions, ModelPermissions
from datacontrols.adminapi.projects import Project
from datacontrols.adminapi.retention import OrganizationDataRetention, ProjectDataRetention
from datacontrols.errors import ApiError, NotFound

PROJECT = {
    "id": "proj_abc",
    "object": "organization.project",
    "name": "Payments",
    "created_at": 1_711_471_533,
    "archived_at": None,
    "status": "active",
    "residency": "EU_STORAGE_PROCESSING",
    "external_key_id": None,
}
TOOLS = {
    "file_search": {"enabled": True},
    "web_search": {"enabled": False},
    "image_generation": {"enabled": True},
    "mcp": {"enabled": False},
    "code_interpreter": {"enabled": True},
}


async def test_every_request_identifies_the_tool_and_authenticates(api: AdminApi, api_mock: respx.MockRouter) -> None:
    route = api_mock.get("/organization/data_retention").respond(
        json={"object": "organization.data_retention", "type": "zero_data_retention"}
    )

    await api.retention.get_organization()

    headers = route.calls.last.request.headers
    assert headers["user-agent"] == f"openai-datacontrols/{__version__}"
    assert headers["authorization"] == f"Bearer {ADMIN_KEY}"
    assert headers["accept"] == "application/json"


async def test_one_shared_http_client_serves_every_family(api: AdminApi) -> None:
    families = [api.retention, api.projects, api.model_permissions, api.hosted_tools]
    assert {id(family._t) for family in families} == {id(api.transport)}


# --- data retention ---------------------------------------------------------------------------------


async def test_organization_retention_reads_type_and_writes_retention_type(
    api: AdminApi, api_mock: respx.MockRouter
) -> None:
    api_mock.get("/organization/data_retention").respond(
        json={"object": "organization.data_retention", "type": "modified_abuse_monitoring"}
    )
    post = api_mock.post("/organization/data_retention").respond(
        json={"object": "organization.data_retention", "type": "zero_data_retention"}
    )

    observed = await api.retention.get_organization()
    updated = await api.retention.update_organization("zero_data_retention")

    assert observed == OrganizationDataRetention(type="modified_abuse_monitoring")
    assert updated.type == "zero_data_retention"
    assert body_of(post.calls.last) == {"retention_type": "zero_data_retention"}


async def test_project_retention_reads_type_and_writes_retention_type(
    api: AdminApi, api_mock: respx.MockRouter
) -> None:
    path = "/organization/projects/proj_abc/data_retention"
    api_mock.get(path).respond(json={"object": "project.data_retention", "type": "organization_default"})
    post = api_mock.post(path).respond(json={"object": "project.data_retention", "type": "none"})

    observed = await api.retention.get_project("proj_abc")
    updated = await api.retention.update_project("proj_abc", "none")

    assert observed == ProjectDataRetention(type="organization_default")
    assert updated.type == "none"
    assert body_of(post.calls.last) == {"retention_type": "none"}


# --- projects ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("include_archived", "sent"), [(False, "false"), (True, "true")])
async def test_project_list_asks_for_archived_projects_only_on_request(
    api: AdminApi, api_mock: respx.MockRouter, include_archived: bool, sent: str
) -> None:
    archived = {**PROJECT, "id": "proj_old", "status": "archived", "archived_at": 1_711_500_000}
    route = api_mock.get("/organization/projects").respond(
        json={"object": "list", "data": [PROJECT, archived], "first_id": "proj_abc", "last_id": "proj_old",
              "has_more": False}
    )  # fmt: skip

    projects = await api.projects.list(include_archived=include_archived)

    assert route.calls.last.request.url.params["include_archived"] == sent
    assert [(p.id, p.archived) for p in projects] == [("proj_abc", False), ("proj_old", True)]


@pytest.mark.parametrize(
    ("options", "expected_body"),
    [
        ({}, {"name": "Payments"}),
        ({"residency": "EU_STORAGE_PROCESSING"}, {"name": "Payments", "residency": "EU_STORAGE_PROCESSING"}),
        (
            {"residency": "GLOBAL", "external_key_id": "ekm_1"},
            {"name": "Payments", "residency": "GLOBAL", "external_key_id": "ekm_1"},
        ),
    ],
)
async def test_project_create_sends_only_what_was_given(
    api: AdminApi, api_mock: respx.MockRouter, options: dict[str, str], expected_body: dict[str, str]
) -> None:
    post = api_mock.post("/organization/projects").respond(json=PROJECT)

    created = await api.projects.create("Payments", **options)

    assert body_of(post.calls.last) == expected_body
    assert isinstance(created, Project)
    assert created.id == "proj_abc"
    assert created.effective_residency == "EU_STORAGE_PROCESSING"


async def test_project_retrieve_reads_one_project(api: AdminApi, api_mock: respx.MockRouter) -> None:
    api_mock.get("/organization/projects/proj_abc").respond(json=PROJECT)

    project = await api.projects.retrieve("proj_abc")

    assert (project.id, project.name, project.archived) == ("proj_abc", "Payments", False)


@pytest.mark.parametrize(
    ("changes", "expected_body"),
    [
        ({"name": "Payments EU"}, {"name": "Payments EU"}),
        ({"external_key_id": "ekm_2"}, {"external_key_id": "ekm_2"}),
        ({"external_key_id": None}, {"external_key_id": None}),  # null clears the key
        ({"name": "P", "external_key_id": "ekm_3"}, {"name": "P", "external_key_id": "ekm_3"}),
    ],
)
async def test_project_modify_sends_exactly_the_changes(
    api: AdminApi, api_mock: respx.MockRouter, changes: dict[str, str | None], expected_body: dict[str, str]
) -> None:
    post = api_mock.post("/organization/projects/proj_abc").respond(json={**PROJECT, **changes})

    modified = await api.projects.modify("proj_abc", **changes)

    assert body_of(post.calls.last) == expected_body
    assert all(getattr(modified, k) == v for k, v in changes.items())


async def test_project_modify_refuses_residency_before_sending(api: AdminApi, api_mock: respx.MockRouter) -> None:
    post = api_mock.post("/organization/projects/proj_abc")

    with pytest.raises(ValueError, match="residency"):
        await api.projects.modify("proj_abc", residency="GLOBAL")

    assert post.call_count == 0


async def test_project_archive_posts_without_a_body(api: AdminApi, api_mock: respx.MockRouter) -> None:
    post = api_mock.post("/organization/projects/proj_abc/archive").respond(
        json={**PROJECT, "status": "archived", "archived_at": 1_711_600_000}
    )

    archived = await api.projects.archive("proj_abc")

    assert post.calls.last.request.content == b""
    assert archived.archived


async def test_project_reads_the_older_geography_field(api: AdminApi, api_mock: respx.MockRouter) -> None:
    older = {k: v for k, v in PROJECT.items() if k != "residency"} | {"geography": "US_STORAGE_PROCESSING"}
    api_mock.get("/organization/projects/proj_abc").respond(json=older)

    project = await api.projects.retrieve("proj_abc")

    assert project.effective_residency == "US_STORAGE_PROCESSING"


# --- model permissions ------------------------------------------------------------------------------

MODELS = "/organization/projects/proj_abc/model_permissions"


async def test_model_permissions_get_reads_the_policy(api: AdminApi, api_mock: respx.MockRouter) -> None:
    api_mock.get(MODELS).respond(
        json={"object": "project.model_permissions", "mode": "allow_list", "model_ids": ["o3", "gpt-4.1"]}
    )

    assert await api.model_permissions.get("proj_abc") == ModelPermissions(
        mode="allow_list", model_ids=["o3", "gpt-4.1"]
    )


async def test_model_permissions_without_a_policy_is_none_not_an_error(
    api: AdminApi, api_mock: respx.MockRouter
) -> None:
    api_mock.get(MODELS).respond(404, json={"error": {"message": "No policy", "type": "invalid_request_error"}})

    assert await api.model_permissions.get("proj_abc") is None


async def test_model_permissions_update_replaces_the_whole_policy(api: AdminApi, api_mock: respx.MockRouter) -> None:
    post = api_mock.post(MODELS).respond(
        json={"object": "project.model_permissions", "mode": "deny_list", "model_ids": ["gpt-4o"]}
    )

    updated = await api.model_permissions.update("proj_abc", mode="deny_list", model_ids=["gpt-4o"])

    assert body_of(post.calls.last) == {"mode": "deny_list", "model_ids": ["gpt-4o"]}
    assert updated.mode == "deny_list"


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(200, json={"object": "project.model_permissions.deleted", "deleted": True}),
        httpx.Response(404, json={"error": {"message": "No policy", "type": "invalid_request_error"}}),
    ],
    ids=["deleted", "already-absent"],
)
async def test_model_permissions_delete_is_done_when_deleted_or_absent(
    api: AdminApi, api_mock: respx.MockRouter, answer: httpx.Response
) -> None:
    delete = api_mock.delete(MODELS).mock(return_value=answer)

    await api.model_permissions.delete("proj_abc")  # no exception is the contract

    assert delete.call_count == 1


async def test_model_permissions_get_on_other_errors_still_raises(api: AdminApi, api_mock: respx.MockRouter) -> None:
    api_mock.get(MODELS).respond(400, json={"error": {"message": "bad", "type": "invalid_request_error"}})

    with pytest.raises(ApiError) as raised:
        await api.model_permissions.get("proj_abc")
    assert not isinstance(raised.value, NotFound)


# --- hosted tools -----------------------------------------------------------------------------------

TOOLS_PATH = "/organization/projects/proj_abc/hosted_tool_permissions"


async def test_hosted_tools_get_reads_every_tool(api: AdminApi, api_mock: respx.MockRouter) -> None:
    api_mock.get(TOOLS_PATH).respond(json=TOOLS)

    tools = await api.hosted_tools.get("proj_abc")

    assert tools.enabled() == {
        "file_search": True,
        "web_search": False,
        "image_generation": True,
        "mcp": False,
        "code_interpreter": True,
    }


async def test_hosted_tools_update_sends_only_the_tools_named(api: AdminApi, api_mock: respx.MockRouter) -> None:
    post = api_mock.post(TOOLS_PATH).respond(json={**TOOLS, "mcp": {"enabled": True}})

    updated = await api.hosted_tools.update("proj_abc", {"mcp": True, "web_search": False})

    assert body_of(post.calls.last) == {"mcp": {"enabled": True}, "web_search": {"enabled": False}}
    assert isinstance(updated, HostedToolPermissions)
    assert updated.enabled()["mcp"] is True


async def test_hosted_tools_update_refuses_an_unknown_tool_before_sending(
    api: AdminApi, api_mock: respx.MockRouter
) -> None:
    post = api_mock.post(TOOLS_PATH)

    with pytest.raises(ValueError, match="hosted_shell"):
        await api.hosted_tools.update("proj_abc", {"hosted_shell": True})

    assert post.call_count == 0


# --- answers we did not expect ----------------------------------------------------------------------


async def test_fields_the_api_adds_later_are_kept_not_rejected(api: AdminApi, api_mock: respx.MockRouter) -> None:
    api_mock.get("/organization/projects/proj_abc").respond(json={**PROJECT, "billing_tier": "gold"})

    project = await api.projects.retrieve("proj_abc")

    assert project.model_extra == {"billing_tier": "gold"}


async def test_an_answer_of_the_wrong_shape_is_an_api_error_naming_the_field(
    api: AdminApi, api_mock: respx.MockRouter
) -> None:
    api_mock.get(TOOLS_PATH).respond(json={**{k: v for k, v in TOOLS.items() if k != "mcp"}, "note": "x-secret-x"})

    with pytest.raises(ApiError, match="mcp") as raised:
        await api.hosted_tools.get("proj_abc")

    assert "hosted_tool_permissions" in str(raised.value)
    assert "x-secret-x" not in str(raised.value)  # pydantic would quote the input; we do not
