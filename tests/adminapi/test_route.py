"""`route()` quotes ids into paths; what is recorded about a request names the route template, not the id."""

from __future__ import annotations

import httpx
import pytest
import respx
from adminapi_support import MakeApi

from datacontrols.adminapi import AdminApi
from datacontrols.adminapi.transport import RequestRecord, route


@pytest.mark.parametrize(
    ("value", "quoted"),
    [
        ("proj_abc", "proj_abc"),
        ("a/b", "a%2Fb"),
        ("a b", "a%20b"),
        ("x?y#z", "x%3Fy%23z"),
        ("100%", "100%25"),
        ("é", "%C3%A9"),
        ("...", "..."),  # three dots are an ordinary segment
    ],
)
def test_route_quotes_each_parameter_as_one_segment(value: str, quoted: str) -> None:
    where = route("/organization/projects/{project_id}/archive", project_id=value)

    assert where.path == f"/organization/projects/{quoted}/archive"
    assert where.template == "/organization/projects/{project_id}/archive"


@pytest.mark.parametrize("value", ["", ".", ".."])
def test_route_refuses_ids_that_would_address_another_path(value: str) -> None:
    # "/organization/projects/../data_retention" would be normalised to the organization's endpoint.
    with pytest.raises(ValueError, match="not a usable id"):
        route("/organization/projects/{project_id}/data_retention", project_id=value)


async def test_a_quoted_id_reaches_the_server_as_one_segment(api: AdminApi, api_mock: respx.MockRouter) -> None:
    hit = api_mock.get(path__startswith="/organization/projects/").respond(
        json={"id": "a/b?c", "object": "organization.project", "created_at": 0}
    )

    project = await api.projects.retrieve("a/b?c")

    assert project.id == "a/b?c"
    assert hit.calls.last.request.url.raw_path == b"/v1/organization/projects/a%2Fb%3Fc"
    assert hit.calls.last.request.url.query == b""


async def test_a_dot_dot_id_is_refused_before_anything_is_sent(api: AdminApi, api_mock: respx.MockRouter) -> None:
    org = api_mock.post("/organization/data_retention")

    with pytest.raises(ValueError):
        await api.retention.update_project("..", "none")

    assert org.call_count == 0
    assert api.transport.requests == []


async def test_request_records_carry_the_template_not_the_id(make_api: MakeApi, api_mock: respx.MockRouter) -> None:
    seen: list[RequestRecord] = []
    api = make_api(on_request=seen.append)
    path = "/organization/projects/proj_secret_42"
    api_mock.get(path).mock(
        side_effect=[
            httpx.ConnectError("refused"),
            httpx.Response(503),
            httpx.Response(200, json={"id": "proj_secret_42", "object": "organization.project", "created_at": 0}),
        ]
    )

    await api.projects.retrieve("proj_secret_42")

    assert seen == api.transport.requests
    assert [(r.method, r.template, r.status, r.attempt) for r in seen] == [
        ("GET", "/organization/projects/{project_id}", None, 1),
        ("GET", "/organization/projects/{project_id}", 503, 2),
        ("GET", "/organization/projects/{project_id}", 200, 3),
    ]
    assert "proj_secret_42" not in repr(seen)
    assert all(r.duration >= 0 for r in seen)
