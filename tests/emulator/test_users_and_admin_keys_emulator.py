"""Organization users changed and removed, and admin keys created, read and deleted, as the spec describes
them; every answer is checked against the spec by the `raw` fixture."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from emulator_support import check_envelope

from datacontrols.emulator import Emulator

PROJECT = "proj_orgusers000000000000001"
SEED: dict[str, Any] = {
    "users": [
        {"id": "user-alice", "email": "alice@example.com", "name": "Alice", "role": "owner"},
        {"id": "user-bob", "email": "bob@example.com", "name": "Bob"},
    ],
    "groups": [{"id": "group_ds", "name": "data-science", "users": ["user-bob"]}],
    "roles": [{"id": "role_auditors", "name": "auditors", "permissions": ["api.audit_logs.read"]}],
    "projects": [
        {
            "id": PROJECT,
            "name": "People",
            "users": [{"user": "user-bob", "role": "member"}],
            "api_keys": [{"id": "key_bob", "owner": {"type": "user", "id": "user-bob"}}],
        }
    ],
}


@pytest.fixture
def seeded(emulator: Emulator) -> Emulator:
    emulator.load_seed(SEED)
    return emulator


def ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def refused(response: httpx.Response, status: int, param: str) -> None:
    assert response.status_code == status, response.text
    assert check_envelope(response.json())["param"] == param


async def test_a_user_is_modified(raw: httpx.AsyncClient, seeded: Emulator) -> None:
    changed = ok(await raw.post("/organization/users/user-bob", json={"role": "owner", "technical_level": "expert"}))
    assert (changed["role"], changed["technical_level"]) == ("owner", "expert")
    unchanged = ok(await raw.post("/organization/users/user-bob", json={"role": None}))
    assert unchanged == changed, "null or left out changes nothing"
    assert "technical_level" not in ok(await raw.get("/organization/users/user-alice")), "shown once set"
    refused(await raw.post("/organization/users/user-bob", json={"role": "member"}), 400, "role")
    refused(await raw.post("/organization/users/user-nobody", json={"role": "owner"}), 404, "user_id")


async def test_a_role_id_assigns_an_organization_role(raw: httpx.AsyncClient, seeded: Emulator) -> None:
    ok(await raw.post("/organization/users/user-bob", json={"role_id": "role_auditors"}))
    roles = ok(await raw.get("/organization/users/user-bob/roles"))["data"]
    assert [r["id"] for r in roles] == ["role_auditors"]
    refused(await raw.post("/organization/users/user-bob", json={"role_id": "role-api-project-owner"}), 400, "role_id")


async def test_a_deleted_user_leaves_everything(raw: httpx.AsyncClient, seeded: Emulator) -> None:
    ok(await raw.post("/organization/users/user-bob/roles", json={"role_id": "role_auditors"}))
    assert ok(await raw.delete("/organization/users/user-bob")) == {
        "object": "organization.user.deleted",
        "id": "user-bob",
        "deleted": True,
    }
    refused(await raw.get("/organization/users/user-bob"), 404, "user_id")
    assert [u["id"] for u in ok(await raw.get(f"/organization/projects/{PROJECT}/users"))["data"]] == []
    assert ok(await raw.get("/organization/groups/group_ds/users"))["data"] == []
    assert seeded.state.role_assignments == []
    keys = ok(await raw.get(f"/organization/projects/{PROJECT}/api_keys", params={"owner_project_access": "any"}))
    assert [(k["id"], k["owner_project_access"]) for k in keys["data"]] == [("key_bob", "inactive")]


async def test_an_admin_key_is_created_read_and_deleted(raw: httpx.AsyncClient, emulator: Emulator) -> None:
    created = ok(await raw.post("/organization/admin_api_keys", json={"name": "ci", "expires_in_seconds": 3600}))
    value = created["value"]
    assert value.startswith("sk-admin-") and created["redacted_value"] == f"{value[:6]}...{value[-4:]}"
    assert created["expires_at"] == created["created_at"] + 3600
    one = f"/organization/admin_api_keys/{created['id']}"
    read = ok(await raw.get(one))
    assert read == {k: v for k, v in created.items() if k != "value"}, "the value is shown once, at creation"
    assert value not in str(emulator.dump_state()) and value not in str(list(emulator.requests))
    assert ok(await raw.post("/organization/admin_api_keys", json={"name": "forever"}))["expires_at"] is None
    assert ok(await raw.delete(one)) == {
        "id": created["id"],
        "object": "organization.admin_api_key.deleted",
        "deleted": True,
    }
    refused(await raw.get(one), 404, "key_id")


@pytest.mark.parametrize("seconds", [0, 31_536_001])
async def test_an_admin_key_expires_within_a_year(raw: httpx.AsyncClient, seconds: int) -> None:
    body = {"name": "ci", "expires_in_seconds": seconds}
    refused(await raw.post("/organization/admin_api_keys", json=body), 400, "expires_in_seconds")


async def test_a_service_account_gets_more_keys(raw: httpx.AsyncClient, emulator: Emulator) -> None:
    project_id = next(iter(emulator.state.projects))
    accounts = f"/organization/projects/{project_id}/service_accounts"
    account = ok(await raw.post(accounts, json={"name": "bot"}))
    keys = f"{accounts}/{account['id']}/api_keys"
    named = ok(await raw.post(keys, json={"name": "rotation", "scopes": ["api.model.read"]}))
    assert (named["object"], named["name"]) == ("organization.project.service_account.api_key", "rotation")
    assert named["value"].startswith("sk-svcacct-") and named["value"] not in str(emulator.dump_state())
    unnamed = ok(await raw.post(keys))  # the spec's body is optional, and so is each of its fields
    assert unnamed["id"] != named["id"]
    listed = ok(await raw.get(f"/organization/projects/{project_id}/api_keys"))["data"]
    assert {named["id"], unnamed["id"]} <= {k["id"] for k in listed}
    assert emulator.events[-2].details == {"id": named["id"], "data": {"scopes": ["api.model.read"]}}
    refused(await raw.post(f"{accounts}/svc_acct_nope/api_keys", json={}), 404, "service_account_id")
