"""`keys: {fix: expiry}` against the emulator: keys that break max_lifetime_days get an expiry set through the
SDK's key update; the default only reports; a dry run sends only reads; a key too old to fix stays a report."""

from __future__ import annotations

from members_support import (
    ADMIN_KEY,
    DAY,
    NOW,
    PROJECT_ID,
    actions,
    connect,
    desired,
    emulator,
    organization,
    reconcile,
    registry,
)

from datacontrols.adminapi import AdminApi
from datacontrols.engine import diff, observe
from datacontrols.render import render

BOB = {"type": "user", "id": "bob@example.com"}
KEYS = [
    # never expires, created 10 days ago: fixed to expire on day 30 after its creation
    {"id": "key_forever01", "name": "forever", "owner": BOB, "created_at": NOW - 10 * DAY},
    # a service account's key living a year: shortened too (the update covers them)
    {
        "id": "key_svclong1",
        "name": "sa",
        "owner": {"type": "service_account", "id": "bot"},
        "created_at": NOW - 5 * DAY,
        "expires_at": NOW + 360 * DAY,
    },
    # older than 30 days: setting its expiry would end it at once, so it stays a report
    {"id": "key_ancient1", "name": "ancient", "owner": BOB, "created_at": NOW - 40 * DAY},
    # within the rule: untouched
    {"id": "key_fine0001", "name": "fine", "owner": BOB, "created_at": NOW - DAY, "expires_at": NOW + 7 * DAY},
]
RULES = {"max_lifetime_days": 30, "fix": "expiry"}


def seed() -> dict[str, object]:
    return organization(
        users=[{"user": "bob@example.com", "role": "member"}],
        service_accounts=[{"name": "bot", "role": "member"}],
        api_keys=KEYS,
    )


async def test_fix_expiry_sets_the_expiry_and_the_next_plan_has_only_the_unfixable_report() -> None:
    emu = emulator(seed())
    run = await reconcile(emu, desired(keys=RULES))
    assert sorted(actions(run.before, reports=True)) == [
        ("report", "project_api_key", "sk-...ent1 (key_ancient1)"),
        ("update", "project_api_key", "sk-...er01 (key_forever01)"),
        ("update", "project_api_key", "sk-...ong1 (key_svclong1)"),
    ]
    forever = next(c for c in run.before if c.subject and "key_forever01" in c.subject)
    assert forever.fields["expires_at"].before == "never"
    assert forever.fields["expires_at"].after == "2026-06-17"  # NOW - 10 days + 30 days
    assert "expire on 2026-06-17" in forever.reason
    assert "expires_at" in render(run.before, "text") and "2026-06-17" in render(run.before, "text")
    assert run.result.ok, run.result.failed

    keys = emu.state.projects[PROJECT_ID].api_keys
    assert keys["key_forever01"].expires_at == NOW + 20 * DAY
    assert keys["key_svclong1"].expires_at == NOW + 25 * DAY
    assert keys["key_ancient1"].expires_at is None and keys["key_fine0001"].expires_at == NOW + 7 * DAY
    updates = emu.requests.for_template("/organization/projects/{project_id}/api_keys/{api_key_id}", "POST")
    assert sorted(e.body["expires_in_seconds"] for e in updates) == [20 * DAY, 25 * DAY]
    assert {e.type for e in emu.events} >= {"api_key.updated"}

    (left,) = list(run.after)
    assert left.action == "report" and "rotate it" in left.reason and "key_ancient1" in (left.subject or "")


async def test_the_default_only_reports_expiry_findings() -> None:
    emu = emulator(seed())
    run = await reconcile(emu, desired(keys={"max_lifetime_days": 30}))
    assert {c.action for c in run.before} == {"report"}
    assert not run.before.has_changes
    assert emu.requests.for_template("/organization/projects/{project_id}/api_keys/{api_key_id}", "POST") == []


async def test_a_dry_run_of_the_fix_sends_only_reads() -> None:
    emu = emulator(seed())
    state = desired(keys=RULES)
    async with AdminApi.connect(admin_key=ADMIN_KEY, http_transport=emu.http_transport(), read_only=True) as reader:
        plan = diff(state, await observe(reader, state, registry()), registry())
    assert plan.has_changes and emu.requests.methods() == {"GET"}
    assert emu.state.projects[PROJECT_ID].api_keys["key_forever01"].expires_at is None


async def test_an_expired_key_is_reported_not_updated() -> None:
    expired = {"id": "key_expired1", "name": "x", "owner": BOB, "created_at": NOW - 400 * DAY, "expires_at": NOW - DAY}
    emu = emulator(organization(users=[{"user": "bob@example.com", "role": "member"}], api_keys=[expired]))
    run = await reconcile(emu, desired(keys=RULES))
    (change,) = list(run.before)
    assert change.action == "report" and "has expired" in change.reason
    api = connect(emu)
    async with api:
        assert (await api.project_api_keys.retrieve(PROJECT_ID, "key_expired1")) is not None
