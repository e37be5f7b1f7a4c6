"""Drift attribution from the audit log: authors found, the daemon's own writes recognised, settings without
audit events said to be so, the cursor followed, and an unreadable log never failing a run."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from daemon_support import ADMIN_KEY, BASE_URL, daemon_for, metric_value

from datacontrols.adminapi import AdminApi
from datacontrols.daemon.attribution import NO_AUDIT_EVENT, AuditTrail, change_resource_ids
from datacontrols.daemon.notifications import drift_key
from datacontrols.emulator import Emulator, FaultConfig
from datacontrols.emulator.routes.audit_logs import ADMIN_KEY_TRACKING_ID
from datacontrols.kinds.project import ProjectFacts
from datacontrols.kinds.project_groups import GroupFacts
from datacontrols.kinds.project_users import UserFacts
from datacontrols.plan import Change, Facts, FieldChange
from testsupport.clock import SharedClock

SEED: dict[str, Any] = {
    "projects": [
        {"id": "proj_alpha", "name": "Alpha"},
        {"id": "proj_beta", "name": "Beta"},
    ]
}


@pytest.fixture
def clock() -> SharedClock:
    return SharedClock()


@pytest.fixture
def emulator(clock: SharedClock) -> Emulator:
    return Emulator(admin_key=ADMIN_KEY, seed=SEED, rng_seed=11, clock=clock, sleep=clock.sleep)


@pytest.fixture
async def api(emulator: Emulator, clock: SharedClock) -> AsyncIterator[AdminApi]:
    client = AdminApi.connect(
        admin_key=ADMIN_KEY, http_transport=emulator.http_transport(), sleep=clock.sleep, clock=clock
    )
    yield client
    await client.aclose()


async def as_person(emulator: Emulator, method: str, path: str, email: str | None, **kwargs: Any) -> None:
    headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
    if email is not None:
        headers["x-emulator-actor"] = email
    async with httpx.AsyncClient(transport=emulator.http_transport(), base_url=BASE_URL, headers=headers) as raw:
        response = await raw.request(method, path, **kwargs)
        assert response.status_code == 200, response.text


def renamed(project_id: str = "proj_alpha") -> Change:
    return Change(
        action="update",
        kind="project",
        project="Alpha",
        fields={"name": FieldChange("Renamed", "Alpha")},
        facts=ProjectFacts(project_id=project_id),
    )


def archived(project_id: str = "proj_alpha") -> Change:
    return Change(
        action="uncorrectable",
        kind="project",
        project="Alpha",
        reason="archived",
        facts=ProjectFacts(project_id=project_id),
    )


def test_resource_ids_come_from_the_facts() -> None:
    assert change_resource_ids(renamed()) == {"proj_alpha"}
    facts = UserFacts(project_id="p", principal="user:user_1", role_before="member", user_id="user_1")
    member = Change(action="delete", kind="project_user", project="A", facts=facts)
    assert change_resource_ids(member) == {"user_1"}  # not the project: members have their own events
    keyed = Change(
        action="update", kind="project", project="A", facts=ProjectFacts(project_id="p", external_key_id="k")
    )
    assert change_resource_ids(keyed) == {"p"}  # not the key: it is another thing than the project
    group = GroupFacts(project_id="p", principal="group:g1", role_after="owner", group_id="g1", role_id="role_owner")
    assert change_resource_ids(Change(action="create", kind="project_group", project="A", facts=group)) == {"g1"}


@pytest.mark.parametrize(
    "kind",
    ["project_hosted_tools", "project_data_retention", "project_model_permissions", "organization_data_retention",
     "spend_limit", "spend_alert"],
)  # fmt: skip
def test_settings_without_audit_events_say_so(kind: str) -> None:
    trail = AuditTrail()
    attribution = trail.attribute(Change(action="update", kind=kind, project="A", facts=Facts(project_id="p")))
    assert attribution.status == "no_audit_event" and attribution.note == NO_AUDIT_EVENT
    assert attribution.to_json() == {"status": "no_audit_event", "note": NO_AUDIT_EVENT}


def test_residency_drift_has_no_audit_event() -> None:
    change = Change(
        action="uncorrectable", kind="project", project="A", fields={"residency": FieldChange("GLOBAL", "EU")}
    )
    assert AuditTrail().attribute(change).note == NO_AUDIT_EVENT


async def test_a_persons_change_is_attributed_to_them(emulator: Emulator, api: AdminApi, clock: SharedClock) -> None:
    trail = AuditTrail(clock=clock)
    clock.advance(30)
    await as_person(emulator, "POST", "/organization/projects/proj_alpha/archive", "alice@example.com")
    assert await trail.refresh(api) == 1
    attribution = trail.attribute(archived())
    assert attribution.status == "audit_event"
    assert attribution.actor == "alice@example.com" and attribution.actor_type == "session"
    assert attribution.effective_at == int(clock.now) and attribution.event_type == "project.archived"
    data = attribution.to_json()
    assert data["actor"] == "alice@example.com" and data["at"].endswith("Z")
    assert "alice@example.com at " in attribution.describe()
    # Another resource's events are not this one's.
    assert trail.attribute(archived("proj_beta")).status == "not_found"


async def test_an_admin_key_change_names_the_key(emulator: Emulator, api: AdminApi, clock: SharedClock) -> None:
    trail = AuditTrail(clock=clock)
    await as_person(emulator, "POST", "/organization/projects/proj_alpha", None, json={"name": "Renamed"})
    await trail.refresh(api)
    attribution = trail.attribute(renamed())
    assert attribution.actor == f"api key {ADMIN_KEY_TRACKING_ID} (owner@example.com)"
    assert attribution.actor_type == "api_key"


async def test_the_daemons_own_writes_are_not_someone_elses(
    emulator: Emulator, api: AdminApi, clock: SharedClock
) -> None:
    trail = AuditTrail(clock=clock)
    # The daemon renames the project back (its own write, with the admin key) ...
    started = clock.now
    await api.projects.modify("proj_alpha", name="Alpha")
    trail.note_own_write(renamed(), started, clock.now)
    await trail.refresh(api)
    assert trail.own_key_ids == {ADMIN_KEY_TRACKING_ID}  # learned from its own event
    # ... so drift found right after has no author: the change after its write left no event.
    attribution = trail.attribute(renamed())
    assert attribution.status == "not_found" and "own last write" in attribution.note
    # A person changes it later: that person is the author.
    clock.advance(600)
    await as_person(emulator, "POST", "/organization/projects/proj_alpha", "bob@example.com", json={"name": "X"})
    await trail.refresh(api)
    assert trail.attribute(renamed()).actor == "bob@example.com"
    # The same key writing long after any write of the daemon is someone else using that key.
    clock.advance(3600)
    await as_person(emulator, "POST", "/organization/projects/proj_alpha", None, json={"name": "Y"})
    await trail.refresh(api)
    assert trail.attribute(renamed()).actor_type == "api_key"


async def test_the_cursor_reads_each_event_once_and_starts_a_lookback_ago(
    emulator: Emulator, api: AdminApi, clock: SharedClock
) -> None:
    await as_person(emulator, "POST", "/organization/projects/proj_beta/archive", "old@example.com")
    clock.advance(7200)  # two hours later the daemon starts, looking back one
    trail = AuditTrail(lookback=3600, clock=clock)
    assert await trail.refresh(api) == 0
    assert trail.attribute(archived("proj_beta")).status == "not_found"
    await as_person(emulator, "POST", "/organization/projects/proj_alpha/archive", "new@example.com")
    assert await trail.refresh(api) == 1
    assert await trail.refresh(api) == 0  # re-read with overlap, deduplicated
    query = emulator.requests.for_template("/organization/audit_logs")[-1].query
    assert int(query["effective_at[gte]"]) == int(clock.now) - 300  # the newest seen, minus the overlap


async def test_an_unreadable_audit_log_is_reported_and_never_fails_the_run(
    emulator: Emulator, clock: SharedClock
) -> None:
    emulator.faults = FaultConfig(server_error=1.0, paths=("/organization/audit_logs",))
    daemon = daemon_for(emulator, clock=clock, mode="report")
    try:
        run = await daemon.run_once()
        assert run is not None and run.outcome == "success"
        assert run.plan is not None and run.plan.drift
        hosted = [c for c in run.plan.drift if c.kind == "project_hosted_tools"]
        project = [c for c in run.plan.drift if c.kind == "project"]
        assert all(run.attributions[drift_key(c)].status == "no_audit_event" for c in hosted)
        assert all(run.attributions[drift_key(c)].status == "unavailable" for c in project)
        assert (
            metric_value(daemon.metrics.render().decode(), "datacontrols_audit_log_reads_total", result="failure") == 1
        )
        assert daemon.status()["audit_log"]["available"] is False
    finally:
        await daemon.aclose()
