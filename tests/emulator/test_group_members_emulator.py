"""Groups themselves and their members, as the spec describes them; every answer is checked against the spec
by the `raw` fixture."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from emulator_support import check_envelope

from datacontrols.emulator import Emulator
from datacontrols.emulator.seed import SeedError

PROJECT = "proj_groupmembers0000000001"
SEED: dict[str, Any] = {
    "users": [
        {"id": "user-alice", "email": "alice@example.com", "name": "Alice"},
        {"id": "user-bob", "email": "bob@example.com", "name": "Bob"},
        {"id": "user-carol", "email": "carol@example.com", "name": "Carol"},
    ],
    "groups": [{"id": "group_ds", "name": "data-science", "created_at": 3, "users": ["alice@example.com"]}],
    "projects": [{"id": PROJECT, "name": "Groups", "groups": [{"group": "data-science", "roles": ["member"]}]}],
}


@pytest.fixture
def seeded(emulator: Emulator) -> Emulator:
    emulator.load_seed(SEED)
    return emulator


def data(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["data"]
    return items


async def test_a_group_is_created_renamed_and_deleted(raw: httpx.AsyncClient, seeded: Emulator) -> None:
    created = (await raw.post("/organization/groups", json={"name": "finance"})).json()
    assert (created["name"], created["is_scim_managed"], created["group_type"]) == ("finance", False, "group")
    path = f"/organization/groups/{created['id']}"
    assert (await raw.get(path)).json() == created
    renamed = (await raw.post(path, json={"name": "finops"})).json()
    assert renamed == {
        "id": created["id"],
        "name": "finops",
        "created_at": created["created_at"],
        "is_scim_managed": False,
    }
    assert [g["name"] for g in data(await raw.get("/organization/groups"))] == ["data-science", "finops"]
    assert (await raw.delete(path)).json() == {"object": "group.deleted", "id": created["id"], "deleted": True}
    gone = await raw.get(path)
    assert gone.status_code == 404 and check_envelope(gone.json())["param"] == "group_id"
    assert [e.type for e in seeded.events] == ["group.created", "group.updated", "group.deleted"]
    assert seeded.events[1].details == {"id": created["id"], "changes_requested": {"group_name": "finops"}}


@pytest.mark.parametrize("name", ["", "x" * 256])
async def test_a_group_name_is_1_to_255_characters(raw: httpx.AsyncClient, name: str) -> None:
    response = await raw.post("/organization/groups", json={"name": name})
    assert response.status_code == 400 and check_envelope(response.json())["param"] == "name"


async def test_deleting_a_group_revokes_its_project_access(raw: httpx.AsyncClient, seeded: Emulator) -> None:
    assert [g["group_id"] for g in data(await raw.get(f"/organization/projects/{PROJECT}/groups"))] == ["group_ds"]
    assert (await raw.delete("/organization/groups/group_ds")).status_code == 200
    assert data(await raw.get(f"/organization/projects/{PROJECT}/groups")) == []


async def test_members_are_added_listed_read_and_removed(raw: httpx.AsyncClient, seeded: Emulator) -> None:
    members = "/organization/groups/group_ds/users"
    added = (await raw.post(members, json={"user_id": "user-bob"})).json()
    assert added == {"object": "group.user", "user_id": "user-bob", "group_id": "group_ds"}
    assert (await raw.post(members, json={"user_id": "user-bob"})).json() == added, "adding again changes nothing"
    await raw.post(members, json={"user_id": "user-carol"})
    newest_first = [u["id"] for u in data(await raw.get(members))]
    assert newest_first == ["user-carol", "user-bob", "user-alice"], "the spec's default order is desc"
    assert [u["id"] for u in data(await raw.get(members, params={"order": "asc"}))] == newest_first[::-1]
    page = (await raw.get(members, params={"limit": 2})).json()
    assert page["has_more"] is True and page["next"] == "user-bob"
    rest = await raw.get(members, params={"limit": 2, "after": page["next"]})
    assert [u["id"] for u in data(rest)] == ["user-alice"]
    one = (await raw.get(f"{members}/user-bob")).json()
    assert (one["id"], one["email"], one["user_type"], one["is_service_account"]) == (
        "user-bob",
        "bob@example.com",
        "user",
        False,
    )
    assert (await raw.delete(f"{members}/user-bob")).json() == {"object": "group.user.deleted", "deleted": True}
    for answer in (await raw.get(f"{members}/user-bob"), await raw.delete(f"{members}/user-bob")):
        assert answer.status_code == 404 and check_envelope(answer.json())["param"] == "user_id"
    assert seeded.events == [], "the spec has no audit event type for group membership"


async def test_only_organization_users_can_join(raw: httpx.AsyncClient, seeded: Emulator) -> None:
    response = await raw.post("/organization/groups/group_ds/users", json={"user_id": "user-nobody"})
    assert response.status_code == 400 and check_envelope(response.json())["param"] == "user_id"
    unknown = await raw.post("/organization/groups/group_nope/users", json={"user_id": "user-bob"})
    assert unknown.status_code == 404


async def test_members_survive_a_dump_and_a_reload(seeded: Emulator) -> None:
    assert seeded.state.groups["group_ds"].user_ids == ["user-alice"]
    seeded.state.groups["group_ds"].user_ids.append("user-carol")
    seeded.load_seed(seeded.dump_state())
    assert seeded.state.groups["group_ds"].user_ids == ["user-alice", "user-carol"]


def test_a_seeded_member_must_be_an_organization_user(emulator: Emulator) -> None:
    with pytest.raises(SeedError, match=re.escape("no user 'dave@example.com'")):
        emulator.load_seed({"groups": [{"name": "g", "users": ["dave@example.com"]}]})


async def test_single_reads_of_a_grant_and_its_role(raw: httpx.AsyncClient, seeded: Emulator) -> None:
    grant = f"/organization/projects/{PROJECT}/groups/group_ds"
    read = (await raw.get(grant)).json()
    assert (read["object"], read["group_id"], read["group_name"]) == ("project.group", "group_ds", "data-science")
    assert (await raw.get(grant, params={"group_type": "tenant_group"})).status_code == 404
    assert (await raw.get(grant, params={"group_type": "team"})).status_code == 400
    role = f"/projects/{PROJECT}/groups/group_ds/roles/role-api-project-member"
    assert (await raw.get(role)).json()["id"] == "role-api-project-member"
    assert (await raw.get(f"/projects/{PROJECT}/groups/group_ds/roles/role-api-project-owner")).status_code == 404
