"""Access families of the emulator through the real client: users, invites, groups, roles, service accounts, keys.

The `api` fixture validates every answer against the official spec, so these are contract tests too.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from emulator_support import check_envelope

from datacontrols.adminapi import AdminApi
from datacontrols.emulator import Emulator
from datacontrols.errors import BadRequest

PROJECT = "proj_access00000000000000000"
SEED: dict[str, Any] = {
    "users": [
        {"id": "user-alice", "email": "alice@example.com", "name": "Alice", "role": "owner", "added_at": 1},
        {"id": "user-bob", "email": "bob@example.com", "name": "Bob", "added_at": 2},
    ],
    "groups": [{"id": "group_ds", "name": "data-science", "created_at": 3}],
    "invites": [{"id": "invite-done", "email": "old@example.com", "status": "accepted", "created_at": 4}],
    "admin_api_keys": [
        {"id": "key_admin", "name": "ci", "redacted_value": "sk-admin...xyz", "owner": {"id": "user-alice"}}
    ],
    "projects": [
        {
            "id": PROJECT,
            "name": "Access",
            "created_at": 5,
            "users": [{"user": "alice@example.com", "role": "owner"}],
            "groups": [{"group": "data-science", "role": "member"}],
            "service_accounts": [{"id": "svc_acct_bot", "name": "bot", "role": "member"}],
            "api_keys": [
                {"id": "key_bob", "name": "laptop", "owner": {"type": "user", "id": "user-bob"}, "created_at": 6},
                {"id": "key_bot", "name": "prod", "owner": {"type": "service_account", "id": "bot"}},
            ],
        }
    ],
}


@pytest.fixture
def seeded(emulator: Emulator) -> Emulator:
    emulator.load_seed(SEED)
    return emulator


async def test_organization_users_page_through_every_user(api: AdminApi, emulator: Emulator) -> None:
    emulator.load_seed({"users": [{"email": f"u{i:03d}@example.com"} for i in range(130)]})
    users = await api.organization_users.list()
    assert [u.email for u in users] == [f"u{i:03d}@example.com" for i in range(130)]
    assert len(emulator.requests.for_template("/organization/users", "GET")) == 2


async def test_project_users_are_added_changed_and_removed(api: AdminApi, seeded: Emulator) -> None:
    added = await api.project_users.add(PROJECT, "user-bob", "member")
    assert (added.id, added.email, added.role) == ("user-bob", "bob@example.com", "member")
    assert (await api.project_users.modify(PROJECT, "user-bob", "owner")).role == "owner"
    assert [(u.id, u.role) for u in await api.project_users.list(PROJECT)] == [
        ("user-alice", "owner"),
        ("user-bob", "owner"),
    ]
    assert await api.project_users.remove(PROJECT, "user-bob") is True
    assert await api.project_users.remove(PROJECT, "user-bob") is False, "already gone counts as done"
    assert [e.type for e in seeded.events] == ["user.added", "user.updated", "user.deleted"]
    assert seeded.events[1].details == {"id": "user-bob", "changes_requested": {"role": "owner"}}


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"user_id": "user-nobody", "role": "member"}, "user_not_found"),
        ({"user_id": "user-alice", "role": "member"}, "already_exists"),
        ({"user_id": "user-bob", "role": "admin"}, "invalid_value"),
        ({"role": "member"}, "missing_required_parameter"),
    ],
)
async def test_bad_project_user_adds_are_refused(
    raw: httpx.AsyncClient, seeded: Emulator, body: dict[str, Any], code: str
) -> None:
    answer = await raw.post(f"/organization/projects/{PROJECT}/users", json=body)
    assert answer.status_code == 400 and check_envelope(answer.json())["code"] == code
    assert seeded.events == []


async def test_invites(api: AdminApi, raw: httpx.AsyncClient, seeded: Emulator) -> None:
    invite = await api.invites.create("erin@example.com")
    assert (invite.email, invite.role, invite.status, invite.projects) == ("erin@example.com", "reader", "pending", [])
    assert invite.expires_at == invite.created_at + 7 * 86_400
    with pytest.raises(BadRequest, match="pending invite"):
        await api.invites.create("ERIN@example.com")
    with pytest.raises(BadRequest, match="already a member"):
        await api.invites.create("bob@example.com")
    assert [i.email for i in await api.invites.list()] == ["old@example.com", "erin@example.com"]
    refused = await raw.delete("/organization/invites/invite-done")
    assert refused.status_code == 400, "an accepted invite cannot be deleted"
    assert await api.invites.delete(invite.id) is True
    assert seeded.events[0].details == {"id": invite.id, "data": {"email": "erin@example.com", "role": "reader"}}


async def test_groups_and_their_project_roles(api: AdminApi, raw: httpx.AsyncClient, seeded: Emulator) -> None:
    assert [(g.id, g.name, g.is_scim_managed) for g in await api.groups.list()] == [("group_ds", "data-science", False)]
    roles = await api.project_roles.list(PROJECT)
    assert [(r.id, r.predefined_role) for r in roles] == [
        ("role-api-project-owner", True),
        ("role-api-project-member", True),
        ("role-api-project-viewer", True),
    ]
    assert [r.id for r in await api.project_groups.roles(PROJECT, "group_ds")] == ["role-api-project-member"]
    await api.project_groups.assign_role(PROJECT, "group_ds", "role-api-project-owner")
    assert await api.project_groups.unassign_role(PROJECT, "group_ds", "role-api-project-member") is True
    assert await api.project_groups.unassign_role(PROJECT, "group_ds", "role-api-project-member") is False
    assert [r.id for r in await api.project_groups.roles(PROJECT, "group_ds")] == ["role-api-project-owner"]
    assert await api.project_groups.remove(PROJECT, "group_ds") is True
    assert await api.project_groups.list(PROJECT) == []
    granted = await api.project_groups.add(PROJECT, "group_ds", "role-api-project-viewer")
    assert (granted.group_name, granted.group_type) == ("data-science", "group")
    unknown = await raw.post(f"/organization/projects/{PROJECT}/groups", json={"group_id": "group_ds", "role": "owner"})
    assert unknown.status_code == 400, "a role is an id, not a name"
    missing = await raw.get(f"/projects/{PROJECT}/groups/group_nope/roles")
    assert missing.status_code == 404
    assert {e.type for e in seeded.events} == {"role.assignment.created", "role.assignment.deleted"}


async def test_org_groups_page_in_style_b(api: AdminApi, emulator: Emulator) -> None:
    emulator.load_seed({"groups": [{"name": f"g{i:03d}"} for i in range(150)]})
    assert len(await api.groups.list()) == 150
    assert len(emulator.requests.for_template("/organization/groups", "GET")) == 2


async def test_a_created_key_exists_only_in_the_answer(api: AdminApi, seeded: Emulator) -> None:
    created = await api.service_accounts.create(PROJECT, "etl", with_key=True)
    assert created.role == "member" and created.api_key is not None
    value = created.api_key.value.get_secret_value()
    assert value.startswith("sk-svcacct-") and value not in repr(created)
    records = repr(seeded.dump_state()) + repr(list(seeded.requests)) + repr(seeded.events) + repr(seeded.state)
    assert value not in records
    (listed,) = [k for k in await api.project_api_keys.list(PROJECT) if k.id == created.api_key.id]
    assert listed.redacted_value == f"{value[:6]}...{value[-4:]}" and listed.owner.is_service_account
    assert [e.type for e in seeded.events] == ["service_account.created", "api_key.created"]


async def test_service_accounts_created_without_a_key_have_no_role(api: AdminApi, seeded: Emulator) -> None:
    created = await api.service_accounts.create(PROJECT, "etl", with_key=False)
    assert (created.role, created.api_key) == ("none", None)
    updated = await api.service_accounts.update(PROJECT, created.id, role="owner")
    assert updated.role == "owner"
    assert [(a.name, a.role) for a in await api.service_accounts.list(PROJECT)] == [("bot", "member"), ("etl", "owner")]


async def test_deleting_a_service_account_revokes_its_keys(api: AdminApi, seeded: Emulator) -> None:
    with pytest.raises(BadRequest, match="service account"):
        await api.project_api_keys.delete(PROJECT, "key_bot")
    assert await api.service_accounts.delete(PROJECT, "svc_acct_bot") is True
    assert [k.id for k in await api.project_api_keys.list(PROJECT)] == ["key_bob"]
    assert await api.service_accounts.delete(PROJECT, "svc_acct_bot") is False


async def test_key_visibility_follows_the_owner_project_access(
    api: AdminApi, raw: httpx.AsyncClient, seeded: Emulator
) -> None:
    everything = await api.project_api_keys.list(PROJECT)
    assert [(k.id, k.owner_project_access) for k in everything] == [("key_bob", "inactive"), ("key_bot", "active")]
    default = await raw.get(f"/organization/projects/{PROJECT}/api_keys")
    assert [k["id"] for k in default.json()["data"]] == ["key_bot"], "the default view hides some enabled keys"
    await api.project_users.add(PROJECT, "user-bob", "member")
    (bob,) = [k for k in await api.project_api_keys.list(PROJECT) if k.id == "key_bob"]
    assert bob.owner_project_access == "active" and bob.owner.user is not None and bob.owner.user.role == "member"
    assert await api.project_api_keys.delete(PROJECT, "key_bob") is True
    assert await api.project_api_keys.delete(PROJECT, "key_bob") is False


async def test_admin_keys_are_listed_in_redacted_form_only(api: AdminApi, seeded: Emulator) -> None:
    (key,) = await api.admin_api_keys.list()
    assert (key.id, key.redacted_value, key.owner.id, key.owner.type, key.owner.name) == (
        "key_admin",
        "sk-admin...xyz",
        "user-alice",
        "user",
        "Alice",
    )


async def test_writes_on_an_archived_project_are_refused(
    api: AdminApi, raw: httpx.AsyncClient, seeded: Emulator
) -> None:
    await api.projects.archive(PROJECT)
    for answer in (
        await raw.get(f"/organization/projects/{PROJECT}/users"),
        await raw.post(f"/organization/projects/{PROJECT}/users", json={"user_id": "user-bob", "role": "member"}),
        await raw.post(f"/organization/projects/{PROJECT}/service_accounts", json={"name": "x"}),
    ):
        assert answer.status_code == 400 and check_envelope(answer.json())["code"] == "project_archived"


def test_access_seeds_round_trip_through_the_dump(seeded: Emulator) -> None:
    dumped = seeded.dump_state()
    again = Emulator(admin_key="sk-admin-other-0123456789", seed=dumped, rng_seed=9)
    assert again.dump_state() == dumped
    project = dumped["projects"][0]
    assert project["groups"] == [
        {"group": "group_ds", "roles": ["member"], "created_at": project["groups"][0]["created_at"]}
    ]
    assert [k["owner"] for k in project["api_keys"]] == [
        {"type": "user", "id": "user-bob"},
        {"type": "service_account", "id": "svc_acct_bot"},
    ]


@pytest.mark.parametrize(
    ("project", "fragment"),
    [
        ({"name": "x", "users": [{"user": "nobody@example.com", "role": "member"}]}, "no user 'nobody@example.com'"),
        ({"name": "x", "groups": [{"group": "nope", "role": "member"}]}, "no group 'nope'"),
        ({"name": "x", "api_keys": [{"owner": {"type": "service_account", "id": "ghost"}}]}, "not a service account"),
        ({"name": "x", "groups": [{"group": "g", "role": "member", "roles": ["owner"]}]}, "either role or roles"),
    ],
)
def test_access_seed_references_must_resolve(project: dict[str, Any], fragment: str) -> None:
    from datacontrols.emulator import SeedError, load_seed

    with pytest.raises(SeedError, match=fragment):
        load_seed({"groups": [{"id": "g", "name": "g"}], "projects": [project]})
