"""Error answers become typed exceptions carrying status, type, code, message and the request id."""

from __future__ import annotations

import httpx
import pytest
import respx
from adminapi_support import MakeApi

from datacontrols.adminapi import AdminApi, RetryPolicy
from datacontrols.errors import (
    ApiError,
    AuthError,
    BadRequest,
    NotFound,
    RateLimited,
    TransientApiError,
)

PATH = "/organization/projects/proj_abc"
MISSING_SCOPES = (
    "You have insufficient permissions for this operation. Missing scopes: api.organization.projects.read. "
    "Check that you have the correct role in your organization."
)


@pytest.fixture
def once(make_api: MakeApi, api_mock: respx.MockRouter) -> AdminApi:
    """A client that does not retry, so one answer is one error."""
    return make_api(retry=RetryPolicy(max_retries=0))


async def raised_by(api: AdminApi, api_mock: respx.MockRouter, answer: httpx.Response) -> ApiError:
    api_mock.get(PATH).mock(return_value=answer)
    with pytest.raises(ApiError) as raised:
        await api.projects.retrieve("proj_abc")
    return raised.value


async def test_an_error_envelope_object_fills_every_field(once: AdminApi, api_mock: respx.MockRouter) -> None:
    error = await raised_by(
        once,
        api_mock,
        httpx.Response(
            400,
            json={
                "error": {
                    "message": "Invalid residency",
                    "type": "invalid_request_error",
                    "param": "residency",
                    "code": "invalid_value",
                }
            },
            headers={"x-request-id": "req_123"},
        ),
    )

    assert type(error) is BadRequest
    assert (error.status, error.type, error.code, error.api_message, error.request_id) == (
        400,
        "invalid_request_error",
        "invalid_value",
        "Invalid residency",
        "req_123",
    )
    assert str(error) == (
        "GET /organization/projects/{project_id} HTTP 400: Invalid residency "
        "(type=invalid_request_error, code=invalid_value, request id req_123)"
    )


async def test_a_bare_string_envelope_is_the_message(once: AdminApi, api_mock: respx.MockRouter) -> None:
    error = await raised_by(
        once,
        api_mock,
        httpx.Response(403, json={"error": MISSING_SCOPES}, headers={"x-request-id": "req_403"}),
    )

    assert type(error) is AuthError
    assert error.api_message == MISSING_SCOPES
    assert (error.status, error.type, error.code, error.request_id) == (403, None, None, "req_403")
    assert "Missing scopes: api.organization.projects.read" in str(error)


async def test_401_says_to_check_the_admin_key(once: AdminApi, api_mock: respx.MockRouter) -> None:
    error = await raised_by(
        once,
        api_mock,
        httpx.Response(401, json={"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}}),
    )

    assert type(error) is AuthError
    assert "admin key" in str(error)
    assert "OPENAI_ADMIN_KEY" in str(error)


async def test_403_says_to_check_scopes_and_entitlement(once: AdminApi, api_mock: respx.MockRouter) -> None:
    error = await raised_by(once, api_mock, httpx.Response(403, json={"error": MISSING_SCOPES}))

    assert "scopes" in error.hint()
    assert "entitled" in error.hint()
    assert error.hint() in str(error)


@pytest.mark.parametrize(
    ("body", "content_type", "expected_message"),
    [
        (b"<html><body>502 Bad Gateway</body></html>\n<p>nginx</p>", "text/html", "<html><body>502 Bad Gateway"),
        (b"upstream connect error", "text/plain", "upstream connect error"),
        (b"\n  \n", "text/plain", "Bad Gateway"),  # only whitespace: the reason phrase, no crash
        (b"", "text/plain", "Bad Gateway"),
        (b'{"detail": "gateway"}', "application/json", '{"detail": "gateway"}'),  # JSON without an envelope
    ],
    ids=["html", "text", "whitespace", "empty", "json-without-envelope"],
)
async def test_a_body_without_an_envelope_still_gives_a_typed_error(
    once: AdminApi, api_mock: respx.MockRouter, body: bytes, content_type: str, expected_message: str
) -> None:
    error = await raised_by(
        once,
        api_mock,
        httpx.Response(502, content=body, headers={"content-type": content_type, "x-request-id": "req_502"}),
    )

    assert type(error) is TransientApiError
    assert error.status == 502
    assert error.request_id == "req_502"
    assert error.api_message.startswith(expected_message)
    assert "\n" not in str(error)


async def test_a_long_non_json_body_is_cut_to_one_short_line(once: AdminApi, api_mock: respx.MockRouter) -> None:
    error = await raised_by(once, api_mock, httpx.Response(500, content=b"x" * 5000))

    assert len(error.api_message) == 200


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (400, BadRequest),
        (401, AuthError),
        (403, AuthError),
        (404, NotFound),
        (408, TransientApiError),
        (409, BadRequest),
        (422, BadRequest),
        (429, RateLimited),
        (500, TransientApiError),
        (503, TransientApiError),
    ],
)
async def test_each_status_maps_to_its_class(
    once: AdminApi, api_mock: respx.MockRouter, status: int, expected: type[ApiError]
) -> None:
    error = await raised_by(once, api_mock, httpx.Response(status, json={"error": {"message": "m"}}))

    assert type(error) is expected
    assert error.status == status


async def test_a_redirect_is_an_error_not_an_empty_success(once: AdminApi, api_mock: respx.MockRouter) -> None:
    # A redirect is never expected from the Admin API; following it could send the key elsewhere,
    # and reading it as a success would hand an empty object to the model.
    error = await raised_by(once, api_mock, httpx.Response(302, headers={"location": "https://elsewhere.test/"}))

    assert error.status == 302
    assert api_mock.calls.call_count == 1


async def test_a_success_that_is_not_json_is_an_api_error(once: AdminApi, api_mock: respx.MockRouter) -> None:
    error = await raised_by(once, api_mock, httpx.Response(200, content=b"<html>maintenance</html>"))

    assert error.status == 200
    assert "not JSON" in str(error)


async def test_errors_name_the_route_template_not_the_id(once: AdminApi, api_mock: respx.MockRouter) -> None:
    error = await raised_by(once, api_mock, httpx.Response(404, json={"error": {"message": "No such project"}}))

    assert (error.method, error.path) == ("GET", "/organization/projects/{project_id}")
