"""organization.users and organization.groups against the emulator: plan, apply, plan again; the guards;
SCIM report-only; a dry run; what each costs."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from members_support import ADMIN_KEY, emulator, organization, plan, reconcile

from datacontrols.adminapi import AdminApi, RequestRecord
from datacontrols.desired.members import Members
from datacontrols.desired.organization_members import OrganizationGroupsSetting, OrganizationUsersSetting
from datacontrols.desired.schema import DesiredState, OrganizationFile, OrganizationSettings, ProjectFile
from datacontrols.emulator import Emulator
from datacontrols.engine import apply, diff, observe
from datacontrols.errors import WriteRefused
from datacontrols.plan import Plan
from datacontrols.safety import SafetyCheck

KINDS = ("organization_user", "organization_group")


def state(*, users: dict[str, Any] | None = None, groups: dict[str, Any] | None = None) -> DesiredState:
    settings = OrganizationSettings(
        users=OrganizationUsersSetting(**users) if users is not None else None,
        groups=OrganizationGroupsSetting(**groups) if groups is not None else None,
    )
    return DesiredState(organization=OrganizationFile(organization=settings))


def seed(*, key_owner: str = "user-alice", **changes: Any) -> dict[str, Any]:
    """The members seed; `key_owner` owns the admin key in use; `users` entries are updated by id."""
    found = organization()
    found["admin_api_keys"][0]["owner"] = {"id": key_owner}
    for user in found["users"]:
        user.update(changes.get(user["id"], {}))
    found["groups"] = changes.get("groups", found["groups"])
    return found


def ours(found: Plan, *, applicable: bool = False) -> list[tuple[str, str | None]]:
    return [(c.action, c.subject) for c in found if c.kind in KINDS and (c.applies or not applicable)]


def roles(emu: Emulator) -> dict[str, str]:
    return {u.email: u.role for u in emu.state.users.values()}


def members(emu: Emulator) -> dict[str, list[str]]:
    emails = {u.id: u.email for u in emu.state.users.values()}
    return {g.name: sorted(emails[uid] for uid in g.user_ids) for g in emu.state.groups.values()}


# --- users' roles -----------------------------------------------------------------------------------------


def test_additive_roles_promote_and_report_the_unlisted_then_converge() -> None:
    emu = emulator(seed())
    desired = state(users={"roles": {"alice@example.com": "owner", "Bob@Example.com": "owner", "erin@x.io": "reader"}})
    run = asyncio.run(reconcile(emu, desired))
    promoted = next(c for c in run.before if c.subject == "Bob@Example.com")
    assert (promoted.action, promoted.severity, promoted.fields["role"].after) == ("update", "critical", "owner")
    missing = next(c for c in run.before if c.subject == "erin@x.io")
    assert missing.action == "report" and missing.severity == "high" and "not invited" in missing.reason
    assert ("report", "carol@example.com") in ours(run.before)  # additive: unlisted, left alone
    assert run.result.ok and roles(emu)["bob@example.com"] == "owner"
    assert roles(emu)["carol@example.com"] == "reader"
    assert ours(run.after, applicable=True) == []


def test_authoritative_removes_the_unlisted_from_the_organization() -> None:
    emu = emulator(seed())
    desired = state(
        users={"mode": "authoritative", "roles": {"alice@example.com": "owner", "bob@example.com": "reader"}}
    )
    run = asyncio.run(reconcile(emu, desired))
    assert ours(run.before, applicable=True) == [("delete", "carol@example.com"), ("delete", "mallory@example.com")]
    assert all(c.severity == "high" for c in run.before if c.kind == "organization_user" and c.applies)
    assert sorted(roles(emu)) == ["alice@example.com", "bob@example.com"]
    assert ours(run.after) == []


def test_a_scim_managed_user_is_reported_and_never_written() -> None:
    emu = emulator(seed(**{"user-bob": {"scim_managed": True}, "user-carol": {"scim_managed": True}}))
    desired = state(
        users={
            "mode": "authoritative",
            "roles": {"alice@example.com": "owner", "bob@example.com": "owner", "mallory@example.com": "reader"},
        }
    )
    run = asyncio.run(reconcile(emu, desired))
    found = {c.subject: c for c in run.before if c.kind == "organization_user"}
    assert found["bob@example.com"].action == "report" and "SCIM" in found["bob@example.com"].reason
    assert found["carol@example.com"].action == "report" and "identity provider" in found["carol@example.com"].reason
    assert roles(emu)["bob@example.com"] == "reader" and "carol@example.com" in roles(emu)


# --- the lock-out guards ----------------------------------------------------------------------------------


def test_the_last_owner_is_never_demoted() -> None:
    emu = emulator(seed(key_owner="user-carol"))
    desired = state(users={"roles": {"alice@example.com": "reader"}})
    run = asyncio.run(reconcile(emu, desired))
    (refused,) = [c for c in run.before if c.subject == "alice@example.com"]
    assert refused.action == "uncorrectable" and "without an owner" in refused.reason
    assert roles(emu)["alice@example.com"] == "owner"  # the harm prevented: the organization keeps its owner


def test_the_last_owner_is_never_removed_in_authoritative_mode() -> None:
    emu = emulator(seed(key_owner="user-carol"))
    desired = state(
        users={"mode": "authoritative", "roles": {b: "reader" for b in ("bob@example.com", "carol@example.com")}}
    )
    run = asyncio.run(reconcile(emu, desired))
    refused = next(c for c in run.before if c.subject == "alice@example.com")
    assert refused.action == "uncorrectable" and "refusing to remove" in refused.reason
    assert "alice@example.com" in roles(emu) and "mallory@example.com" not in roles(emu)


def test_handing_ownership_over_promotes_first_and_is_allowed() -> None:
    emu = emulator(seed(key_owner="user-carol"))
    desired = state(users={"roles": {"alice@example.com": "reader", "bob@example.com": "owner"}})
    run = asyncio.run(reconcile(emu, desired))
    assert ours(run.before, applicable=True) == [("update", "bob@example.com"), ("update", "alice@example.com")]
    assert (roles(emu)["alice@example.com"], roles(emu)["bob@example.com"]) == ("reader", "owner")


def test_the_admin_key_s_owner_is_never_demoted_or_removed() -> None:
    emu = emulator(seed(**{"user-bob": {"role": "owner"}}))  # alice owns the key; bob is a second owner
    for users in ({"roles": {"alice@example.com": "reader"}}, {"mode": "authoritative", "roles": {}}):
        found = asyncio.run(plan(emu, state(users=users)))
        refused = next(c for c in found if c.subject == "alice@example.com")
        assert refused.action == "uncorrectable" and "admin key this run uses" in refused.reason
    run = asyncio.run(reconcile(emu, state(users={"roles": {"alice@example.com": "reader"}})))
    assert run.result.applied == [] and roles(emu)["alice@example.com"] == "owner"


def test_an_owner_lost_since_the_plan_stops_the_demotion_at_apply_time() -> None:
    emu = emulator(seed(key_owner="user-carol", **{"user-bob": {"role": "owner"}}))
    desired = state(users={"roles": {"alice@example.com": "reader"}})

    async def run() -> Any:
        api = AdminApi.connect(admin_key=ADMIN_KEY, http_transport=emu.http_transport())
        async with api:
            observed = await observe(api, desired)
            planned = diff(desired, observed)
            emu.state.users["user-bob"].role = "reader"  # by hand, after the plan was made
            return await apply(api, planned, safety=SafetyCheck.of(desired, observed))

    result = asyncio.run(run())
    ((change, why),) = result.failed
    assert change.subject == "alice@example.com" and "last owner right now" in why
    assert roles(emu)["alice@example.com"] == "owner"


# --- groups -----------------------------------------------------------------------------------------------


def test_groups_are_created_with_members_and_members_added_then_converge() -> None:
    emu = emulator(seed())
    desired = state(
        groups={
            "definitions": {
                "security": {"members": ["alice@example.com", "bob@example.com", "nobody@x.io"]},
                "ops": {"members": ["carol@example.com"]},
            }
        }
    )
    run = asyncio.run(reconcile(emu, desired))
    assert ours(run.before, applicable=True) == [("create", "ops: carol@example.com"), ("create", "security")]
    added = next(c for c in run.before if c.subject == "ops: carol@example.com")
    assert added.severity == "critical"  # a member of an existing group gets what the group can reach
    assert next(c for c in run.before if c.subject == "security").severity == "normal"
    assert ("report", "security: nobody@x.io") in ours(run.before)
    assert ("report", "data-science") in ours(run.before)  # additive: an undeclared group is left
    assert members(emu)["security"] == ["alice@example.com", "bob@example.com"]
    assert members(emu)["ops"] == ["carol@example.com"]
    assert ours(run.after, applicable=True) == []


def test_authoritative_groups_remove_unlisted_members_and_delete_undeclared_groups() -> None:
    groups = [
        {"id": "group_ds", "name": "data-science", "users": ["alice@example.com"]},
        {"id": "group_ops", "name": "ops", "users": ["bob@example.com", "carol@example.com"]},
    ]
    emu = emulator(seed(groups=groups))
    desired = state(groups={"mode": "authoritative", "definitions": {"ops": {"members": ["bob@example.com"]}}})
    run = asyncio.run(reconcile(emu, desired))
    assert ours(run.before, applicable=True) == [("delete", "data-science"), ("delete", "ops: carol@example.com")]
    assert all(c.severity == "high" for c in run.before if c.kind == "organization_group" and c.applies)
    assert members(emu) == {"ops": ["bob@example.com"]}
    assert ours(run.after) == []


def test_scim_managed_groups_are_reported_and_never_written() -> None:
    groups = [
        {"id": "group_ds", "name": "data-science", "scim_managed": True, "users": ["alice@example.com"]},
        {"id": "group_idp", "name": "idp-only", "scim_managed": True},
    ]
    emu = emulator(seed(groups=groups))
    desired = state(groups={"mode": "authoritative", "definitions": {"data-science": {"members": ["bob@example.com"]}}})
    run = asyncio.run(reconcile(emu, desired))
    found = {c.subject: c for c in run.before if c.kind == "organization_group"}
    assert [c.action for c in found.values()] == ["report", "report"]
    assert "missing bob@example.com; not listed alice@example.com" in found["data-science"].reason
    assert "SCIM" in found["idp-only"].reason
    assert members(emu) == {"data-science": ["alice@example.com"], "idp-only": []}


# --- dry run and cost -------------------------------------------------------------------------------------


def test_a_dry_run_writes_nothing() -> None:
    emu = emulator(seed())
    desired = state(
        users={"mode": "authoritative", "roles": {"alice@example.com": "owner"}},
        groups={"mode": "authoritative", "definitions": {"new": {"members": ["alice@example.com"]}}},
    )
    before = (roles(emu), members(emu))

    async def run() -> None:
        api = AdminApi.connect(admin_key=ADMIN_KEY, http_transport=emu.http_transport(), read_only=True)
        async with api:
            observed = await observe(api, desired)
            planned = diff(desired, observed)
            assert ours(planned, applicable=True)
            with pytest.raises(WriteRefused):
                await apply(api, planned, safety=SafetyCheck.of(desired, observed, allow_unsafe=planned.digest()))

    asyncio.run(run())
    assert (roles(emu), members(emu)) == before


def requests(emu: Emulator, desired: DesiredState) -> list[str]:
    seen: list[RequestRecord] = []

    async def run() -> None:
        api = AdminApi.connect(admin_key=ADMIN_KEY, http_transport=emu.http_transport(), on_request=seen.append)
        async with api:
            await observe(api, desired)

    asyncio.run(run())
    return [f"{r.method} {r.template}" for r in seen if r.template != "/organization/projects"]


def test_nothing_declared_reads_nothing_and_members_cost_one_listing_per_declared_group() -> None:
    emu = emulator(seed())
    assert requests(emu, state()) == []
    converged = state(groups={"definitions": {"ops": {"members": []}, "data-science": {"members": []}}})
    assert sorted(requests(emu, converged)) == [
        "GET /organization/groups",
        "GET /organization/groups/{group_id}/users",
        "GET /organization/groups/{group_id}/users",
    ]
    adding = state(groups={"definitions": {"ops": {"members": ["bob@example.com"]}}})
    assert sorted(requests(emu, adding)) == [
        "GET /organization/groups",
        "GET /organization/groups/{group_id}/users",
        "GET /organization/users",  # only because a member is to be added: their id comes from here
    ]
    assert "GET /organization/users" in requests(emu, state(users={"roles": {}}))


def test_project_members_resolve_through_the_organization_s_own_reads_made_once() -> None:
    emu = emulator(seed())
    desired = DesiredState(
        organization=OrganizationFile(
            organization=OrganizationSettings(
                users=OrganizationUsersSetting(roles={"alice@example.com": "owner"}),
                groups=OrganizationGroupsSetting.model_validate({"definitions": {"ops": {"members": []}}}),
            )
        ),
        projects=(
            ProjectFile(name="P", members=Members(users={"bob@example.com": "member"}, groups={"ops": "member"})),
        ),
    )
    reads = requests(emu, desired)
    assert (reads.count("GET /organization/users"), reads.count("GET /organization/groups")) == (1, 1)
    run = asyncio.run(reconcile(emu, desired))
    added = {(c.kind, c.subject) for c in run.before if c.action == "create"}
    assert added == {("project_user", "bob@example.com"), ("project_group", "ops")}
    assert run.result.ok and ours(run.after, applicable=True) == []
