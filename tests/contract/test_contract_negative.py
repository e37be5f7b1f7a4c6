"""The validator can fail: wrong responses and wrong requests are caught, and right ones are not.

A contract suite that passes because its checks never bite is worse than none. Each row sends one exchange
through `ValidatingTransport` in front of a canned server and states the violation expected (or none).
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from contract_support import ADMIN_KEY, BASE_URL, Spec, ValidatingTransport, require_spec

from datacontrols.adminapi import AdminApi
from datacontrols.emulator import Emulator

SPEC = require_spec()

PROJECT = {
    "id": "proj_abc",
    "object": "organization.project",
    "name": "Project example",
    "created_at": 1711471533,
    "archived_at": None,
    "status": "active",
    "external_key_id": None,
    "residency": "GLOBAL",
}
ENVELOPE = {"error": {"message": "No such project.", "type": "invalid_request_error", "param": None, "code": None}}
ONE = "/organization/projects/proj_abc"


class Canned(httpx.MockTransport):
    """A server that answers every request with one fixed response, and counts what reached it."""

    def __init__(self, status: int, body: Any, content_type: str = "application/json") -> None:
        self.calls = 0
        content = body if isinstance(body, bytes) else json.dumps(body).encode()

        def answer(request: httpx.Request) -> httpx.Response:
            self.calls += 1
            return httpx.Response(status, content=content, headers={"content-type": content_type})

        super().__init__(answer)


async def exchange(
    transport: ValidatingTransport, method: str, path: str, *, body: Any = None, params: Any = None
) -> None:
    async with httpx.AsyncClient(
        transport=transport, base_url=BASE_URL, headers={"Authorization": f"Bearer {ADMIN_KEY}"}
    ) as client:
        await client.request(method, path, json=body, params=params)


RESPONSES = {
    # name: (method, path, status, body, content type, expected fragment of the violation or None)
    "valid project": ("GET", ONE, 200, PROJECT, "application/json", None),
    "project without id": (
        "GET",
        ONE,
        200,
        {k: v for k, v in PROJECT.items() if k != "id"},
        "application/json",
        "'id' is a required property",
    ),
    "project with an undocumented field": (
        "GET",
        ONE,
        200,
        {**PROJECT, "colour": "red"},
        "application/json",
        "colour",
    ),
    "project residency outside the enum": (
        "GET",
        ONE,
        200,
        {**PROJECT, "residency": "MARS_STORAGE"},
        "application/json",
        "MARS_STORAGE",
    ),
    "list without has_more": (
        "GET",
        "/organization/projects",
        200,
        {"object": "list", "data": [PROJECT], "first_id": "proj_abc", "last_id": "proj_abc"},
        "application/json",
        "'has_more' is a required property",
    ),
    "retention type not in the spec": (
        "GET",
        "/organization/data_retention",
        200,
        {"object": "organization.data_retention", "type": "standard"},
        "application/json",
        "standard",
    ),
    "documented success as text": ("GET", ONE, 200, b"ok", "text/plain", "text/plain"),
    "valid undocumented 404": ("GET", ONE, 404, ENVELOPE, "application/json", None),
    "404 envelope without param and code": (
        "GET",
        ONE,
        404,
        {"error": {"message": "No such project.", "type": "invalid_request_error"}},
        "application/json",
        "'param' is a required property",
    ),
    "404 envelope with a numeric code": (
        "GET",
        ONE,
        404,
        {"error": {**ENVELOPE["error"], "code": 404}},
        "application/json",
        "ErrorResponse: 404 is not valid under any of the given schemas at /error/code",
    ),
    "404 as html": ("GET", ONE, 404, b"<h1>Not Found</h1>", "text/html", "not application/json"),
    "undocumented success status": ("POST", "/organization/projects", 201, PROJECT, "application/json", "201"),
    "documented 400 without the envelope": (
        "POST",
        ONE,
        400,
        {"message": "The default project cannot be modified."},
        "application/json",
        "'error' is a required property",
    ),
}


@pytest.mark.parametrize("name", RESPONSES)
async def test_response_contract(name: str) -> None:
    method, path, status, body, content_type, expected = RESPONSES[name]
    server = Canned(status, body, content_type)
    checked = ValidatingTransport(server, SPEC, raise_on_violation=False)
    request_body = {"name": "x"} if method == "POST" else None
    await exchange(checked, method, path, body=request_body)
    assert server.calls == 1 and len(checked.exchanges) == 1
    if expected is None:
        assert checked.violations == []
        return
    assert [v.side for v in checked.violations] == ["response"], checked.violations
    violation = checked.violations[0]
    assert violation.status == status
    assert expected in violation.message, violation.message


REQUESTS = {
    # name: (method, path, body, query, expected fragment of the violation or None)
    "valid create": ("POST", "/organization/projects", {"name": "x", "residency": "EU_STORAGE_PROCESSING"}, None, None),
    "create with an unknown field": ("POST", "/organization/projects", {"name": "x", "colour": "red"}, None, "colour"),
    "create without a name": ("POST", "/organization/projects", {"residency": "GLOBAL"}, None, "'name' is a required"),
    "create in an unknown residency": (
        "POST",
        "/organization/projects",
        {"name": "x", "residency": "MARS"},
        None,
        "MARS",
    ),
    "modify with residency": ("POST", ONE, {"residency": "GLOBAL"}, None, "residency"),
    "modify name of the wrong type": ("POST", ONE, {"name": 5}, None, "5"),
    "retention type not in the spec": (
        "POST",
        "/organization/data_retention",
        {"retention_type": "standard"},
        None,
        "standard",
    ),
    "org retention only a project may have": (
        "POST",
        "/organization/data_retention",
        {"retention_type": "organization_default"},
        None,
        "organization_default",
    ),
    "model permissions without model_ids": (
        "POST",
        f"{ONE}/model_permissions",
        {"mode": "allow_list"},
        None,
        "'model_ids' is a required",
    ),
    "hosted tool that does not exist": (
        "POST",
        f"{ONE}/hosted_tool_permissions",
        {"browser": {"enabled": True}},
        None,
        "browser",
    ),
    "valid list query": ("GET", "/organization/projects", None, {"limit": 100, "include_archived": "true"}, None),
    "list with an undeclared query parameter": (
        "GET",
        "/organization/projects",
        None,
        {"order": "asc"},
        "query parameters the operation does not declare: ['order']",
    ),
    "list with a limit that is not a number": ("GET", "/organization/projects", None, {"limit": "many"}, "many"),
    "archive with a body": ("POST", f"{ONE}/archive", {"now": True}, None, "takes none"),
    "an operation the spec does not have": (
        "DELETE",
        ONE,
        None,
        None,
        "no documented operation",
    ),
}


@pytest.mark.parametrize("name", REQUESTS)
async def test_request_contract(name: str) -> None:
    method, path, body, query, expected = REQUESTS[name]
    reply = ENVELOPE if method == "DELETE" else PROJECT if path == ONE or path.endswith("projects") else {}
    checked = ValidatingTransport(Canned(200, reply), SPEC, raise_on_violation=False)
    await exchange(checked, method, path, body=body, params=query)
    requests = [v for v in checked.violations if v.side == "request"]
    if expected is None:
        assert requests == []
        return
    assert len(requests) == 1, checked.violations
    assert requests[0].status is None
    assert expected in requests[0].message, requests[0].message


async def test_a_violation_fails_the_test_at_once_naming_operation_status_and_message() -> None:
    server = Canned(200, {k: v for k, v in PROJECT.items() if k != "id"})
    checked = ValidatingTransport(server, SPEC)
    with pytest.raises(AssertionError) as caught:
        await exchange(checked, "GET", ONE)
    message = str(caught.value)
    assert "GET /organization/projects/{project_id} (retrieve-project) -> 200" in message
    assert "'id' is a required property" in message


async def test_a_bad_request_is_stopped_before_it_reaches_the_server() -> None:
    server = Canned(200, PROJECT)
    checked = ValidatingTransport(server, SPEC)
    with pytest.raises(AssertionError, match=r"request POST /organization/projects \(create-project\): .*colour"):
        await exchange(checked, "POST", "/organization/projects", body={"name": "x", "colour": "red"})
    assert server.calls == 0
    assert checked.exchanges == []


async def test_the_real_client_fails_against_a_server_that_breaks_the_contract() -> None:
    """End to end: the typed client over a server whose projects have no `id` is stopped by the validator."""
    broken = {"object": "list", "data": [{k: v for k, v in PROJECT.items() if k != "id"}], "has_more": False}
    checked = ValidatingTransport(Canned(200, broken), SPEC)
    async with AdminApi.connect(admin_key=ADMIN_KEY, base_url=BASE_URL, http_transport=checked) as api:
        with pytest.raises(AssertionError, match=r"list-projects\) -> 200: .*'id' is a required property"):
            await api.projects.list()


async def test_violation_messages_never_carry_the_admin_key(spec: Spec) -> None:
    """openapi-core quotes offending values; a secret among them is redacted."""
    leaked = {**PROJECT, "name": ADMIN_KEY, "created_at": "yesterday"}
    checked = ValidatingTransport(Canned(200, leaked), spec, raise_on_violation=False)
    await exchange(checked, "GET", ONE)
    assert checked.violations
    assert all(ADMIN_KEY not in str(v) for v in checked.violations)


async def test_the_emulator_with_a_real_client_has_no_violations(
    emulator: Emulator, checked: ValidatingTransport
) -> None:
    """The control for the rows above: the same checks pass on the emulator's real traffic."""
    async with AdminApi.connect(admin_key=ADMIN_KEY, base_url=BASE_URL, http_transport=checked) as api:
        created = await api.projects.create("Control", residency="EU_STORAGE_PROCESSING")
        await api.projects.retrieve(created.id)
    assert checked.violations == [] and len(checked.exchanges) == 2


async def test_a_request_without_the_admin_key_breaks_the_contract() -> None:
    """Every admin operation requires `AdminApiKeyAuth` (HTTP bearer); openapi-core checks the scheme."""
    checked = ValidatingTransport(Canned(401, ENVELOPE), SPEC, raise_on_violation=False)
    async with httpx.AsyncClient(
        transport=checked, base_url=BASE_URL, headers={"Authorization": "Basic abc"}
    ) as client:
        await client.get("/organization/projects")
    assert [v.side for v in checked.violations] == ["request"]
    assert "AdminApiKeyAuth" in checked.violations[0].message
