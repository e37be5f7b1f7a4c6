"""The audit-log client family (query encoding, paging, parsing) and the emulator's audit-log route.

Every emulator answer is validated against the official spec with openapi-core, so these are also contract
tests of `GET /organization/audit_logs`.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import respx
from daemon_support import ADMIN_KEY, BASE_URL, validate_response

from datacontrols.adminapi import AdminApi
from datacontrols.adminapi.audit_logs import AuditLog, audit_log_query
from datacontrols.daemon.attribution import ALL_EVENT_TYPES, EVENT_TYPES_BY_KIND
from datacontrols.emulator import Emulator
from datacontrols.emulator.routes.audit_logs import ADMIN_KEY_TRACKING_ID
from datacontrols.kinds.external_storage import SDK_EVENT_TYPES
from testsupport.clock import SharedClock
from testsupport.spec import require_spec_document


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return require_spec_document()


@pytest.fixture(scope="module")
def openapi(spec: dict[str, Any]) -> Any:
    from openapi_core import OpenAPI

    return OpenAPI.from_dict(spec)


@pytest.fixture
def clock() -> SharedClock:
    return SharedClock()


@pytest.fixture
def emulator(clock: SharedClock) -> Emulator:
    return Emulator(admin_key=ADMIN_KEY, rng_seed=3, clock=clock, sleep=clock.sleep)


@pytest.fixture
async def raw(emulator: Emulator) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=emulator.http_transport(), base_url=BASE_URL, headers={"Authorization": f"Bearer {ADMIN_KEY}"}
    ) as client:
        yield client


@pytest.fixture
async def api(emulator: Emulator, clock: SharedClock) -> AsyncIterator[AdminApi]:
    client = AdminApi.connect(
        admin_key=ADMIN_KEY, http_transport=emulator.http_transport(), sleep=clock.sleep, clock=clock
    )
    yield client
    await client.aclose()


def _page(data: list[dict[str, Any]], *, has_more: bool = False) -> dict[str, Any]:
    return {
        "object": "list",
        "data": data,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
        "has_more": has_more,
    }


def _event(event_id: str, effective_at: int = 1, type_: str = "project.updated") -> dict[str, Any]:
    return {"id": event_id, "type": type_, "effective_at": effective_at, type_: {"id": "proj_1"}}


# --- the client ----------------------------------------------------------------------------------------


async def test_filters_are_sent_with_the_specs_bracketed_names_and_every_page_is_read() -> None:
    with respx.mock(base_url=BASE_URL, assert_all_called=True) as router:
        route = router.get("/organization/audit_logs").mock(
            side_effect=[
                httpx.Response(200, json=_page([_event("a"), _event("b")], has_more=True)),
                httpx.Response(200, json=_page([_event("c")])),
            ]
        )
        async with AdminApi.connect(admin_key=ADMIN_KEY) as api:
            events = await api.audit_logs.list(
                effective_at={"gte": 1720000000, "lt": 1720000600},
                event_types=["project.updated", "project.archived"],
                resource_ids=["proj_1", "proj_2"],
            )
    assert [e.id for e in events] == ["a", "b", "c"]
    first, second = (call.request.url.params for call in route.calls)
    assert first.multi_items() == [
        ("effective_at[gte]", "1720000000"),
        ("effective_at[lt]", "1720000600"),
        ("event_types[]", "project.updated"),
        ("event_types[]", "project.archived"),
        ("resource_ids[]", "proj_1"),
        ("resource_ids[]", "proj_2"),
        ("limit", "100"),
    ]
    assert second["after"] == "b"  # style A: the last id of the previous page
    assert second.get_list("resource_ids[]") == ["proj_1", "proj_2"]


async def test_one_page_with_cursors() -> None:
    with respx.mock(base_url=BASE_URL, assert_all_called=True) as router:
        route = router.get("/organization/audit_logs").mock(
            return_value=httpx.Response(200, json=_page([_event("x")], has_more=True))
        )
        async with AdminApi.connect(admin_key=ADMIN_KEY) as api:
            page = await api.audit_logs.page(limit=500, before="y", actor_emails=["a@example.com"])
    assert page.has_more and page.last_id == "x" and [e.id for e in page.data] == ["x"]
    params = route.calls.last.request.url.params
    assert params["limit"] == "100"  # clamped to the spec's maximum
    assert params["before"] == "y" and params.get_list("actor_emails[]") == ["a@example.com"]


def test_query_refuses_what_the_spec_does_not_take() -> None:
    with pytest.raises(ValueError, match="effective_at takes"):
        audit_log_query(effective_at={"since": 1})
    with pytest.raises(TypeError, match="list of strings"):
        audit_log_query(event_types="project.updated")
    assert audit_log_query() == {}


def test_the_specs_own_example_parses_and_names_its_author(spec: dict[str, Any]) -> None:
    example = json.loads(spec["components"]["schemas"]["AuditLog"]["x-oaiMeta"]["example"])
    event = AuditLog.model_validate(example)
    assert event.type == "api_key.created"
    assert event.details == {"id": "key_xxxx", "data": {"scopes": ["resource.operation"]}}
    assert event.resource_ids == frozenset({"key_xxxx"})
    assert event.actor is not None and event.actor.describe() == "user@example.com"


@pytest.mark.parametrize(
    ("actor", "described"),
    [
        ({"type": "session", "session": {"user": {"id": "u1", "email": "a@example.com"}}}, "a@example.com"),
        ({"type": "session", "session": {"user": {"id": "u1"}}}, "u1"),
        (
            {"type": "api_key", "api_key": {"id": "key_1", "type": "user", "user": {"email": "b@x.io"}}},
            "api key key_1 (b@x.io)",
        ),
        (
            {"type": "api_key", "api_key": {"id": "key_2", "type": "service_account", "service_account": {"id": "sa"}}},
            "api key key_2 (service account sa)",
        ),
        ({"type": "api_key", "api_key": {}}, "an api key"),
    ],
)
def test_actors_are_described_by_email_or_key_tracking_id(actor: dict[str, Any], described: str) -> None:
    event = AuditLog.model_validate({"id": "e", "type": "project.updated", "effective_at": 1, "actor": actor})
    assert event.actor is not None and event.actor.describe() == described


def test_unknown_fields_and_types_do_not_break_parsing() -> None:
    event = AuditLog.model_validate(
        {"id": "e", "type": "tenant.future.thing", "effective_at": 5, "source": {"x": 1}, "actor": None}
    )
    assert event.details == {} and event.resource_ids == frozenset() and event.actor is None


def test_the_event_types_the_daemon_asks_for_are_in_the_specs_enum(spec: dict[str, Any]) -> None:
    enum = set(spec["components"]["schemas"]["AuditLogEventType"]["enum"])
    # Beyond the pinned spec, only external storage's two, which openai-python 3.63.0 documents for the
    # `event_types[]` filter (SDK-NEWER.md section 10; tests/kinds/test_kind_registry.py holds the exception).
    assert set(ALL_EVENT_TYPES) - enum <= set(SDK_EVENT_TYPES)
    assert all(types for types in EVENT_TYPES_BY_KIND.values())


# --- the emulator ----------------------------------------------------------------------------------------


async def _list(raw: httpx.AsyncClient, openapi: Any, **params: Any) -> httpx.Response:
    response = await raw.get("/organization/audit_logs", params=params)
    if response.status_code == 200:
        validate_response(openapi, response)
    return response


async def test_admin_key_writes_are_an_api_key_actor_on_the_default_project(
    raw: httpx.AsyncClient, openapi: Any, emulator: Emulator
) -> None:
    created = (await raw.post("/organization/projects", json={"name": "Alpha"})).json()
    body = (await _list(raw, openapi)).json()
    assert body["object"] == "list" and body["has_more"] is False
    [event] = body["data"]
    assert "object" not in event  # the spec's AuditLog has none
    assert event["type"] == "project.created"
    assert event["project.created"] == {"id": created["id"], "data": {"name": "Alpha"}}
    assert event["actor"]["type"] == "api_key" and event["actor"]["api_key"]["id"] == ADMIN_KEY_TRACKING_ID
    default = emulator.state.default_project()
    assert default is not None and event["project"] == {"id": default.id, "name": default.name}
    assert ADMIN_KEY not in json.dumps(body)


async def test_the_actor_header_records_a_person_in_a_session(raw: httpx.AsyncClient, openapi: Any) -> None:
    project = (await raw.post("/organization/projects", json={"name": "Alpha"})).json()
    await raw.post(
        f"/organization/projects/{project['id']}",
        json={"name": "Beta"},
        headers={"x-emulator-actor": "alice@example.com"},
    )
    body = (await _list(raw, openapi, **{"event_types[]": "project.updated"})).json()
    [event] = body["data"]
    assert event["actor"]["type"] == "session"
    assert event["actor"]["session"]["user"]["email"] == "alice@example.com"
    assert event["project"] == {"id": project["id"], "name": "Beta"}
    assert event["project.updated"]["changes_requested"] == {"title": "Beta"}


async def test_filters(raw: httpx.AsyncClient, openapi: Any, clock: SharedClock) -> None:
    one = (await raw.post("/organization/projects", json={"name": "One"})).json()["id"]
    clock.advance(100)
    two = (await raw.post("/organization/projects", json={"name": "Two"})).json()["id"]
    clock.advance(100)
    await raw.post(f"/organization/projects/{one}/archive", headers={"x-emulator-actor": "bob@example.com"})

    async def ids(**params: Any) -> list[str]:
        response = await _list(raw, openapi, **params)
        assert response.status_code == 200, response.text
        return [e["type"] + ":" + e[e["type"]]["id"] for e in response.json()["data"]]

    assert await ids() == [f"project.archived:{one}", f"project.created:{two}", f"project.created:{one}"]
    assert await ids(**{"resource_ids[]": [one]}) == [f"project.archived:{one}", f"project.created:{one}"]
    assert await ids(**{"event_types[]": ["project.archived", "project.updated"]}) == [f"project.archived:{one}"]
    start = int(clock.now)
    assert await ids(**{"effective_at[gte]": start - 100}) == [f"project.archived:{one}", f"project.created:{two}"]
    assert await ids(**{"effective_at[gt]": start - 100, "effective_at[lte]": start}) == [f"project.archived:{one}"]
    assert await ids(**{"effective_at[lt]": start - 100}) == [f"project.created:{one}"]
    assert await ids(**{"actor_emails[]": ["bob@example.com"]}) == [f"project.archived:{one}"]
    assert await ids(**{"actor_ids[]": [ADMIN_KEY_TRACKING_ID]}) == [f"project.created:{two}", f"project.created:{one}"]
    assert await ids(**{"project_ids[]": [one]}) == [f"project.archived:{one}"]  # admin-key events: default project
    assert await ids(tenant_only="true") == []


async def test_pages_walk_older_with_after_and_newer_with_before(raw: httpx.AsyncClient, openapi: Any) -> None:
    for index in range(5):
        await raw.post("/organization/projects", json={"name": f"P{index}"})
    everything = (await _list(raw, openapi, limit=100)).json()["data"]
    ids = [e["id"] for e in everything]
    first = (await _list(raw, openapi, limit=2)).json()
    assert [e["id"] for e in first["data"]] == ids[:2] and first["has_more"] is True
    second = (await _list(raw, openapi, limit=2, after=first["last_id"])).json()
    assert [e["id"] for e in second["data"]] == ids[2:4] and second["has_more"] is True
    last = (await _list(raw, openapi, limit=2, after=second["last_id"])).json()
    assert [e["id"] for e in last["data"]] == ids[4:] and last["has_more"] is False
    back = (await _list(raw, openapi, limit=2, before=ids[4])).json()
    assert [e["id"] for e in back["data"]] == ids[2:4] and back["has_more"] is True


@pytest.mark.parametrize(
    "params",
    [
        {"after": "audit_log-nope"},
        {"before": "audit_log-nope"},
        {"limit": 0},
        {"limit": 101},
        {"effective_at[gte]": "x"},
    ],
)
async def test_bad_queries_answer_400(raw: httpx.AsyncClient, params: dict[str, Any]) -> None:
    response = await raw.get("/organization/audit_logs", params=params)
    assert response.status_code == 400
    assert set(response.json()["error"]) == {"message", "type", "param", "code"}


async def test_the_client_reads_the_emulators_log_whole(api: AdminApi, raw: httpx.AsyncClient) -> None:
    for index in range(130):  # more than one page of 100
        await raw.post("/organization/projects", json={"name": f"P{index}"})
    events = await api.audit_logs.list(event_types=["project.created"])
    assert len(events) == 130 and len({e.id for e in events}) == 130
    assert [e.effective_at for e in events] == sorted((e.effective_at for e in events), reverse=True)
