"""The access families send what the spec describes and keep secrets secret (respx, no emulator)."""

from __future__ import annotations

import httpx
import pytest
import respx
from adminapi_support import ADMIN_KEY, body_of

from datacontrols.adminapi import AdminApi
from datacontrols.adminapi.transport import OutcomeUnknown, redacted_matches
from datacontrols.redaction import REDACTED, redact

PROJECT = "proj_abc"
# Not shaped like a key, so only its registration (not the sk- pattern) can keep it out of text.
CREATED_KEY = "created-secret-" + "k3Y" * 16


def page(data: list[dict[str, object]], *, more: bool = False) -> dict[str, object]:
    return {
        "object": "list",
        "data": data,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
        "has_more": more,
    }


async def test_organization_users_are_read_page_by_page(api: AdminApi, api_mock: respx.MockRouter) -> None:
    route = api_mock.get("/organization/users").mock(
        side_effect=[
            httpx.Response(200, json=page([{"object": "organization.user", "id": "user-1", "added_at": 1}], more=True)),
            httpx.Response(200, json=page([{"object": "organization.user", "id": "user-2", "added_at": 2}])),
        ]
    )
    assert [u.id for u in await api.organization_users.list()] == ["user-1", "user-2"]
    assert route.calls[1].request.url.params["after"] == "user-1"
    assert route.calls[0].request.url.params["limit"] == "100"


async def test_project_keys_are_listed_with_owner_project_access_any(api: AdminApi, api_mock: respx.MockRouter) -> None:
    route = api_mock.get(f"/organization/projects/{PROJECT}/api_keys").respond(json=page([]))
    await api.project_api_keys.list(PROJECT)
    assert route.calls.last.request.url.params["owner_project_access"] == "any"


async def test_a_key_s_expiry_is_set_relative_to_the_request_and_resent_when_the_outcome_is_unknown(
    api: AdminApi, api_mock: respx.MockRouter
) -> None:
    key = {"id": "key_1", "redacted_value": "sk-...abcd", "created_at": 1, "expires_at": 3601}
    route = api_mock.post(f"/organization/projects/{PROJECT}/api_keys/key_1")
    route.side_effect = [httpx.Response(502), httpx.Response(200, json=key)]
    updated = await api.project_api_keys.set_expiry(PROJECT, "key_1", 3600)
    assert updated.expires_at == 3601 and route.call_count == 2, "a resend only restarts the same life"
    assert all(body_of(call) == {"expires_in_seconds": 3600} for call in route.calls)
    with pytest.raises(ValueError, match="future"):
        await api.project_api_keys.set_expiry(PROJECT, "key_1", 0)
    assert route.call_count == 2


async def test_a_created_key_is_registered_and_held_as_a_secret(api: AdminApi, api_mock: respx.MockRouter) -> None:
    route = api_mock.post(f"/organization/projects/{PROJECT}/service_accounts").respond(
        json={
            "object": "organization.project.service_account",
            "id": "svc_1",
            "name": "bot",
            "role": "member",
            "created_at": 1,
            "api_key": {
                "object": "organization.project.service_account.api_key",
                "value": CREATED_KEY,
                "name": "Secret Key",
                "created_at": 1,
                "id": "key_1",
            },
        }
    )
    created = await api.service_accounts.create(PROJECT, "bot", with_key=True)
    assert body_of(route.calls.last) == {"name": "bot", "create_service_account_only": False}
    assert created.api_key is not None and created.api_key.value.get_secret_value() == CREATED_KEY
    assert CREATED_KEY not in repr(created) and CREATED_KEY not in str(created)
    assert CREATED_KEY not in created.model_dump_json()
    assert redact(f"the key is {CREATED_KEY}!") == f"the key is {REDACTED}!", "registered on arrival"


async def test_an_account_only_create_asks_for_no_key(api: AdminApi, api_mock: respx.MockRouter) -> None:
    route = api_mock.post(f"/organization/projects/{PROJECT}/service_accounts").respond(
        json={"object": "organization.project.service_account", "id": "svc_2", "name": "etl", "role": "none",
              "created_at": 1, "api_key": None}
    )  # fmt: skip
    created = await api.service_accounts.create(PROJECT, "etl", with_key=False)
    assert body_of(route.calls.last) == {"name": "etl", "create_service_account_only": True}
    assert (created.role, created.api_key) == ("none", None)


