"""The rate-limit and spend families send exactly the requests the spec describes (respx)."""

from __future__ import annotations

import httpx
import pytest
import respx
from adminapi_support import body_of

from datacontrols.adminapi import AdminApi
from datacontrols.errors import BadRequest

RL = "/organization/projects/proj_abc/rate_limits"


def rate_row(row_id: str, model: str, **limits: int) -> dict[str, object]:
    return {"object": "project.rate_limit", "id": row_id, "model": model, **limits}


def alert_json(alert_id: str, cents: int, recipients: list[str], prefix: str | None = None, scope: str = "project"):  # type: ignore[no-untyped-def]
    return {
        "id": alert_id,
        "object": f"{scope}.spend_alert",
        "threshold_amount": cents,
        "currency": "USD",
        "interval": "month",
        "notification_channel": {"type": "email", "recipients": recipients, "subject_prefix": prefix},
    }


def limit_json(cents: int, scope: str = "project") -> dict[str, object]:
    return {
        "object": f"{scope}.spend_limit",
        "threshold_amount": cents,
        "currency": "USD",
        "interval": "month",
        "enforcement": {"status": "inactive"},
    }


def page(data: list[dict[str, object]], has_more: bool) -> dict[str, object]:
    return {
        "object": "list",
        "data": data,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
        "has_more": has_more,
    }


# --- rate limits -----------------------------------------------------------------------------------------


async def test_rate_limits_are_listed_across_pages(api: AdminApi, api_mock: respx.MockRouter) -> None:
    first = [rate_row("rl_1", "gpt-4.1", max_requests_per_1_minute=10, max_tokens_per_1_minute=20)]
    second = [
        rate_row(
            "rl_2", "gpt-image-1", max_requests_per_1_minute=1, max_tokens_per_1_minute=2, max_images_per_1_minute=3
        )
    ]
    route = api_mock.get(RL).mock(
        side_effect=[httpx.Response(200, json=page(first, True)), httpx.Response(200, json=page(second, False))]
    )

    rows = await api.rate_limits.list("proj_abc")

    assert [(r.id, r.model) for r in rows] == [("rl_1", "gpt-4.1"), ("rl_2", "gpt-image-1")]
    assert rows[0].limits() == {"max_requests_per_1_minute": 10, "max_tokens_per_1_minute": 20}
    assert rows[1].limits()["max_images_per_1_minute"] == 3
    assert route.calls[1].request.url.params["after"] == "rl_1"


async def test_a_rate_limit_update_sends_only_the_named_fields(api: AdminApi, api_mock: respx.MockRouter) -> None:
    post = api_mock.post(f"{RL}/rl_1").respond(
        json=rate_row("rl_1", "gpt-4.1", max_requests_per_1_minute=500, max_tokens_per_1_minute=20)
    )

    updated = await api.rate_limits.update("proj_abc", "rl_1", {"max_requests_per_1_minute": 500})

    assert body_of(post.calls.last) == {"max_requests_per_1_minute": 500}
    assert updated.max_requests_per_1_minute == 500
    with pytest.raises(ValueError, match="max_rpm"):
        await api.rate_limits.update("proj_abc", "rl_1", {"max_rpm": 1})


async def test_a_rate_limit_update_of_unknown_outcome_is_confirmed_by_rereading(
    api: AdminApi, api_mock: respx.MockRouter
) -> None:
    post = api_mock.post(f"{RL}/rl_1").respond(500, json={"error": {"message": "boom", "type": "server_error"}})
    api_mock.get(RL).respond(
        json=page([rate_row("rl_1", "gpt-4.1", max_requests_per_1_minute=500, max_tokens_per_1_minute=20)], False)
    )

    updated = await api.rate_limits.update("proj_abc", "rl_1", {"max_requests_per_1_minute": 500})

    assert updated.id == "rl_1" and post.call_count == 1, "the re-read showed it took effect: not sent again"


async def test_a_refused_raise_is_a_bad_request(api: AdminApi, api_mock: respx.MockRouter) -> None:
    api_mock.post(f"{RL}/rl_1").respond(
        400,
        json={
            "error": {
                "message": "exceeds the organization's limit",
                "type": "invalid_request_error",
                "param": None,
                "code": None,
            }
        },
    )
    with pytest.raises(BadRequest, match="exceeds the organization's limit"):
        await api.rate_limits.update("proj_abc", "rl_1", {"max_requests_per_1_minute": 10**9})


