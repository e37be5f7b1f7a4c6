"""Roles and role assignments, as the spec describes them; every answer is checked against the spec by the
`raw` fixture."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from emulator_support import check_envelope

from datacontrols.emulator import Emulator
from datacontrols.emulator.seed import SeedError

PROJECT = "proj_roles000000000000000001"
OTHER = "proj_roles000000000000000002"
BUILTIN = ["role-api-project-owner", "role-api-project-member", "role-api-project-viewer"]
SEED: dict[str, Any] = {
    "users": [
        {"id": "user-alice", "email": "alice@example.com", "name": "Alice"},
        {"id": "user-bob", "email": "bob@example.com", "name": "Bob"},
    ],
    "groups": [{"id": "group_ds", "name": "data-science"}],
    "projects": [
        {
            "id": PROJECT,
            "name": "Roles",
            "users": [{"user": "alice@example.com", "role": "member"}],
            "groups": [{"group": "data-science", "role": "member"}],
        },
        {"id": OTHER, "name": "Other"},
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


def ids(response: httpx.Response) -> list[str]:
    return [item["id"] for item in ok(response)["data"]]


def refused(response: httpx.Response, status: int, param: str) -> None:
    assert response.status_code == status, response.text
    assert check_envelope(response.json())["param"] == param


@pytest.mark.parametrize("scope", ["organization", "project"])
async def test_a_custom_role_is_created_listed_updated_and_deleted(
    raw: httpx.AsyncClient, seeded: Emulator, scope: str
) -> None:
    roles = "/organization/roles" if scope == "organization" else f"/projects/{PROJECT}/roles"
    before = ids(await raw.get(roles))
    assert before == ([] if scope == "organization" else BUILTIN)
    created = ok(await raw.post(roles, json={"role_name": "auditors", "permissions": ["a.read", "b.read"]}))
    resource = "api.organization" if scope == "organization" else "api.project"
    assert (created["object"], created["name"], created["resource_type"], created["predefined_role"]) == (
        "role",
        "auditors",
        resource,
        False,
    )
    assert created["description"] is None
    one = f"{roles}/{created['id']}"
    assert ok(await raw.get(one)) == created
    assert ids(await raw.get(roles)) == [*before, created["id"]]
    assert ids(await raw.get(roles, params={"order": "desc"})) == [created["id"], *before[::-1]]
    renamed = ok(await raw.post(one, json={"role_name": "auditing"}))
    assert (renamed["name"], renamed["permissions"]) == ("auditing", ["a.read", "b.read"]), "a partial update"
    changed = ok(await raw.post(one, json={"permissions": ["b.read", "c.read"], "description": "reads"}))
    assert (changed["permissions"], changed["description"]) == (["b.read", "c.read"], "reads")
    assert ok(await raw.delete(one)) == {"object": "role.deleted", "id": created["id"], "deleted": True}
    refused(await raw.get(one), 404, "role_id")
    assert [e.type for e in seeded.events] == ["role.created", "role.updated", "role.updated", "role.deleted"]
    assert seeded.events[2].details["changes_requested"] == {
        "permissions_added": ["c.read"],
        "permissions_removed": ["a.read"],
        "resource_type": resource,
        **({"resource_id": PROJECT} if scope == "project" else {}),
    }


async def test_roles_stay_in_their_scope(raw: httpx.AsyncClient, seeded: Emulator) -> None:
    org_role = ok(await raw.post("/organization/roles", json={"role_name": "o", "permissions": []}))["id"]
    project_role = ok(await raw.post(f"/projects/{PROJECT}/roles", json={"role_name": "p", "permissions": []}))["id"]
    assert ids(await raw.get("/organization/roles")) == [org_role]
    assert ids(await raw.get(f"/projects/{OTHER}/roles")) == BUILTIN
    refused(await raw.get(f"/projects/{PROJECT}/roles/{org_role}"), 404, "role_id")
    refused(await raw.get(f"/organization/roles/{project_role}"), 404, "role_id")
    refused(await raw.get(f"/projects/{OTHER}/roles/{project_role}"), 404, "role_id")


async def test_built_in_roles_cannot_be_changed(raw: httpx.AsyncClient, seeded: Emulator) -> None:
    one = f"/projects/{PROJECT}/roles/role-api-project-owner"
    assert ok(await raw.get(one))["predefined_role"] is True
    refused(await raw.post(one, json={"role_name": "boss"}), 400, "role_id")
    refused(await raw.delete(one), 400, "role_id")


ASSIGNMENTS = {
    # principal: (its roles path, a role of that scope to create, the answer's object and principal key)
    "user": ("/organization/users/user-bob/roles", "/organization/roles", "user.role", "user"),
    "group": ("/organization/groups/group_ds/roles", "/organization/roles", "group.role", "group"),
    "project user": (f"/projects/{PROJECT}/users/user-alice/roles", f"/projects/{PROJECT}/roles", "user.role", "user"),
}


@pytest.mark.parametrize("principal", ASSIGNMENTS)
async def test_roles_are_assigned_listed_read_and_unassigned(
    raw: httpx.AsyncClient, seeded: Emulator, principal: str
) -> None:
    path, roles, kind, key = ASSIGNMENTS[principal]
    role_id = ok(await raw.post(roles, json={"role_name": "r", "permissions": ["x"]}))["id"]
    assert ids(await raw.get(path)) == []
    assigned = ok(await raw.post(path, json={"role_id": role_id}))
    assert (assigned["object"], assigned["role"]["id"]) == (kind, role_id)
    assert assigned[key]["id"] in ("user-bob", "group_ds", "user-alice")
    assert ok(await raw.post(path, json={"role_id": role_id})) == assigned, "assigning again changes nothing"
    assert ids(await raw.get(path)) == [role_id]
    details = ok(await raw.get(f"{path}/{role_id}"))
    assert (details["id"], details["predefined_role"], details["assignment_sources"]) == (role_id, False, None)
    assert ok(await raw.delete(f"{path}/{role_id}")) == {"object": f"{key}.role.deleted", "deleted": True}
    refused(await raw.get(f"{path}/{role_id}"), 404, "role_id")
    refused(await raw.delete(f"{path}/{role_id}"), 404, "role_id")
    created, removed = [e for e in seeded.events if e.type.startswith("role.assignment.")]
    assert (created.type, removed.type) == ("role.assignment.created", "role.assignment.deleted")
    assert created.details["principal_type"] == key


async def test_only_roles_of_the_scope_can_be_assigned(raw: httpx.AsyncClient, seeded: Emulator) -> None:
    project_role = ok(await raw.post(f"/projects/{PROJECT}/roles", json={"role_name": "p", "permissions": []}))["id"]
    refused(await raw.post("/organization/users/user-bob/roles", json={"role_id": project_role}), 400, "role_id")
    refused(await raw.post("/organization/users/user-bob/roles", json={"role_id": "role_nope"}), 400, "role_id")
    member_roles = f"/projects/{PROJECT}/users/user-alice/roles"
    assert ok(await raw.post(member_roles, json={"role_id": "role-api-project-viewer"}))["role"]["predefined_role"]
    assert ok(await raw.post(member_roles, json={"role_id": project_role}))["role"]["id"] == project_role
    other_role = ok(await raw.post(f"/projects/{OTHER}/roles", json={"role_name": "o", "permissions": []}))["id"]
    refused(await raw.post(member_roles, json={"role_id": other_role}), 400, "role_id")


async def test_the_principal_must_be_there(raw: httpx.AsyncClient, seeded: Emulator) -> None:
    refused(await raw.get("/organization/users/user-nobody/roles"), 404, "user_id")
    refused(await raw.get("/organization/groups/group_nope/roles"), 404, "group_id")
    refused(await raw.get(f"/projects/{PROJECT}/users/user-bob/roles"), 404, "user_id")  # not a member
    refused(await raw.get("/projects/proj_nope/users/user-alice/roles"), 404, "project_id")


async def test_a_group_grant_may_use_a_custom_project_role(raw: httpx.AsyncClient, seeded: Emulator) -> None:
    role_id = ok(await raw.post(f"/projects/{PROJECT}/roles", json={"role_name": "p", "permissions": []}))["id"]
    group_roles = f"/projects/{PROJECT}/groups/group_ds/roles"
    assert ok(await raw.post(group_roles, json={"role_id": role_id}))["role"]["id"] == role_id
    assert ids(await raw.get(group_roles)) == ["role-api-project-member", role_id]
    ok(await raw.delete(f"/projects/{PROJECT}/roles/{role_id}"))
    assert ids(await raw.get(group_roles)) == ["role-api-project-member"], "a deleted role is held by no one"


async def test_leaving_drops_the_roles_held_there(raw: httpx.AsyncClient, seeded: Emulator) -> None:
    member_roles = f"/projects/{PROJECT}/users/user-alice/roles"
    ok(await raw.post(member_roles, json={"role_id": "role-api-project-viewer"}))
    ok(await raw.delete(f"/organization/projects/{PROJECT}/users/user-alice"))
    ok(await raw.post(f"/organization/projects/{PROJECT}/users", json={"user_id": "user-alice", "role": "member"}))
    assert ids(await raw.get(member_roles)) == []
    org_role = ok(await raw.post("/organization/roles", json={"role_name": "o", "permissions": []}))["id"]
    ok(await raw.post("/organization/groups/group_ds/roles", json={"role_id": org_role}))
    ok(await raw.delete("/organization/groups/group_ds"))
    assert seeded.state.role_assignments == []


async def test_roles_and_assignments_survive_a_dump_and_a_reload(raw: httpx.AsyncClient, seeded: Emulator) -> None:
    org_role = ok(await raw.post("/organization/roles", json={"role_name": "o", "permissions": ["x"]}))["id"]
    project_role = ok(await raw.post(f"/projects/{PROJECT}/roles", json={"role_name": "p", "permissions": []}))["id"]
    ok(await raw.post("/organization/users/user-bob/roles", json={"role_id": org_role}))
    ok(await raw.post("/organization/groups/group_ds/roles", json={"role_id": org_role}))
    ok(await raw.post(f"/projects/{PROJECT}/users/user-alice/roles", json={"role_id": project_role}))
    roles, assignments = dict(seeded.state.roles), list(seeded.state.role_assignments)
    seeded.load_seed(seeded.dump_state())
    assert (seeded.state.roles, seeded.state.role_assignments) == (roles, assignments)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"role_assignments": [{"role": "role_x", "user": "bob@example.com"}]}, "not a role of the organization"),
        (
            {"roles": [{"id": "role_x", "name": "x"}], "role_assignments": [{"role": "role_x", "user": "dave"}]},
            "no user 'dave'",
        ),
        (
            {"role_assignments": [{"role": "role-api-project-viewer", "user": "bob@example.com", "project": "Roles"}]},
            "not a member of project 'Roles'",
        ),
        ({"roles": [{"name": "x", "project": "Nowhere"}]}, "no project 'Nowhere'"),
    ],
)
def test_a_seed_names_only_roles_and_principals_that_exist(
    emulator: Emulator, extra: dict[str, Any], message: str
) -> None:
    with pytest.raises(SeedError, match=message):
        emulator.load_seed({**SEED, **extra})