async def test_a_create_with_a_key_whose_outcome_is_unknown_is_never_resent(
    api: AdminApi, api_mock: respx.MockRouter
) -> None:
    route = api_mock.post(f"/organization/projects/{PROJECT}/service_accounts").respond(500)
    with pytest.raises(OutcomeUnknown):
        await api.service_accounts.create(PROJECT, "bot", with_key=True)
    assert route.call_count == 1, "a second account with a second unseen key would be worse"


async def test_group_grants_and_roles_use_role_ids_and_the_projects_prefix(
    api: AdminApi, api_mock: respx.MockRouter
) -> None:
    grant = api_mock.post(f"/organization/projects/{PROJECT}/groups").respond(
        json={"object": "project.group", "project_id": PROJECT, "group_id": "g1", "group_name": "ds",
              "group_type": "group", "created_at": 1}
    )  # fmt: skip
    assign = api_mock.post(f"/projects/{PROJECT}/groups/g1/roles").respond(json={})
    unassign = api_mock.delete(f"/projects/{PROJECT}/groups/g1/roles/role-api-project-member").respond(404)
    await api.project_groups.add(PROJECT, "g1", "role-api-project-member")
    await api.project_groups.assign_role(PROJECT, "g1", "role-api-project-owner")
    assert await api.project_groups.unassign_role(PROJECT, "g1", "role-api-project-member") is False
    assert body_of(grant.calls.last) == {"group_id": "g1", "role": "role-api-project-member"}
    assert body_of(assign.calls.last) == {"role_id": "role-api-project-owner"}
    assert unassign.call_count == 1


@pytest.mark.parametrize(
    ("call", "path"),
    [
        (lambda api: api.project_users.remove(PROJECT, "user-1"), f"/organization/projects/{PROJECT}/users/user-1"),
        (lambda api: api.project_groups.remove(PROJECT, "g1"), f"/organization/projects/{PROJECT}/groups/g1"),
        (
            lambda api: api.service_accounts.delete(PROJECT, "svc_1"),
            f"/organization/projects/{PROJECT}/service_accounts/svc_1",
        ),
        (lambda api: api.project_api_keys.delete(PROJECT, "key_1"), f"/organization/projects/{PROJECT}/api_keys/key_1"),
        (lambda api: api.invites.delete("invite-1"), "/organization/invites/invite-1"),
    ],
    ids=["user", "group", "service-account", "key", "invite"],
)
async def test_removing_what_is_already_gone_counts_as_done(
    api: AdminApi, api_mock: respx.MockRouter, call, path
) -> None:  # type: ignore[no-untyped-def]
    route = api_mock.delete(path).respond(
        404, json={"error": {"message": "gone", "type": "x", "param": None, "code": None}}
    )
    assert await call(api) is False
    assert route.call_count == 1


@pytest.mark.parametrize(
    ("redacted", "matches"),
    [
        (ADMIN_KEY[:8] + "..." + ADMIN_KEY[-3:], True),
        (ADMIN_KEY[:8] + "\u2026" + ADMIN_KEY[-4:], True),
        (ADMIN_KEY[:8] + "****" + ADMIN_KEY[-4:], True),
        (ADMIN_KEY[:8] + "..." + "zz!", False),
        ("sk-...z", False),  # too little shown to tell keys apart
        (ADMIN_KEY, False),  # no mask: not a redacted form
    ],
)
def test_the_key_in_use_is_matched_by_its_redacted_form(api: AdminApi, redacted: str, matches: bool) -> None:
    assert api.transport.admin_key_matches(redacted) is matches
    assert ADMIN_KEY not in repr(api.transport)


def test_redacted_matches_needs_both_ends() -> None:
    key = "sk-admin-abcdefghijklmnopqrstuvwxyz"
    assert redacted_matches("sk-admin...xyz", key)
    assert not redacted_matches("sk-proj...xyz", key)
    assert not redacted_matches("sk-admin...xyz", "sk-adminxyz")  # no room for a hidden middle
