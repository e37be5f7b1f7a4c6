"""Every list is followed to its end, in both pagination styles, and a broken cursor stops instead of looping."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import respx

from datacontrols.adminapi import AdminApi
from datacontrols.adminapi.transport import Transport, route
from datacontrols.errors import ApiError


def project(n: int) -> dict[str, Any]:
    return {"id": f"proj_{n:03d}", "object": "organization.project", "name": f"P{n}", "created_at": n}


def at_most(calls: int, answer: Any) -> Any:
    """A side effect that fails the test instead of serving a looping client forever."""
    served = 0

    def serve(request: httpx.Request) -> httpx.Response:
        nonlocal served
        served += 1
        assert served <= calls, "the client kept asking: it is looping"
        return httpx.Response(200, json=answer(request) if callable(answer) else answer)

    return serve


def style_a_pages(items: list[dict[str, Any]], size: int, *, last_id: bool = True):  # type: ignore[no-untyped-def]
    """A side effect serving `items` with `first_id/last_id/has_more`, honouring `after` and `limit`."""

    def serve(request: httpx.Request) -> httpx.Response:
        after = request.url.params.get("after")
        start = 0 if after is None else [i["id"] for i in items].index(after) + 1
        page = items[start : start + min(size, int(request.url.params["limit"]))]
        return httpx.Response(
            200,
            json={
                "object": "list",
                "data": page,
                "first_id": page[0]["id"] if page else None,
                "last_id": (page[-1]["id"] if page else None) if last_id else None,
                "has_more": start + len(page) < len(items),
            },
        )

    return serve


async def test_style_a_is_followed_with_after_last_id_to_the_end(api: AdminApi, api_mock: respx.MockRouter) -> None:
    items = [project(n) for n in range(250)]
    route_ = api_mock.get("/organization/projects").mock(side_effect=style_a_pages(items, 100))

    projects = await api.projects.list()

    assert [p.id for p in projects] == [i["id"] for i in items]
    sent = [dict(call.request.url.params) for call in route_.calls]
    assert sent == [
        {"include_archived": "false", "limit": "100"},
        {"include_archived": "false", "limit": "100", "after": "proj_099"},
        {"include_archived": "false", "limit": "100", "after": "proj_199"},
    ]


async def test_style_a_without_last_id_falls_back_to_the_last_item(api: AdminApi, api_mock: respx.MockRouter) -> None:
    items = [project(n) for n in range(5)]
    route_ = api_mock.get("/organization/projects").mock(side_effect=style_a_pages(items, 2, last_id=False))

    projects = await api.projects.list()

    assert [p.id for p in projects] == [i["id"] for i in items]
    assert [c.request.url.params.get("after") for c in route_.calls] == [None, "proj_001", "proj_003"]


async def test_style_b_is_followed_with_after_next_to_the_end(transport: Transport, api_mock: respx.MockRouter) -> None:
    pages = {
        None: {"object": "list", "data": [{"id": "g1"}, {"id": "g2"}], "has_more": True, "next": "cur_A"},
        "cur_A": {"object": "list", "data": [{"id": "g3"}], "has_more": True, "next": "cur_B"},
        "cur_B": {"object": "list", "data": [{"id": "g4"}], "has_more": False, "next": None},
    }
    route_ = api_mock.get("/organization/groups").mock(
        side_effect=lambda request: httpx.Response(200, json=pages[request.url.params.get("after")])
    )

    items = [item async for item in transport.paginate(route("/organization/groups"))]

    assert [i["id"] for i in items] == ["g1", "g2", "g3", "g4"]
    assert route_.call_count == 3


async def test_a_single_page_without_has_more_makes_one_request(api: AdminApi, api_mock: respx.MockRouter) -> None:
    route_ = api_mock.get("/organization/projects").respond(
        json={"object": "list", "data": [project(1)], "first_id": "proj_001", "last_id": "proj_001"}
    )

    assert len(await api.projects.list()) == 1
    assert route_.call_count == 1


@pytest.mark.parametrize(
    "page",
    [
        {"object": "list", "data": [], "first_id": None, "last_id": None, "has_more": True},  # A: no cursor
        {"object": "list", "data": [{"id": "g1"}], "has_more": True, "next": None},  # B: null next
        {"object": "list", "data": [{"id": "g1"}], "has_more": True, "next": ""},  # B: empty next
    ],
    ids=["style-a-no-cursor", "style-b-null-next", "style-b-empty-next"],
)
async def test_has_more_without_a_cursor_stops_with_an_api_error(
    transport: Transport, api_mock: respx.MockRouter, page: dict[str, Any]
) -> None:
    route_ = api_mock.get("/organization/groups").mock(side_effect=at_most(5, page))

    with pytest.raises(ApiError, match="no new cursor"):
        _ = [item async for item in transport.paginate(route("/organization/groups"))]

    assert route_.call_count == 1


@pytest.mark.parametrize(
    "page",
    [
        {"object": "list", "data": [{"id": "a"}], "first_id": "a", "last_id": "a", "has_more": True},
        {"object": "list", "data": [{"id": "a"}], "has_more": True, "next": "same"},
    ],
    ids=["style-a", "style-b"],
)
async def test_a_repeated_cursor_stops_instead_of_looping(
    transport: Transport, api_mock: respx.MockRouter, page: dict[str, Any]
) -> None:
    # The server answers the same page forever; the client must notice on the second page.
    route_ = api_mock.get("/organization/groups").mock(side_effect=at_most(5, page))

    with pytest.raises(ApiError, match="no new cursor"):
        _ = [item async for item in transport.paginate(route("/organization/groups"))]

    assert route_.call_count == 2


async def test_a_cursor_seen_earlier_in_the_list_also_stops(transport: Transport, api_mock: respx.MockRouter) -> None:
    cursors = {None: "c1", "c1": "c2", "c2": "c1"}  # c1 -> c2 -> c1: a cycle longer than one page

    def page(request: httpx.Request) -> dict[str, Any]:
        return {"data": [{"id": "x"}], "has_more": True, "next": cursors[request.url.params.get("after")]}

    route_ = api_mock.get("/organization/groups").mock(side_effect=at_most(5, page))

    with pytest.raises(ApiError, match="no new cursor"):
        _ = [item async for item in transport.paginate(route("/organization/groups"))]

    assert route_.call_count == 3


@pytest.mark.parametrize("answer", [[{"id": "x"}], {"data": {"id": "x"}, "has_more": False}])
async def test_a_page_that_is_not_a_list_object_is_an_api_error(
    transport: Transport, api_mock: respx.MockRouter, answer: Any
) -> None:
    api_mock.get("/organization/groups").respond(json=answer)

    with pytest.raises(ApiError, match="not a list object"):
        _ = [item async for item in transport.paginate(route("/organization/groups"))]


async def test_page_size_is_sent_as_limit(transport: Transport, api_mock: respx.MockRouter) -> None:
    route_ = api_mock.get("/organization/groups").respond(json={"data": [], "has_more": False, "next": None})

    _ = [item async for item in transport.paginate(route("/organization/groups"), page_size=7)]

    assert route_.calls.last.request.url.params["limit"] == "7"
