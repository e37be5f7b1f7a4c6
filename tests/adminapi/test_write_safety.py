"""A write whose outcome is unknown (any 5xx, 503 included, a timeout, a dropped connection) is re-read before it
is ever sent again; a write that surely did not reach the server (connect error, 429, `x-should-retry: true`)
is simply resent."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
import pytest
import respx
from adminapi_support import Drop, LoopbackServer, MakeApi, Reply

from datacontrols.adminapi import AdminApi, RetryPolicy
from datacontrols.adminapi.transport import OutcomeUnknown, route
from datacontrols.errors import ApiError, TransientApiError

ORG = "/organization/data_retention"
ZDR = {"object": "organization.data_retention", "type": "zero_data_retention"}
MAM = {"object": "organization.data_retention", "type": "modified_abuse_monitoring"}


def failed(status: int) -> httpx.Response:
    return httpx.Response(status, json={"error": {"message": "oops", "type": "server_error"}})


UNKNOWN_OUTCOMES = [
    failed(500),
    failed(502),
    failed(503),  # a proxy answers 503 when its upstream resets, perhaps after the write was applied
    failed(504),
    httpx.ReadTimeout("read timed out"),
    httpx.RemoteProtocolError("server disconnected"),
    httpx.WriteTimeout("write timed out"),
]
UNKNOWN_IDS = ["500", "502", "503", "504", "read-timeout", "dropped", "write-timeout"]


@pytest.mark.parametrize("outcome", UNKNOWN_OUTCOMES, ids=UNKNOWN_IDS)
async def test_a_write_that_took_effect_is_not_sent_again(
    api: AdminApi, api_mock: respx.MockRouter, outcome: httpx.Response | Exception
) -> None:
    post = api_mock.post(ORG).mock(side_effect=[outcome, httpx.Response(200, json=ZDR)])
    reread = api_mock.get(ORG).respond(json=ZDR)  # the write went through

    updated = await api.retention.update_organization("zero_data_retention")

    assert updated.type == "zero_data_retention"
    assert post.call_count == 1
    assert reread.call_count == 1


@pytest.mark.parametrize("outcome", UNKNOWN_OUTCOMES, ids=UNKNOWN_IDS)
async def test_a_write_that_did_not_take_effect_is_sent_again_after_the_reread(
    api: AdminApi, api_mock: respx.MockRouter, outcome: httpx.Response | Exception
) -> None:
    post = api_mock.post(ORG).mock(side_effect=[outcome, httpx.Response(200, json=ZDR)])
    reread = api_mock.get(ORG).respond(json=MAM)  # still the old value

    updated = await api.retention.update_organization("zero_data_retention")

    assert updated.type == "zero_data_retention"
    assert post.call_count == 2
    assert reread.call_count == 1
    assert api_mock.calls[1].request.method == "GET"  # re-read before the second write


@pytest.mark.parametrize(
    "outcome",
    [
        httpx.ConnectError("refused"),
        httpx.ConnectTimeout("connect timed out"),
        failed(429),
        httpx.Response(500, headers={"x-should-retry": "true"}),
        httpx.Response(503, headers={"x-should-retry": "true"}),
    ],
    ids=["connect-error", "connect-timeout", "429", "500-should-retry", "503-should-retry"],
)
async def test_a_write_the_server_surely_did_not_act_on_is_resent_without_a_reread(
    api: AdminApi, api_mock: respx.MockRouter, outcome: httpx.Response | Exception
) -> None:
    post = api_mock.post(ORG).mock(side_effect=[outcome, httpx.Response(200, json=ZDR)])
    reread = api_mock.get(ORG).respond(json=MAM)

    await api.retention.update_organization("zero_data_retention")

    assert post.call_count == 2
    assert reread.call_count == 0


async def test_a_write_without_a_recheck_raises_outcome_unknown_and_is_not_resent(
    api: AdminApi, api_mock: respx.MockRouter
) -> None:
    post = api_mock.post(ORG).mock(side_effect=[failed(500), httpx.Response(200, json=ZDR)])

    with pytest.raises(OutcomeUnknown) as raised:
        await api.transport.write("POST", route(ORG), body={"retention_type": "zero_data_retention"})

    assert post.call_count == 1
    assert isinstance(raised.value, TransientApiError)
    assert "may have taken effect" in str(raised.value)


async def test_when_the_reread_fails_too_the_outcome_is_unknown_and_nothing_is_resent(
    api: AdminApi, api_mock: respx.MockRouter
) -> None:
    post = api_mock.post(ORG).mock(side_effect=[failed(502), httpx.Response(200, json=ZDR)])
    api_mock.get(ORG).mock(return_value=failed(503))  # the re-read exhausts its own retries

    with pytest.raises(OutcomeUnknown, match="re-reading failed"):
        await api.retention.update_organization("zero_data_retention")

    assert post.call_count == 1


async def test_a_write_that_keeps_failing_ends_with_the_servers_error(
    make_api: MakeApi, api_mock: respx.MockRouter
) -> None:
    api = make_api(retry=RetryPolicy(max_retries=2))
    post = api_mock.post(ORG).mock(return_value=failed(500))
    reread = api_mock.get(ORG).respond(json=MAM)

    with pytest.raises(TransientApiError) as raised:
        await api.retention.update_organization("zero_data_retention")

    assert raised.value.status == 500
    assert (post.call_count, reread.call_count) == (3, 3)  # every unknown outcome re-read before resending


# --- each family's recheck ----------------------------------------------------------------------------

PROJECT = {"id": "proj_new", "object": "organization.project", "name": "Payments", "created_at": 1, "status": "active"}


async def test_project_create_recheck_finds_the_created_project(api: AdminApi, api_mock: respx.MockRouter) -> None:
    post = api_mock.post("/organization/projects").mock(side_effect=[httpx.ReadTimeout("t"), failed(500)])
    api_mock.get("/organization/projects").respond(
        json={"object": "list", "data": [PROJECT], "first_id": "proj_new", "last_id": "proj_new", "has_more": False}
    )

    created = await api.projects.create("Payments", residency="GLOBAL")

    assert created.id == "proj_new"
    assert post.call_count == 1


async def test_project_archive_recheck_sees_the_archive(api: AdminApi, api_mock: respx.MockRouter) -> None:
    post = api_mock.post("/organization/projects/proj_new/archive").mock(side_effect=[failed(504), failed(500)])
    api_mock.get("/organization/projects/proj_new").respond(json={**PROJECT, "status": "archived", "archived_at": 9})

    archived = await api.projects.archive("proj_new")

    assert archived.archived
    assert post.call_count == 1


async def test_project_modify_recheck_compares_the_changed_fields(api: AdminApi, api_mock: respx.MockRouter) -> None:
    post = api_mock.post("/organization/projects/proj_new").mock(side_effect=[failed(500), failed(500)])
    api_mock.get("/organization/projects/proj_new").respond(json={**PROJECT, "name": "Renamed"})

    modified = await api.projects.modify("proj_new", name="Renamed")

    assert modified.name == "Renamed"
    assert post.call_count == 1


async def test_model_permissions_delete_recheck_sees_the_policy_gone(api: AdminApi, api_mock: respx.MockRouter) -> None:
    path = "/organization/projects/proj_new/model_permissions"
    delete = api_mock.delete(path).mock(side_effect=[httpx.ReadTimeout("t"), failed(500)])
    api_mock.get(path).respond(404, json={"error": {"message": "No policy"}})

    await api.model_permissions.delete("proj_new")

    assert delete.call_count == 1


async def test_model_permissions_update_recheck_treats_ids_as_a_set(api: AdminApi, api_mock: respx.MockRouter) -> None:
    path = "/organization/projects/proj_new/model_permissions"
    post = api_mock.post(path).mock(side_effect=[failed(502), failed(500)])
    api_mock.get(path).respond(json={"mode": "allow_list", "model_ids": ["o3", "gpt-4.1"]})

    await api.model_permissions.update("proj_new", mode="allow_list", model_ids=["gpt-4.1", "o3"])

    assert post.call_count == 1


async def test_hosted_tools_recheck_looks_only_at_the_tools_named(api: AdminApi, api_mock: respx.MockRouter) -> None:
    path = "/organization/projects/proj_new/hosted_tool_permissions"
    tools = {t: {"enabled": False} for t in ("file_search", "web_search", "image_generation", "code_interpreter")}
    post = api_mock.post(path).mock(side_effect=[failed(500), failed(500)])
    api_mock.get(path).respond(json={**tools, "mcp": {"enabled": True}})

    await api.hosted_tools.update("proj_new", {"mcp": True})

    assert post.call_count == 1


async def test_project_retention_recheck(api: AdminApi, api_mock: respx.MockRouter) -> None:
    path = "/organization/projects/proj_new/data_retention"
    post = api_mock.post(path).mock(side_effect=[failed(500), failed(500)])
    api_mock.get(path).respond(json={"object": "project.data_retention", "type": "organization_default"})

    await api.retention.update_project("proj_new", "organization_default")

    assert post.call_count == 1


# --- a real dropped connection ------------------------------------------------------------------------


async def test_a_connection_dropped_after_the_write_was_received_is_rechecked_not_resent(
    make_api: MakeApi, loopback: Callable[..., Awaitable[LoopbackServer]]
) -> None:
    state = {"type": "modified_abuse_monitoring"}

    async def handler(method: str, target: str, body: bytes) -> Reply | Drop:
        if method == "POST":
            state["type"] = "zero_data_retention"  # the server acts on the write...
            return Drop()  # ...and the connection dies before the answer
        return Reply(200, {"object": "organization.data_retention", **state})

    server = await loopback(handler)
    api = make_api(base_url=server.base_url)

    updated = await api.retention.update_organization("zero_data_retention")

    assert updated.type == "zero_data_retention"
    assert [r.method for r in server.requests] == ["POST", "GET"]


async def test_a_write_refused_by_the_server_is_not_retried(api: AdminApi, api_mock: respx.MockRouter) -> None:
    post = api_mock.post(ORG).respond(403, json={"error": "Missing scopes: api.organization.write"})

    with pytest.raises(ApiError):
        await api.retention.update_organization("zero_data_retention")

    assert post.call_count == 1
