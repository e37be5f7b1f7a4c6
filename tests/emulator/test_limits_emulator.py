"""The emulator's rate limits, spend limits and spend alerts, driven through the real client.

Every answer is checked against the spec by the `api`/`raw` fixtures; the requests the client sends are checked
too (`checked_api`), so each test is a contract test of both sides for these endpoints.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from emulator_support import ADMIN_KEY, BASE_URL, Spec, check_envelope

from datacontrols.adminapi import AdminApi
from datacontrols.emulator import Emulator
from datacontrols.emulator.routes.rate_limits import rate_limit_id
from datacontrols.emulator.state import default_model_rate_limits
from datacontrols.errors import BadRequest, NotFound
from testsupport.clock import FakeClock
from testsupport.spec import HttpxOpenAPIRequest

CATALOG = default_model_rate_limits()


class RequestChecking(httpx.AsyncBaseTransport):
    """Validates each request against the spec (path, query, body), then each answer as `Spec.check` does."""

    def __init__(self, inner: httpx.AsyncBaseTransport, spec: Spec) -> None:
        self._inner = inner
        self._spec = spec
        self.requests = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self._spec.openapi.validate_request(HttpxOpenAPIRequest(request))
        self.requests += 1
        response = await self._inner.handle_async_request(request)
        await response.aread()
        self._spec.check(request, response)
        return response


@pytest.fixture
async def checked_api(emulator: Emulator, clock: FakeClock, spec: Spec | None) -> AsyncIterator[AdminApi]:
    if spec is None:  # these tests check requests against the spec: without it they skip, as the README says
        pytest.skip("the OpenAPI spec is not available (OPENAI_ADMIN_SPEC or ../shared/openai-admin-api/)")
    client = AdminApi.connect(
        admin_key=ADMIN_KEY,
        base_url=BASE_URL,
        http_transport=RequestChecking(emulator.http_transport(), spec),
        sleep=clock.sleep,
        clock=clock,
    )
    yield client
    await client.aclose()


# --- rate limits -----------------------------------------------------------------------------------------


async def test_every_project_has_one_row_per_model_with_opaque_ids(checked_api: AdminApi) -> None:
    project = await checked_api.projects.create("Rows appear at creation")
    rows = await checked_api.rate_limits.list(project.id)
    assert [row.model for row in rows] == list(CATALOG)
    assert {row.model: row.limits() for row in rows} == CATALOG, "optional limits only where the model has them"
    ids = [row.id for row in rows]
    assert len(set(ids)) == len(ids) and not any(row.model in row.id for row in rows), "ids are not built from names"
    other = await checked_api.projects.create("Another")
    assert not set(ids) & {row.id for row in await checked_api.rate_limits.list(other.id)}


async def test_a_rate_limit_update_is_partial_and_audited(checked_api: AdminApi, emulator: Emulator) -> None:
    project = await checked_api.projects.create("Partial")
    gpt = next(row for row in await checked_api.rate_limits.list(project.id) if row.model == "gpt-4.1")

    updated = await checked_api.rate_limits.update(project.id, gpt.id, {"max_requests_per_1_minute": 500})

    assert updated.limits() == {**CATALOG["gpt-4.1"], "max_requests_per_1_minute": 500}
    again = next(row for row in await checked_api.rate_limits.list(project.id) if row.id == gpt.id)
    assert again == updated
    event = emulator.events[-1]
    assert (event.type, event.project_id, event.details) == (
        "rate_limit.updated",
        project.id,
        {"id": gpt.id, "changes_requested": {"max_requests_per_1_minute": 500}},
    )
    # Raising back up to the organization's limit is allowed; the project's row can move both ways below it.
    ceiling = CATALOG["gpt-4.1"]["max_requests_per_1_minute"]
    restored = await checked_api.rate_limits.update(project.id, gpt.id, {"max_requests_per_1_minute": ceiling})
    assert restored.max_requests_per_1_minute == ceiling


@pytest.mark.parametrize(
    ("model", "body", "param", "message"),
    [
        (
            "gpt-4.1",
            {"max_requests_per_1_minute": 10_001},
            "max_requests_per_1_minute",
            "organization's limit of 10000",
        ),
        ("gpt-4.1", {"max_images_per_1_minute": 5}, "max_images_per_1_minute", "no such rate limit"),
        ("gpt-4.1", {"max_tokens_per_1_minute": 0}, "max_tokens_per_1_minute", "at least 1"),
        ("gpt-4.1", {"max_tokens_per_1_minute": "5"}, "max_tokens_per_1_minute", "Invalid type"),
        ("gpt-4.1", {"max_rpm": 5}, "max_rpm", "Unrecognized request argument"),
        # one refused field refuses the whole update: the valid one is not applied either
        ("o3", {"max_requests_per_1_minute": 1, "max_tokens_per_1_minute": 10**12}, "max_tokens_per_1_minute", "limit"),
    ],
)
async def test_rate_limit_updates_are_refused_whole(
    raw: httpx.AsyncClient, emulator: Emulator, model: str, body: dict[str, Any], param: str, message: str
) -> None:
    project_id = next(iter(emulator.state.projects))
    response = await raw.post(
        f"/organization/projects/{project_id}/rate_limits/{rate_limit_id(project_id, model)}", json=body
    )
    assert response.status_code == 400
    error = check_envelope(response.json())
    assert error["param"] == param and message in error["message"]
    assert emulator.state.projects[project_id].rate_limits == {} and emulator.events == []


async def test_the_update_is_served_in_the_audit_log_for_its_row(
    checked_api: AdminApi, raw: httpx.AsyncClient, emulator: Emulator
) -> None:
    project_id = next(iter(emulator.state.projects))
    row = (await checked_api.rate_limits.list(project_id))[0]
    await checked_api.rate_limits.update(project_id, row.id, {"max_tokens_per_1_minute": 1000})
    response = await raw.get(
        "/organization/audit_logs", params={"event_types[]": "rate_limit.updated", "resource_ids[]": row.id}
    )
    (event,) = response.json()["data"]  # the `raw` fixture validated it against the spec's AuditLog
    assert event["rate_limit.updated"] == {"id": row.id, "changes_requested": {"max_tokens_per_1_minute": 1000}}


async def test_rate_limit_ids_must_come_from_the_list(checked_api: AdminApi, emulator: Emulator) -> None:
    project_id = next(iter(emulator.state.projects))
    with pytest.raises(NotFound):
        await checked_api.rate_limits.update(project_id, "rl-gpt-4.1", {"max_requests_per_1_minute": 1})


async def test_an_archived_project_cannot_change_its_limits(checked_api: AdminApi) -> None:
    project = await checked_api.projects.create("Old")
    row = (await checked_api.rate_limits.list(project.id))[0]
    await checked_api.projects.archive(project.id)
    assert len(await checked_api.rate_limits.list(project.id)) == len(CATALOG), "still readable"
    with pytest.raises(BadRequest, match="archived"):
        await checked_api.rate_limits.update(project.id, row.id, {"max_requests_per_1_minute": 1})
    with pytest.raises(BadRequest, match="archived"):
        await checked_api.spend.set_limit(100, project_id=project.id)


async def test_rate_limit_pages_follow_after_and_before(raw: httpx.AsyncClient, emulator: Emulator) -> None:
    project_id = next(iter(emulator.state.projects))
    path = f"/organization/projects/{project_id}/rate_limits"
    first = (await raw.get(path, params={"limit": 3})).json()
    assert [r["model"] for r in first["data"]] == list(CATALOG)[:3] and first["has_more"] is True
    second = (await raw.get(path, params={"limit": 3, "after": first["last_id"]})).json()
    assert [r["model"] for r in second["data"]] == list(CATALOG)[3:6]
    back = (await raw.get(path, params={"limit": 2, "before": second["first_id"]})).json()
    assert [r["model"] for r in back["data"]] == list(CATALOG)[1:3] and back["has_more"] is True
    bad = await raw.get(path, params={"after": "rl_nope"})
    assert bad.status_code == 400 and check_envelope(bad.json())["param"] == "after"


# --- spend limits ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("scope", ["organization", "project"])
async def test_spend_limit_absent_set_replaced_deleted(
    checked_api: AdminApi, raw: httpx.AsyncClient, emulator: Emulator, scope: str
) -> None:
    project_id = next(iter(emulator.state.projects)) if scope == "project" else None
    path = "/organization/spend_limit" if project_id is None else f"/organization/projects/{project_id}/spend_limit"

    absent = await raw.get(path)
    assert absent.status_code == 404 and check_envelope(absent.json())["code"] == "not_found"
    assert await checked_api.spend.get_limit(project_id=project_id) is None

    created = await checked_api.spend.set_limit(1999, project_id=project_id)
    assert (created.object, created.threshold_amount, created.currency, created.interval) == (
        f"{scope}.spend_limit",
        1999,
        "USD",
        "month",
    )
    replaced = await checked_api.spend.set_limit(50000, project_id=project_id)
    assert await checked_api.spend.get_limit(project_id=project_id) == replaced

    deleted = await raw.delete(path)
    assert deleted.json() == {"object": f"{scope}.spend_limit.deleted", "deleted": True}
    assert (await raw.delete(path)).status_code == 404
    await checked_api.spend.delete_limit(project_id=project_id)  # already gone counts as done
    assert emulator.events == [], "the spec has no audit event for spend limits"


@pytest.mark.parametrize(
    ("body", "param", "code"),
    [
        ({"threshold_amount": 0, "currency": "USD", "interval": "month"}, "threshold_amount", "invalid_value"),
        ({"threshold_amount": 5, "currency": "EUR", "interval": "month"}, "currency", "invalid_value"),
        ({"threshold_amount": 5, "currency": "USD"}, "interval", "missing_required_parameter"),
        ({"threshold_amount": 5.5, "currency": "USD", "interval": "month"}, "threshold_amount", "invalid_type"),
    ],
)
async def test_spend_limit_bodies_are_checked(
    raw: httpx.AsyncClient, emulator: Emulator, body: dict[str, Any], param: str, code: str
) -> None:
    response = await raw.post("/organization/spend_limit", json=body)
    assert response.status_code == 400
    error = check_envelope(response.json())
    assert (error["param"], error["code"]) == (param, code)
    assert emulator.state.organization.spend_limit is None


# --- spend alerts ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("scope", ["organization", "project"])
async def test_spend_alerts_lifecycle(checked_api: AdminApi, emulator: Emulator, scope: str) -> None:
    project_id = next(iter(emulator.state.projects)) if scope == "project" else None
    assert await checked_api.spend.list_alerts(project_id=project_id) == []

    first = await checked_api.spend.create_alert(25000, ["a@example.com"], project_id=project_id)
    second = await checked_api.spend.create_alert(
        50000, ["b@example.com"], subject_prefix="[spend]", project_id=project_id
    )
    assert first.object == f"{scope}.spend_alert" and first.id != second.id
    assert [a.id for a in await checked_api.spend.list_alerts(project_id=project_id)] == [first.id, second.id]

    updated = await checked_api.spend.update_alert(first.id, 30000, ["c@example.com"], project_id=project_id)
    assert (updated.threshold_amount, updated.notification_channel.recipients) == (30000, ["c@example.com"])
    assert await checked_api.spend.get_alert(first.id, project_id=project_id) == updated

    await checked_api.spend.delete_alert(second.id, project_id=project_id)
    assert [a.id for a in await checked_api.spend.list_alerts(project_id=project_id)] == [first.id]
    assert await checked_api.spend.get_alert(second.id, project_id=project_id) is None
    await checked_api.spend.delete_alert(second.id, project_id=project_id)  # already gone counts as done
    assert emulator.events == []


async def test_alert_lists_page_in_either_order(raw: httpx.AsyncClient, emulator: Emulator) -> None:
    for cents in (100, 200, 300):
        body = {
            "threshold_amount": cents,
            "currency": "USD",
            "interval": "month",
            "notification_channel": {"type": "email", "recipients": ["a@example.com"]},
        }
        assert (await raw.post("/organization/spend_alerts", json=body)).status_code == 200
    default = (await raw.get("/organization/spend_alerts")).json()
    assert [a["threshold_amount"] for a in default["data"]] == [100, 200, 300]
    assert default["data"][0]["notification_channel"]["subject_prefix"] is None
    newest = (await raw.get("/organization/spend_alerts", params={"order": "desc", "limit": 2})).json()
    assert [a["threshold_amount"] for a in newest["data"]] == [300, 200] and newest["has_more"] is True
    rest = (await raw.get("/organization/spend_alerts", params={"order": "desc", "after": newest["last_id"]})).json()
    assert [a["threshold_amount"] for a in rest["data"]] == [100] and rest["has_more"] is False
    empty = (await raw.get("/organization/spend_alerts", params={"limit": 0})).json()
    assert empty["data"] == [] and empty["first_id"] is None


@pytest.mark.parametrize(
    ("change", "param"),
    [
        ({"threshold_amount": -1}, "threshold_amount"),
        ({"threshold_amount": 83.5}, "threshold_amount"),  # 83.0 is an integer: test_emulator_fidelity.py
        ({"notification_channel": {"type": "sms", "recipients": ["a@example.com"]}}, "notification_channel.type"),
        ({"interval": "week"}, "interval"),
    ],
)
async def test_alert_bodies_are_checked(
    raw: httpx.AsyncClient, emulator: Emulator, change: dict[str, Any], param: str
) -> None:
    body = {
        "threshold_amount": 100,
        "currency": "USD",
        "interval": "month",
        "notification_channel": {"type": "email", "recipients": ["a@example.com"]},
        **change,
    }
    response = await raw.post("/organization/spend_alerts", json=body)
    assert response.status_code == 400 and check_envelope(response.json())["param"] == param
    assert emulator.state.organization.spend_alerts == []


async def test_unknown_alerts_are_404(raw: httpx.AsyncClient, emulator: Emulator) -> None:
    project_id = next(iter(emulator.state.projects))
    for path in (
        "/organization/spend_alerts/alert_nope",
        f"/organization/projects/{project_id}/spend_alerts/alert_nope",
    ):
        response = await raw.get(path)
        assert response.status_code == 404 and check_envelope(response.json())["param"] == "alert_id"


# --- seed and dump ---------------------------------------------------------------------------------------

SEED: dict[str, Any] = {
    "organization": {
        "model_rate_limits": {
            "gpt-4.1": {"max_requests_per_1_minute": 1000, "max_tokens_per_1_minute": 50000},
            "whisper-x": {
                "max_requests_per_1_minute": 50,
                "max_tokens_per_1_minute": 1,
                "max_audio_megabytes_per_1_minute": 9,
            },
        },
        "spend_limit": {"threshold_amount": 2000000},
        "spend_alerts": [
            {"threshold_amount": 1500000, "recipients": ["finops@example.com"], "subject_prefix": "[org]"}
        ],
    },
    "projects": [
        {
            "id": "proj_limits0000000000000000",
            "name": "Limited",
            "rate_limits": {"gpt-4.1": {"max_requests_per_1_minute": 500}},
            "spend_limit": {"threshold_amount": 50000},
            "spend_alerts": [{"id": "alert_fixed", "threshold_amount": 25000, "recipients": ["a@example.com"]}],
        }
    ],
}


async def test_a_seed_sets_limits_and_a_dump_round_trips(emulator: Emulator, checked_api: AdminApi) -> None:
    emulator.load_seed(SEED)
    project_id = "proj_limits0000000000000000"
    rows = {row.model: row.limits() for row in await checked_api.rate_limits.list(project_id)}
    assert rows == {
        "gpt-4.1": {"max_requests_per_1_minute": 500, "max_tokens_per_1_minute": 50000},
        "whisper-x": {
            "max_requests_per_1_minute": 50,
            "max_tokens_per_1_minute": 1,
            "max_audio_megabytes_per_1_minute": 9,
        },
    }
    organization_limit = await checked_api.spend.get_limit()
    assert organization_limit is not None and organization_limit.threshold_amount == 2000000
    (org_alert,) = await checked_api.spend.list_alerts()
    assert org_alert.id.startswith("alert_") and org_alert.notification_channel.subject_prefix == "[org]"
    (project_alert,) = await checked_api.spend.list_alerts(project_id=project_id)
    assert project_alert.id == "alert_fixed"

    dumped = emulator.dump_state()
    reloaded = Emulator(admin_key=ADMIN_KEY, seed=dumped, rng_seed=42)
    assert reloaded.dump_state() == dumped
    assert dumped["projects"][0]["rate_limits"] == {"gpt-4.1": {"max_requests_per_1_minute": 500}}
    assert dumped["projects"][0]["spend_limit"] == {"threshold_amount": 50000}


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"rate_limits": {"o3": {"max_requests_per_1_minute": 1}}}, "the organization has no such model"),
        ({"rate_limits": {"gpt-4.1": {"max_images_per_1_minute": 1}}}, "the model has no such limit"),
        ({"rate_limits": {"gpt-4.1": {"max_requests_per_1_minute": 1001}}}, "above the organization's 1000"),
        ({"spend_limit": {"threshold_amount": 0}}, "spend_limit.threshold_amount"),
        (
            {"spend_alerts": [{"id": "alert_fixed", "threshold_amount": 1, "recipients": ["b@example.com"]}]},
            "alert_fixed",
        ),
    ],
)
def test_broken_limit_seeds_are_refused(emulator: Emulator, change: dict[str, Any], fragment: str) -> None:
    from datacontrols.emulator import SeedError

    seed = {
        "organization": SEED["organization"],
        "projects": [SEED["projects"][0], {"name": "Other", **change}],
    }
    with pytest.raises(SeedError, match=fragment):
        emulator.load_seed(seed)
