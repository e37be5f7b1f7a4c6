"""The admin key appears in no log line, no exception text and no repr, even when the server echoes it back.

The requests go to a loopback server, not respx, so httpx and httpcore run for real and emit their own
DEBUG logging (connection, headers sent, response headers) for us to search.
"""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
import structlog
from adminapi_support import ADMIN_KEY, LoopbackServer, MakeApi, Reply

from datacontrols.adminapi import AdminApi, RetryPolicy
from datacontrols.adminapi.projects import Project
from datacontrols.errors import ApiError

Start = Callable[..., Awaitable[LoopbackServer]]
ECHO = f"Bearer {ADMIN_KEY}"


def leaks(text: str) -> bool:
    """The whole key, or its random part alone (a prefix-stripping bug would leak that)."""
    return ADMIN_KEY in text or ADMIN_KEY.removeprefix("sk-admin-") in text


def exception_text(exc: BaseException) -> str:
    """Everything a traceback printer or an error reporter could show, causes and contexts included."""
    parts = ["".join(traceback.format_exception(exc)), repr(exc), str(exc), repr(exc.args)]
    if isinstance(exc, ApiError):
        parts += [repr(vars(exc))]
    return "\n".join(parts)


async def handler(method: str, target: str, body: bytes) -> Reply:
    """The server echoes the key back wherever an error body can carry it."""
    path = target.split("?")[0].removeprefix("/v1")
    if path == "/organization/data_retention" and method == "GET":
        return Reply(200, {"object": "organization.data_retention", "type": "zero_data_retention", "echo": ECHO})
    if path.endswith("/p401"):
        return Reply(401, {"error": {"message": f"Incorrect API key provided: {ADMIN_KEY}.", "type": "auth"}})
    if path.endswith("/p403"):
        return Reply(403, {"error": f"Missing scopes: api.read. You sent {ECHO}"})
    if path.endswith("/p500"):
        return Reply(500, f"internal error while handling Authorization: {ECHO}\n".encode())
    if path.endswith("/p429"):
        error = {"message": ADMIN_KEY, "type": ADMIN_KEY, "code": ADMIN_KEY, "param": None}
        return Reply(429, {"error": error}, {"retry-after": "0", "x-request-id": ADMIN_KEY})
    if method == "POST":
        return Reply(502, {"error": {"message": f"upstream saw {ECHO}", "type": "server_error"}})
    return Reply(404, {"error": {"message": f"not found for {ECHO}"}})


Scenario = Callable[[AdminApi], Awaitable[Any]]
SCENARIOS: dict[str, Scenario] = {
    "success-echoing-the-key": lambda api: api.retention.get_organization(),
    "401": lambda api: api.projects.retrieve("p401"),
    "403-bare-string": lambda api: api.projects.retrieve("p403"),
    "500-text-after-retries": lambda api: api.projects.retrieve("p500"),
    "429-key-in-every-field": lambda api: api.projects.retrieve("p429"),
    "404": lambda api: api.projects.retrieve("p404"),
    "write-502-then-reread": lambda api: api.retention.update_organization("modified_abuse_monitoring"),
}


@pytest.fixture
def captured(caplog: pytest.LogCaptureFixture) -> Iterator[list[Any]]:
    """Capture structlog events and stdlib records (root, httpx, httpcore) at DEBUG."""
    for name in (None, "httpx", "httpcore"):
        caplog.set_level(logging.DEBUG, logger=name)
    with structlog.testing.capture_logs() as events:
        yield events


def everything_logged(caplog: pytest.LogCaptureFixture, events: list[Any], capsys: pytest.CaptureFixture[str]) -> str:
    records = [
        f"{r.name} {r.getMessage()} {r.args!r} {r.exc_text or ''} {getattr(r, '__dict__', '')!r}"
        for r in caplog.records
    ]
    out = capsys.readouterr()
    return "\n".join([*records, json.dumps(events, default=repr), out.out, out.err])


@pytest.mark.parametrize("scenario", SCENARIOS.values(), ids=SCENARIOS.keys())
async def test_the_key_leaks_into_no_log_and_no_exception(
    make_api: MakeApi,
    loopback: Start,
    captured: list[Any],
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    scenario: Scenario,
) -> None:
    server = await loopback(handler)
    api = make_api(base_url=server.base_url, retry=RetryPolicy(max_retries=2))

    try:
        result = await scenario(api)
    except ApiError as exc:
        assert not leaks(exception_text(exc))
    else:
        assert not leaks(repr(result)) and not leaks(str(result))

    # The nets were live: the key really was on the wire, and httpcore logged at DEBUG.
    assert server.requests[0].headers["authorization"] == ECHO
    assert any(r.name.startswith("httpcore") for r in caplog.records)
    assert not leaks(everything_logged(caplog, captured, capsys))


async def test_retries_are_logged_without_the_key(
    make_api: MakeApi,
    loopback: Start,
    captured: list[Any],
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    server = await loopback(handler)
    api = make_api(base_url=server.base_url, retry=RetryPolicy(max_retries=2))

    with pytest.raises(ApiError):
        await api.projects.retrieve("p500")

    assert [e["event"] for e in captured] == ["api_request_retried", "api_request_retried"]
    assert not leaks(everything_logged(caplog, captured, capsys))


async def test_a_refused_connection_leaks_nothing(
    make_api: MakeApi,
    unused_port: int,
    captured: list[Any],
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    api = make_api(base_url=f"http://127.0.0.1:{unused_port}/v1", retry=RetryPolicy(max_retries=1))

    with pytest.raises(ApiError) as raised:
        await api.retention.update_organization("zero_data_retention")

    assert not leaks(exception_text(raised.value))
    assert not leaks(everything_logged(caplog, captured, capsys))


async def test_no_repr_shows_the_key(make_api: MakeApi, loopback: Start) -> None:
    server = await loopback(handler)
    api = make_api(base_url=server.base_url)
    observed = await api.retention.get_organization()  # its extra `echo` field carries the key
    created = Project(id="proj_1", created_at=0, value=ADMIN_KEY, api_key={"value": "sk-proj-" + "x" * 40})

    texts = [
        repr(api),
        repr(api.transport),
        repr(vars(api.transport)),
        repr(api.transport.requests),
        repr(observed),
        str(observed),
        repr(created),
        str(created),
    ]

    assert observed.model_extra == {"echo": ECHO}  # the value is kept for code that needs it...
    assert not any(leaks(text) for text in texts)  # ...but never shown
    assert "sk-proj-" not in repr(created)