# --- spend limits ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("project_id", "path", "scope"),
    [
        (None, "/organization/spend_limit", "organization"),
        ("proj_abc", "/organization/projects/proj_abc/spend_limit", "project"),
    ],
)
async def test_spend_limit_get_set_delete(
    api: AdminApi, api_mock: respx.MockRouter, project_id: str | None, path: str, scope: str
) -> None:
    get = api_mock.get(path).mock(
        side_effect=[
            httpx.Response(404, json={"error": {"message": "none", "type": "invalid_request_error"}}),
            httpx.Response(200, json=limit_json(1999, scope)),
        ]
    )
    post = api_mock.post(path).respond(json=limit_json(1999, scope))
    delete = api_mock.delete(path).mock(
        side_effect=[
            httpx.Response(200, json={"object": f"{scope}.spend_limit.deleted", "deleted": True}),
            httpx.Response(404, json={"error": {"message": "none", "type": "invalid_request_error"}}),
        ]
    )

    assert await api.spend.get_limit(project_id=project_id) is None, "404 means no limit is set"
    created = await api.spend.set_limit(1999, project_id=project_id)
    observed = await api.spend.get_limit(project_id=project_id)
    await api.spend.delete_limit(project_id=project_id)
    await api.spend.delete_limit(project_id=project_id)  # already gone: done

    assert body_of(post.calls.last) == {"threshold_amount": 1999, "currency": "USD", "interval": "month"}
    assert created.threshold_amount == 1999 and created.object == f"{scope}.spend_limit"
    assert observed is not None and observed.enforcement is not None and observed.enforcement.status == "inactive"
    assert get.call_count == 2 and delete.call_count == 2


async def test_spend_limit_reads_open_enums_leniently(api: AdminApi, api_mock: respx.MockRouter) -> None:
    api_mock.get("/organization/spend_limit").respond(
        json={**limit_json(5, "organization"), "interval": "week", "enforcement": {"status": "throttling"}}
    )
    observed = await api.spend.get_limit()
    assert observed is not None and (observed.interval, observed.enforcement.status) == ("week", "throttling")  # type: ignore[union-attr]


# --- spend alerts ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("project_id", "base", "scope"),
    [
        (None, "/organization/spend_alerts", "organization"),
        ("proj_abc", "/organization/projects/proj_abc/spend_alerts", "project"),
    ],
)
async def test_spend_alerts_list_create_update_delete(
    api: AdminApi, api_mock: respx.MockRouter, project_id: str | None, base: str, scope: str
) -> None:
    listing = api_mock.get(base).mock(
        side_effect=[
            httpx.Response(200, json=page([alert_json("a1", 100, ["x@example.com"], scope=scope)], True)),
            httpx.Response(200, json=page([alert_json("a2", 200, ["y@example.com"], "[p]", scope)], False)),
        ]
    )
    create = api_mock.post(base).respond(json=alert_json("a3", 25000, ["f@example.com"], scope=scope))
    update = api_mock.post(f"{base}/a1").respond(json=alert_json("a1", 100, ["z@example.com"], "[q]", scope))
    delete = api_mock.delete(f"{base}/a2").respond(
        json={"id": "a2", "object": f"{scope}.spend_alert.deleted", "deleted": True}
    )

    alerts = await api.spend.list_alerts(project_id=project_id)
    created = await api.spend.create_alert(25000, ["f@example.com"], project_id=project_id)
    updated = await api.spend.update_alert("a1", 100, ["z@example.com"], subject_prefix="[q]", project_id=project_id)
    await api.spend.delete_alert("a2", project_id=project_id)

    assert [(a.id, a.threshold_amount, a.notification_channel.subject_prefix) for a in alerts] == [
        ("a1", 100, None),
        ("a2", 200, "[p]"),
    ]
    assert listing.calls[1].request.url.params["after"] == "a1"
    assert body_of(create.calls.last) == {
        "threshold_amount": 25000,
        "currency": "USD",
        "interval": "month",
        "notification_channel": {"type": "email", "recipients": ["f@example.com"], "subject_prefix": None},
    }
    assert body_of(update.calls.last)["notification_channel"] == {
        "type": "email",
        "recipients": ["z@example.com"],
        "subject_prefix": "[q]",
    }, "an update is a full replace: every field is sent"
    assert (created.id, updated.notification_channel.recipients) == ("a3", ["z@example.com"])
    assert delete.call_count == 1


async def test_an_alert_create_of_unknown_outcome_is_not_sent_twice(api: AdminApi, api_mock: respx.MockRouter) -> None:
    base = "/organization/spend_alerts"
    create = api_mock.post(base).respond(502, json={"error": {"message": "bad gateway", "type": "server_error"}})
    api_mock.get(base).respond(json=page([alert_json("made", 500, ["f@example.com"], scope="organization")], False))

    created = await api.spend.create_alert(500, ["f@example.com"])

    assert created.id == "made" and create.call_count == 1


async def test_deleting_an_absent_alert_counts_as_done(api: AdminApi, api_mock: respx.MockRouter) -> None:
    api_mock.delete("/organization/spend_alerts/gone").respond(
        404, json={"error": {"message": "no such alert", "type": "invalid_request_error"}}
    )
    await api.spend.delete_alert("gone")
    api_mock.get("/organization/spend_alerts/gone").respond(
        404, json={"error": {"message": "no such alert", "type": "invalid_request_error"}}
    )
    assert await api.spend.get_alert("gone") is None
