"""The emulator is as strict as the spec and no stricter: filters and orders it must honour, values it must
refuse, and rules the spec does not state that it must not enforce.

Each answer goes through the `raw` fixture's spec check (documented statuses against their schema, the rest
against the error envelope), so a wrong shape fails here too.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from emulator_support import check_envelope

from datacontrols.emulator import Emulator
from datacontrols.emulator.event_types import SDK_EVENT_TYPES
from datacontrols.emulator.state import default_model_rate_limits

PROJECT = "proj_fidelity000000000000001"
USERS = [
    {"id": "user-alice", "email": "alice@example.com", "name": "Alice", "added_at": 1},
    {"id": "user-bob", "email": "bob@example.com", "name": "Bob", "added_at": 2},
    {"id": "user-carol", "email": "carol@example.com", "name": "Carol", "added_at": 3},
]
GROUPS = [{"id": f"group_{n}", "name": f"team-{n}", "created_at": n} for n in range(1, 4)]
SEED: dict[str, Any] = {
    "users": USERS,
    "groups": GROUPS,
    "projects": [
        {
            "id": PROJECT,
            "name": "Fidelity",
            "groups": [
                {"group": "team-1", "role": "member"},
                {"group": "team-2", "roles": ["owner", "viewer"]},
                {"group": "team-3", "role": "viewer"},
            ],
        }
    ],
}


@pytest.fixture
def seeded(emulator: Emulator) -> Emulator:
    emulator.load_seed(SEED)
    return emulator


def ids(response: httpx.Response, key: str = "id") -> list[str]:
    assert response.status_code == 200, response.text
    return [item[key] for item in response.json()["data"]]


# --- filters the emulator used to ignore ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["user-alice", "user-bob", "user-carol"]),
        ([("emails", "bob@example.com")], ["user-bob"]),
        ([("emails", "carol@example.com"), ("emails", "ALICE@example.com")], ["user-alice", "user-carol"]),
        ([("emails[]", "carol@example.com")], ["user-carol"]),  # how openai-python encodes an array
        ([("emails", "nobody@example.com")], []),
    ],
)
async def test_organization_users_are_filtered_by_email(
    raw: httpx.AsyncClient, seeded: Emulator, params: Any, expected: list[str]
) -> None:
    assert ids(await raw.get("/organization/users", params=params)) == expected


LISTINGS_WITH_ORDER = {
    # the served listings whose spec declares `order` (asc|desc), with what each lists, ascending
    "groups": ("/organization/groups", "id", ["group_1", "group_2", "group_3"]),
    "project groups": (f"/organization/projects/{PROJECT}/groups", "group_id", ["group_1", "group_2", "group_3"]),
    "project roles": (
        f"/projects/{PROJECT}/roles",
        "id",
        ["role-api-project-owner", "role-api-project-member", "role-api-project-viewer"],
    ),
    "group roles": (
        f"/projects/{PROJECT}/groups/group_2/roles",
        "id",
        ["role-api-project-owner", "role-api-project-viewer"],
    ),
}


@pytest.mark.parametrize("listing", LISTINGS_WITH_ORDER)
async def test_listings_with_order_follow_it(raw: httpx.AsyncClient, seeded: Emulator, listing: str) -> None:
    path, key, ascending = LISTINGS_WITH_ORDER[listing]
    assert ids(await raw.get(path), key) == ascending, "ascending by default"
    assert ids(await raw.get(path, params={"order": "asc"}), key) == ascending
    assert ids(await raw.get(path, params={"order": "desc"}), key) == ascending[::-1]
    first = (await raw.get(path, params={"order": "desc", "limit": 1})).json()
    following = await raw.get(path, params={"order": "desc", "after": first["next"]})
    assert ids(following, key) == ascending[::-1][1:], "the cursor walks the order asked for"
    sideways = await raw.get(path, params={"order": "sideways"})
    assert sideways.status_code == 400 and check_envelope(sideways.json())["param"] == "order"


async def test_admin_keys_refuse_an_order_outside_the_enum(raw: httpx.AsyncClient) -> None:
    response = await raw.get("/organization/admin_api_keys", params={"order": "newest"})
    assert response.status_code == 400 and check_envelope(response.json())["param"] == "order"


# --- audit log event types ------------------------------------------------------------------------------


async def test_audit_logs_refuse_event_types_outside_the_enum(raw: httpx.AsyncClient) -> None:
    response = await raw.get(
        "/organization/audit_logs", params=[("event_types[]", "project.created"), ("event_types[]", "project.made")]
    )
    error = check_envelope(response.json())
    assert response.status_code == 400 and (error["param"], error["code"]) == ("event_types", "invalid_value")
    assert "event_types[1]" in error["message"] and "project.made" not in error["message"]


@pytest.mark.parametrize("event_type", ["project.created", "role.assignment.deleted", *SDK_EVENT_TYPES[:2]])
async def test_audit_logs_take_every_known_event_type(raw: httpx.AsyncClient, event_type: str) -> None:
    response = await raw.get("/organization/audit_logs", params={"event_types[]": event_type})
    assert response.status_code == 200 and response.json()["data"] == []


async def test_tenant_only_takes_only_tenant_scoped_event_types(raw: httpx.AsyncClient) -> None:
    """The spec: "When `true`, all supplied event types must be tenant-scoped"."""
    tenant = {"tenant_only": "true", "event_types[]": "tenant.user.added"}
    assert (await raw.get("/organization/audit_logs", params=tenant)).status_code == 200
    mixed = await raw.get("/organization/audit_logs", params={"tenant_only": "true", "event_types[]": "user.added"})
    assert mixed.status_code == 400 and check_envelope(mixed.json())["param"] == "event_types"


async def test_audit_logs_take_after_and_before_together(raw: httpx.AsyncClient, emulator: Emulator) -> None:
    """The spec does not forbid both cursors at once; the page is then what lies strictly between them."""
    for n in range(5):
        assert (await raw.post("/organization/projects", json={"name": f"P{n}"})).status_code == 200
    newest_first = ids(await raw.get("/organization/audit_logs"))
    assert len(newest_first) == 5
    between = await raw.get("/organization/audit_logs", params={"after": newest_first[0], "before": newest_first[4]})
    assert ids(between) == newest_first[1:4] and between.json()["has_more"] is False
    cut = await raw.get(
        "/organization/audit_logs", params={"after": newest_first[0], "before": newest_first[4], "limit": 2}
    )
    assert ids(cut) == newest_first[1:3] and cut.json()["has_more"] is True


# --- odd paths -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/v1/a%0Ab",  # a decoded newline once fell past the app's routes to Starlette's text/plain 404
        "/v1/organization/projects/a%0Ab",
        "/%0A/v1/organization/projects",
        "/_emulator/state%0A",
        "/_emulator/state/",
        "/v1/organization/%E2%82%AC",
        "/",
    ],
)
async def test_every_404_is_the_api_json_error(raw: httpx.AsyncClient, path: str) -> None:
    response = await raw.get(httpx.URL("https://api.openai.com").copy_with(raw_path=path.encode()))
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/json")
    assert check_envelope(response.json())["code"] in ("unknown_url", "not_found")


# --- rules the spec does not state, which the emulator must not enforce ------------------------------------


async def test_rate_limits_take_a_limit_above_100(raw: httpx.AsyncClient, emulator: Emulator) -> None:
    """The spec gives the rate-limit list's `limit` a default of 100 and no maximum."""
    project_id = next(iter(emulator.state.projects))
    response = await raw.get(f"/organization/projects/{project_id}/rate_limits", params={"limit": 1000})
    assert len(ids(response)) == len(default_model_rate_limits()) and response.json()["has_more"] is False


