"""Access against the in-process emulator: plan, apply, plan again, for every action of the access kinds.

observe -> diff -> apply -> observe -> diff, through the real client and engine. Each test also looks at the
emulator's own state or request log, so a plan that converged by doing nothing cannot pass.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
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
    plan,
    project_users,
    reconcile,
    registry,
)

from datacontrols.engine import apply, diff, observe
from datacontrols.render import render
from datacontrols.safety import SafetyCheck

USERS = [
    {"user": "alice@example.com", "role": "owner"},
    {"user": "bob@example.com", "role": "member"},
    {"user": "mallory@example.com", "role": "member"},
]


async def test_authoritative_mode_removes_an_unlisted_member_and_converges() -> None:
    emu = emulator(organization(users=USERS))
    state = desired(mode="authoritative", users={"alice@example.com": "owner", "bob@example.com": "member"})
    run = await reconcile(emu, state)
    assert actions(run.before) == [("delete", "project_user", "mallory@example.com")]
    assert run.result.ok and project_users(emu) == {"user-alice": "owner", "user-bob": "member"}
    assert list(run.after) == [], "the second plan after apply is empty"


async def test_additive_mode_reports_an_unlisted_member_and_writes_nothing() -> None:
    emu = emulator(organization(users=USERS))
    state = desired(users={"alice@example.com": "owner", "bob@example.com": "member"})
    run = await reconcile(emu, state)
    assert actions(run.before, reports=True) == [("report", "project_user", "mallory@example.com")]
    assert "additive mode leaves it" in run.before.changes[0].reason
    assert emu.requests.writes() == [] and "user-mallory" in project_users(emu)
    assert not run.after.has_changes


async def test_a_role_change_is_one_update_of_one_request() -> None:
    emu = emulator(organization(users=USERS))
    state = desired(users={"alice@example.com": "owner", "bob@example.com": "owner"})
    run = await reconcile(emu, state)
    assert actions(run.before) == [("update", "project_user", "bob@example.com")]
    writes = emu.requests.writes()
    assert [(w.method, w.template, w.body) for w in writes] == [
        ("POST", "/organization/projects/{project_id}/users/{user_id}", {"role": "owner"})
    ]
    assert project_users(emu)["user-bob"] == "owner" and not run.after.has_changes


async def test_listed_users_are_added_to_a_project_created_in_the_same_run() -> None:
    emu = emulator(organization())
    state = desired(name="Fresh", users={"alice@example.com": "owner", "carol@example.com": "member"})
    run = await reconcile(emu, state)
    assert ("create", "project", None) in actions(run.before) and run.result.ok
    fresh = next(p for p in emu.state.projects.values() if p.name == "Fresh")
    assert {uid: m.role for uid, m in fresh.users.items()} == {"user-alice": "owner", "user-carol": "member"}
    assert not run.after.has_changes


async def test_groups_are_granted_changed_and_revoked_by_role_id() -> None:
    emu = emulator(
        organization(groups=[{"group": "ops", "role": "member"}, {"group": "data-science", "role": "member"}])
    )
    state = desired(mode="authoritative", groups={"data-science": "owner"})
    run = await reconcile(emu, state)
    assert actions(run.before) == [("update", "project_group", "data-science"), ("delete", "project_group", "ops")]
    grants = emu.state.projects[PROJECT_ID].groups
    assert list(grants) == ["group_ds"] and grants["group_ds"].role_ids == ["role-api-project-owner"]
    assert [w.template for w in emu.requests.writes()] == [
        "/projects/{project_id}/groups/{group_id}/roles",  # assign the new role first ...
        "/projects/{project_id}/groups/{group_id}/roles/{role_id}",  # ... then unassign the old one
        "/organization/projects/{project_id}/groups/{group_id}",
    ]
    assert list(run.after) == []

    granted = await reconcile(emu, desired(groups={"data-science": "owner", "ops": "member"}))
    assert actions(granted.before) == [("create", "project_group", "ops")]
    assert emu.state.projects[PROJECT_ID].groups["group_ops"].role_ids == ["role-api-project-member"]
    assert list(granted.after) == []


async def test_without_a_sink_a_service_account_is_created_without_a_key_then_given_its_role() -> None:
    emu = emulator(organization(service_accounts=[{"name": "old-bot", "role": "member"}]))
    state = desired(mode="authoritative", service_accounts={"etl": "owner"})
    run = await reconcile(emu, state)
    assert actions(run.before) == [
        ("create", "project_service_account", "etl"),
        ("delete", "project_service_account", "old-bot"),
    ]
    create = run.before.changes[0]
    assert "create_service_account_only" in create.reason
    bodies = [(w.method, w.body) for w in emu.requests.writes()]
    assert bodies[0] == ("POST", {"name": "etl", "create_service_account_only": True})
    assert bodies[1] == ("POST", {"role": "owner"}), "the role none -> owner is set by the same apply"
    accounts = emu.state.projects[PROJECT_ID].service_accounts.values()
    assert [(a.name, a.role) for a in accounts] == [("etl", "owner")]
    assert emu.state.projects[PROJECT_ID].api_keys == {}, "no key was created"
    assert list(run.after) == []


async def test_with_a_sink_the_created_key_goes_to_the_sink_and_nowhere_else(tmp_path: Path) -> None:
    sink = tmp_path / "secrets"
    emu = emulator(organization())
    state = desired(service_accounts={"support-bot-prod": "member"})
    kinds = registry(secret_sink=sink)
    run = await reconcile(emu, state, kinds)
    assert run.result.ok and list(run.after) == []
    written = sink / "P__support-bot-prod.key"
    key = written.read_text().strip()
    assert key.startswith("sk-svcacct-") and len(key) > 40
    assert stat.S_IMODE(os.stat(written).st_mode) == 0o600
    assert [p.name for p in sink.iterdir()] == [written.name], "no temporary file is left behind"
    assert str(written) in run.before.changes[0].reason
    for fmt in ("text", "json", "markdown"):
        assert key not in render(run.before, fmt) and key not in render(run.after, fmt)
    assert key not in repr(emu.dump_state()) and key not in repr(list(emu.requests)) and key not in repr(emu.events)
    (stored,) = emu.state.projects[PROJECT_ID].api_keys.values()
    assert stored.redacted_value == f"{key[:6]}...{key[-4:]}"


async def test_a_key_that_cannot_be_stored_is_revoked_at_once(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    emu = emulator(organization())
    run = await reconcile(emu, desired(service_accounts={"bot": "member"}), registry(secret_sink=blocker))
    ((change, why),) = run.result.failed
    assert change.kind == "project_service_account" and "secret sink" in why
    assert emu.state.projects[PROJECT_ID].service_accounts == {}, "the account (and with it the key) is deleted"
    assert emu.state.projects[PROJECT_ID].api_keys == {}


KEYS = [
    {
        "id": "key_stale0001",
        "name": "old",
        "owner": {"type": "user", "id": "bob@example.com"},
        "created_at": NOW - 200 * DAY,
    },
    {"id": "key_fresh0001", "name": "new", "owner": {"type": "user", "id": "bob@example.com"}, "created_at": NOW - DAY},
    {
        "id": "key_svcold001",
        "name": "sa",
        "owner": {"type": "service_account", "id": "bot"},
        "created_at": NOW - 200 * DAY,
    },
    {
        "id": "key_gone00001",
        "name": "left",
        "owner": {"type": "user", "id": "mallory@example.com"},
        "created_at": NOW - DAY,
    },
]


async def test_key_findings_are_reports_and_prune_deletes_only_flagged_user_keys() -> None:
    seed = organization(
        users=[{"user": "bob@example.com", "role": "member"}],
        service_accounts=[{"name": "bot", "role": "member"}],
        api_keys=KEYS,
    )
    reported = await reconcile(emulator(seed), desired(keys={"max_age_days": 90}))
    assert actions(reported.before, reports=True) == [
        ("report", "project_api_key", "sk-...0001 (key_gone00001)"),
        ("report", "project_api_key", "sk-...0001 (key_stale0001)"),
        ("report", "project_api_key", "sk-...d001 (key_svcold001)"),
    ]
    assert "no longer has access" in reported.before.changes[0].reason, "an inactive owner's key is listed too"
    assert not reported.before.has_changes

    emu = emulator(seed)
    pruned = await reconcile(emu, desired(keys={"max_age_days": 90, "prune": "delete"}))
    assert actions(pruned.before) == [
        ("delete", "project_api_key", "sk-...0001 (key_gone00001)"),
        ("delete", "project_api_key", "sk-...0001 (key_stale0001)"),
    ]
    assert sorted(emu.state.projects[PROJECT_ID].api_keys) == ["key_fresh0001", "key_svcold001"]
    assert actions(pruned.after, reports=True) == [("report", "project_api_key", "sk-...d001 (key_svcold001)")]
    listed = emu.requests.for_template("/organization/projects/{project_id}/api_keys", "GET")
    assert listed and all(e.query.get("owner_project_access") == "any" for e in listed)


async def test_missing_users_are_invited_once_and_then_reported_as_pending() -> None:
    emu = emulator(organization(users=[{"user": "alice@example.com", "role": "owner"}]))
    state = desired(invite=True, users={"alice@example.com": "owner", "erin@example.com": "member"})
    run = await reconcile(emu, state)
    assert actions(run.before) == [("create", "invite", "erin@example.com")]
    (invite,) = emu.state.invites.values()
    assert (invite.email, invite.role, invite.projects) == ("erin@example.com", "reader", [])
    assert actions(run.after, reports=True) == [("report", "project_user", "erin@example.com")]
    assert "pending" in run.after.changes[0].reason

    invite.status = "accepted"  # Erin joins: the next run adds her to the project
    emu.state.users["user-erin"] = type(emu.state.users["user-alice"])(id="user-erin", email="erin@example.com")
    joined = await reconcile(emu, state)
    assert actions(joined.before) == [("create", "project_user", "erin@example.com")]
    assert list(joined.after) == []


async def test_a_principal_that_vanished_before_apply_counts_as_converged() -> None:
    emu = emulator(organization(users=USERS, service_accounts=[{"name": "old", "role": "member"}]))
    state = desired(mode="authoritative", users={"alice@example.com": "owner"}, service_accounts={})
    kinds = registry()
    api = connect(emu)
    async with api:
        observed = await observe(api, state, kinds)
        before = diff(state, observed, kinds)
        project = emu.state.projects[PROJECT_ID]
        del project.users["user-mallory"]  # removed by hand between plan and apply
        project.service_accounts.clear()
        result = await apply(api, before, kinds, safety=SafetyCheck.of(state, observed, allow_unsafe=before.digest()))
    assert result.ok and len(result.applied) == 3
    assert project_users(emu) == {"user-alice": "owner"}


async def test_one_failing_member_change_does_not_stop_the_rest() -> None:
    emu = emulator(organization(users=USERS[:1]))
    state = desired(users={"alice@example.com": "owner", "bob@example.com": "member", "carol@example.com": "member"})
    kinds = registry()
    api = connect(emu)
    async with api:
        observed = await observe(api, state, kinds)
        before = diff(state, observed, kinds)
        del emu.state.users["user-bob"]  # Bob leaves the organization a moment after the plan
        result = await apply(api, before, kinds, safety=SafetyCheck.of(state, observed, allow_unsafe=before.digest()))
    assert [c.subject for c, _ in result.failed] == ["bob@example.com"]
    assert [c.subject for c in result.applied] == ["carol@example.com"] and result.skipped == []
    assert project_users(emu) == {"user-alice": "owner", "user-carol": "member"}


async def test_an_owner_is_not_removed_when_the_owner_meant_to_replace_them_could_not_be_added() -> None:
    emu = emulator(organization(users=[{"user": "bob@example.com", "role": "owner"}]))
    state = desired(mode="authoritative", users={"carol@example.com": "owner"})
    kinds = registry()
    api = connect(emu)
    async with api:
        observed = await observe(api, state, kinds)
        before = diff(state, observed, kinds)
        assert actions(before) == [
            ("create", "project_user", "carol@example.com"),
            ("delete", "project_user", "bob@example.com"),
        ]
        del emu.state.users["user-carol"]  # the new owner's add will fail
        result = await apply(api, before, kinds, safety=SafetyCheck.of(state, observed, allow_unsafe=before.digest()))
    assert sorted(c.subject or "" for c, _ in result.failed) == ["bob@example.com", "carol@example.com"]
    assert any("last owner right now" in why for _, why in result.failed)
    assert project_users(emu) == {"user-bob": "owner"}, "the project keeps its only owner"


async def test_the_admin_key_owner_is_identified_by_its_redacted_value() -> None:
    emu = emulator(organization(users=USERS))
    state = desired(users={"alice@example.com": "owner"})
    api = connect(emu)
    async with api:
        observed = await observe(api, state, registry())
    identity = observed.organization["admin_api_key"]
    assert (identity.principal, identity.description) == ("user:user-alice", "user Alice")
    assert ADMIN_KEY not in repr(identity)

    emu.state.admin_api_keys.clear()
    unknown = await plan(emu, state)
    assert [(c.kind, c.action) for c in unknown if c.kind == "admin_api_key"] == [("admin_api_key", "report")]


@pytest.mark.parametrize("mode", ["additive", "authoritative"])
async def test_a_dry_run_of_access_sends_only_reads(mode: str) -> None:
    emu = emulator(organization(users=USERS, groups=[{"group": "ops", "role": "member"}], api_keys=KEYS[:2]))
    state = desired(
        mode=mode, users={"carol@example.com": "owner"}, groups={"data-science": "member"}, keys={"max_age_days": 1}
    )
    before = await plan(emu, state)
    assert before.has_changes and emu.requests.methods() == {"GET"}
