"""Model permissions (absent, set, replaced, deleted) and hosted tools (partial updates) via the real client."""

from __future__ import annotations

import httpx
import pytest
from emulator_support import check_envelope

from datacontrols.adminapi import AdminApi
from datacontrols.emulator import Emulator

TOOLS = ["file_search", "web_search", "image_generation", "mcp", "code_interpreter"]


async def test_model_permissions_absent_set_replaced_deleted(api: AdminApi, raw: httpx.AsyncClient) -> None:
    project = await api.projects.create("Models")
    assert await api.model_permissions.get(project.id) is None

    absent = await raw.get(f"/organization/projects/{project.id}/model_permissions")
    assert absent.status_code == 404
    assert check_envelope(absent.json())["code"] == "not_found"

    allow = await api.model_permissions.update(project.id, mode="allow_list", model_ids=["gpt-4.1", "o3"])
    assert (allow.object, allow.mode, allow.model_ids) == ("project.model_permissions", "allow_list", ["gpt-4.1", "o3"])
    deny = await api.model_permissions.update(project.id, mode="deny_list", model_ids=["o3"])
    assert (deny.mode, deny.model_ids) == ("deny_list", ["o3"]), "an update replaces the policy whole"
    assert await api.model_permissions.get(project.id) == deny

    deleted = await raw.delete(f"/organization/projects/{project.id}/model_permissions")
    assert deleted.json() == {"object": "project.model_permissions.deleted", "deleted": True}
    assert await api.model_permissions.get(project.id) is None
    again = await raw.delete(f"/organization/projects/{project.id}/model_permissions")
    assert again.status_code == 404
    await api.model_permissions.delete(project.id)  # the client treats "already absent" as done


async def test_an_empty_allow_list_is_a_policy_not_an_absence(api: AdminApi) -> None:
    project = await api.projects.create("Nothing allowed")
    await api.model_permissions.update(project.id, mode="allow_list", model_ids=[])
    policy = await api.model_permissions.get(project.id)
    assert policy is not None and (policy.mode, policy.model_ids) == ("allow_list", [])


@pytest.mark.parametrize(
    ("body", "param", "code"),
    [
        ({"mode": "allow_list"}, "model_ids", "missing_required_parameter"),
        ({"model_ids": ["o3"]}, "mode", "missing_required_parameter"),
        ({"mode": "block_list", "model_ids": []}, "mode", "invalid_value"),
        ({"mode": "allow_list", "model_ids": "o3"}, "model_ids", "invalid_type"),
        ({"mode": "allow_list", "model_ids": [3]}, "model_ids.0", "invalid_type"),
    ],
)
async def test_model_permissions_refuse_bad_bodies(
    raw: httpx.AsyncClient, emulator: Emulator, body: dict[str, object], param: str, code: str
) -> None:
    project_id = next(iter(emulator.state.projects))
    response = await raw.post(f"/organization/projects/{project_id}/model_permissions", json=body)
    assert response.status_code == 400
    error = check_envelope(response.json())
    assert (error["param"], error["code"]) == (param, code)
    assert emulator.state.projects[project_id].model_permissions is None


async def test_hosted_tools_update_only_what_is_named(api: AdminApi, raw: httpx.AsyncClient) -> None:
    project = await api.projects.create("Tools")
    updated = await api.hosted_tools.update(project.id, {"mcp": False, "code_interpreter": False})
    assert updated.enabled() == {**dict.fromkeys(TOOLS, True), "mcp": False, "code_interpreter": False}

    response = await raw.post(
        f"/organization/projects/{project.id}/hosted_tool_permissions",
        json={"web_search": {"enabled": False}, "mcp": None},
    )
    body = response.json()
    assert "object" not in body and set(body) == set(TOOLS)
    assert {tool: state["enabled"] for tool, state in body.items()} == {
        **dict.fromkeys(TOOLS, True),
        "web_search": False,
        "mcp": False,  # null means unchanged
        "code_interpreter": False,
    }
    assert (await api.hosted_tools.get(project.id)).enabled() == {
        tool: state["enabled"] for tool, state in body.items()
    }


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"browser": {"enabled": True}}, "browser"),
        ({"mcp": True}, "mcp"),
        ({"mcp": {}}, "mcp.enabled"),
        ({"mcp": {"enabled": "no"}}, "mcp.enabled"),
    ],
)
async def test_hosted_tools_refuse_bad_bodies(
    raw: httpx.AsyncClient, emulator: Emulator, body: dict[str, object], param: str
) -> None:
    project_id = next(iter(emulator.state.projects))
    response = await raw.post(f"/organization/projects/{project_id}/hosted_tool_permissions", json=body)
    assert response.status_code == 400
    assert check_envelope(response.json())["param"] == param
    assert all(emulator.state.projects[project_id].hosted_tools.values())


async def test_malformed_json_is_400(raw: httpx.AsyncClient, emulator: Emulator) -> None:
    project_id = next(iter(emulator.state.projects))
    for content in (b"{not json", b"[1, 2]", b'"text"'):
        response = await raw.post(
            f"/organization/projects/{project_id}/hosted_tool_permissions",
            content=content,
            headers={"content-type": "application/json"},
        )
        assert response.status_code == 400
        assert check_envelope(response.json())["code"] == "invalid_json"