async def test_admin_keys_take_a_limit_above_100(raw: httpx.AsyncClient, emulator: Emulator) -> None:
    """The spec gives the admin-key list's `limit` a default of 20 and no range."""
    keys = [{"id": f"key_{n:03d}", "redacted_value": "sk-admin...x", "owner": {"id": "user-a"}} for n in range(120)]
    emulator.load_seed({"users": [{"id": "user-a", "email": "a@example.com"}], "admin_api_keys": keys})
    response = await raw.get("/organization/admin_api_keys", params={"limit": 500})
    assert len(ids(response)) == 120 and response.json()["has_more"] is False


async def test_limits_the_spec_states_are_still_enforced(raw: httpx.AsyncClient, emulator: Emulator) -> None:
    """ "Limit can range between 1 and 100" (audit logs, projects, users) and `maximum: 100` (spend alerts)."""
    for path in ("/organization/audit_logs", "/organization/projects", "/organization/users"):
        assert (await raw.get(path, params={"limit": 101})).status_code == 400, path
    assert (await raw.get("/organization/spend_alerts", params={"limit": 101})).status_code == 400


def alert(**change: Any) -> dict[str, Any]:
    channel = {"type": "email", "recipients": ["a@example.com"]}
    return {"threshold_amount": 100, "currency": "USD", "interval": "month", "notification_channel": channel, **change}


async def test_a_spend_alert_may_have_no_recipients(raw: httpx.AsyncClient, emulator: Emulator) -> None:
    """The spec's `recipients` is a required array with no `minItems`."""
    created = await raw.post(
        "/organization/spend_alerts", json=alert(notification_channel={"type": "email", "recipients": []})
    )
    assert created.status_code == 200 and created.json()["notification_channel"]["recipients"] == []
    emulator.load_seed(emulator.dump_state())  # and the dump of such an alert loads again
    assert emulator.state.organization.spend_alerts[0].recipients == []


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("POST", "/organization/spend_limit", {"threshold_amount": 83.0, "currency": "USD", "interval": "month"}, ""),
        ("POST", "/organization/spend_alerts", alert(threshold_amount=83.0), ""),
        ("RATE", "", {"max_requests_per_1_minute": 83.0}, "max_requests_per_1_minute"),
    ],
    ids=["spend limit", "spend alert", "rate limit"],
)
async def test_an_integer_valued_float_is_an_integer(
    raw: httpx.AsyncClient, emulator: Emulator, method: str, path: str, body: dict[str, Any], field: str
) -> None:
    """In the spec's JSON Schema 2020-12, `83.0` is an `integer`; `83.5` is not."""
    if method == "RATE":
        project_id = next(iter(emulator.state.projects))
        rows = (await raw.get(f"/organization/projects/{project_id}/rate_limits")).json()["data"]
        method, path = "POST", f"/organization/projects/{project_id}/rate_limits/{rows[0]['id']}"
    field = field or "threshold_amount"
    accepted = await raw.request(method, path, json=body)
    assert accepted.status_code == 200, accepted.text
    value = accepted.json()[field]
    assert value == 83 and isinstance(value, int)
    refused = await raw.request(method, path, json={**body, field: 83.5})
    assert refused.status_code == 400 and check_envelope(refused.json())["param"] == field
    flag = await raw.request(method, path, json={**body, field: True})
    assert flag.status_code == 400, "a boolean is not an integer"
