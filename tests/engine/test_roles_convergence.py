"""Custom roles and role assignments through the loader and the engine against the in-process emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from datacontrols.adminapi import AdminApi
from datacontrols.emulator import Emulator
from datacontrols.engine import apply, diff, observe
from datacontrols.explain_access import explain_access
from datacontrols.export import export_organization
from datacontrols.safety import SafetyCheck
from testsupport.desired_files import plan_of, write_desired_state

KEY = "sk-admin-roles-convergence-000000000"
SUPPORT = "proj_rolessupport000000001"
SEED: dict[str, Any] = {
    "users": [
        {"id": "user-alice", "email": "alice@example.com", "name": "Alice", "role": "owner"},
        {"id": "user-bob", "email": "bob@example.com", "name": "Bob", "role": "reader"},
    ],
    "groups": [{"id": "group_sec", "name": "security", "users": ["alice@example.com"]}],
    "projects": [
        {
            "id": SUPPORT,
            "name": "Support",
            "users": [{"user": "bob@example.com", "role": "member"}],
            "groups": [{"group": "security", "role": "member"}],
        }
    ],
    "roles": [{"id": "role_old", "name": "old-auditor", "permissions": ["api.audit_logs.read"]}],
    "role_assignments": [{"role": "role_old", "user": "alice@example.com"}],
}
ORGANIZATION = """\
unmanaged_projects: ignore
organization:
  roles:
    custom:
      data-auditor: {permissions: [api.audit_logs.read, api.usage.read], description: Reads the audit log}
  role_assignments:
    users: {alice@example.com: [data-auditor]}
    groups: {security: [data-auditor]}
"""
SUPPORT_FILE = """\
name: Support
roles:
  custom:
    releaser: {permissions: [api.model.deploy]}
role_assignments:
  users: {bob@example.com: [releaser, Viewer]}
  groups: {security: [releaser]}
"""


@pytest.fixture
def emulator() -> Emulator:
    return Emulator(admin_key=KEY, seed=SEED, rng_seed=5)


@pytest.fixture
async def api(emulator: Emulator) -> AsyncIterator[AdminApi]:
    client = AdminApi.connect(admin_key=KEY, http_transport=emulator.http_transport())
    yield client
    await client.aclose()


async def converge(api: AdminApi, desired: Any) -> None:
    """Apply the plan as a person who reviewed it would (grants weaken access: they need approval)."""
    observed = await observe(api, desired)
    plan = diff(desired, observed)
    result = await apply(api, plan, safety=SafetyCheck.of(desired, observed, allow_unsafe=plan.digest()))
    assert result.ok, result


def rows(plan: Any) -> list[tuple[str, str | None, str | None, str, str]]:
    return [(c.kind, c.project, c.subject, c.action, c.severity) for c in plan if "role" in c.kind]


def held(emulator: Emulator, project_id: str | None = None) -> set[tuple[str, str, str]]:
    names = {r.id: r.name for r in emulator.state.roles.values()}
    found = {
        (a.principal_type, a.principal_id, names.get(a.role_id, a.role_id))
        for a in emulator.state.role_assignments
        if a.project_id == project_id
    }
    if project_id is not None:
        for group_id, grant in emulator.state.projects[project_id].groups.items():
            found |= {("group", group_id, names.get(r, r)) for r in grant.role_ids}
    return found


async def test_organization_roles_and_assignments_converge(tmp_path: Path, api: AdminApi, emulator: Emulator) -> None:
    desired = write_desired_state(tmp_path, ORGANIZATION, {})
    observed = await observe(api, desired)
    plan = diff(desired, observed)
    assert set(rows(plan)) == {
        ("organization_roles", None, "data-auditor", "create", "normal"),
        ("organization_role_assignments", None, "group security: data-auditor", "create", "critical"),
        ("organization_role_assignments", None, "user alice@example.com: data-auditor", "create", "critical"),
        ("organization_roles", None, "old-auditor", "report", "normal"),
        ("organization_role_assignments", None, "user alice@example.com: old-auditor", "report", "normal"),
    }
    result = await apply(api, plan, safety=SafetyCheck.of(desired, observed, allow_unsafe=plan.digest()))
    assert result.ok, result
    [role] = [r for r in emulator.state.roles.values() if r.name == "data-auditor"]
    assert sorted(role.permissions) == ["api.audit_logs.read", "api.usage.read"]
    assert role.description == "Reads the audit log"
    assert held(emulator) == {
        ("user", "user-alice", "data-auditor"),
        ("user", "user-alice", "old-auditor"),
        ("group", "group_sec", "data-auditor"),
    }
    assert [c.action for c in await plan_of(api, desired) if "role" in c.kind] == ["report", "report"]


async def test_authoritative_deletes_undeclared_roles_and_revokes_unlisted_ones(
    tmp_path: Path, api: AdminApi, emulator: Emulator
) -> None:
    emulator.state.roles["role_old"].name = "data-auditor"  # declared now: kept, updated and still held
    extra = ORGANIZATION.replace("    custom:", "    mode: authoritative\n    custom:") + "    mode: authoritative\n"
    extra = extra.replace("users: {alice@example.com: [data-auditor]}", "users: {alice@example.com: []}")
    desired = write_desired_state(tmp_path, extra, {})
    observed = await observe(api, desired)
    plan = diff(desired, observed)
    by_subject = {c.subject: c for c in plan if "role" in c.kind}
    update = by_subject["data-auditor"]
    assert (update.action, update.severity) == ("update", "critical")  # a permission added reaches its holders
    assert "gains api.usage.read" in (update.weakens or "")
    revoke = by_subject["user alice@example.com: data-auditor"]
    assert (revoke.action, revoke.severity) == ("delete", "high")
    result = await apply(api, plan, safety=SafetyCheck.of(desired, observed, allow_unsafe=plan.digest()))
    assert result.ok, result
    assert held(emulator) == {("group", "group_sec", "data-auditor")}
    assert sorted(emulator.state.roles["role_old"].permissions) == ["api.audit_logs.read", "api.usage.read"]
    assert not (await plan_of(api, desired)).has_changes


async def test_project_roles_and_assignments_converge(tmp_path: Path, api: AdminApi, emulator: Emulator) -> None:
    desired = write_desired_state(tmp_path, "unmanaged_projects: ignore\n", {"support": SUPPORT_FILE})
    observed = await observe(api, desired)
    plan = diff(desired, observed)
    assert rows(plan) == [
        ("project_roles", "Support", "releaser", "create", "normal"),
        ("project_role_assignments", "Support", "group security: releaser", "create", "critical"),
        ("project_role_assignments", "Support", "user bob@example.com: Viewer", "create", "critical"),
        ("project_role_assignments", "Support", "user bob@example.com: releaser", "create", "critical"),
    ]
    result = await apply(api, plan, safety=SafetyCheck.of(desired, observed, allow_unsafe=plan.digest()))
    assert result.ok, result
    assert held(emulator, SUPPORT) == {
        ("user", "user-bob", "releaser"),
        ("user", "user-bob", "role-api-project-viewer"),
        ("group", "group_sec", "releaser"),
        ("group", "group_sec", "role-api-project-member"),
    }
    assert not (await plan_of(api, desired)).has_changes


async def test_a_role_neither_live_nor_declared_and_an_unknown_principal_are_uncorrectable(
    tmp_path: Path, api: AdminApi, emulator: Emulator
) -> None:
    text = (
        "organization:\n  role_assignments:\n"
        "    users: {alice@example.com: [ghost], carol@example.com: [old-auditor]}\n"
    )
    plan = await plan_of(api, write_desired_state(tmp_path, "unmanaged_projects: ignore\n" + text, {}))
    found = {c.subject: (c.action, c.severity, c.reason) for c in plan}
    assert found["user alice@example.com: ghost"][:2] == ("uncorrectable", "high")
    assert "no role named 'ghost'" in found["user alice@example.com: ghost"][2]
    assert "no user with this email" in found["user carol@example.com: old-auditor"][2]
    await apply(api, plan)
    assert emulator.requests.writes() == []


async def test_a_dry_run_only_reads_and_nothing_declared_reads_nothing(tmp_path: Path, emulator: Emulator) -> None:
    desired = write_desired_state(tmp_path, ORGANIZATION, {"support": SUPPORT_FILE})
    async with AdminApi.connect(admin_key=KEY, http_transport=emulator.http_transport(), read_only=True) as reader:
        assert (await plan_of(reader, desired)).has_changes
        assert emulator.requests.methods() == {"GET"}
        emulator.requests.clear()
        await plan_of(reader, write_desired_state(tmp_path / "plain", "unmanaged_projects: ignore\n", {}))
    assert [e.template for e in emulator.requests if "roles" in (e.template or "")] == []


async def test_export_then_the_plan_is_empty(tmp_path: Path, api: AdminApi, emulator: Emulator) -> None:
    emulator.state.roles["role_old"].description = "Reads the audit log"
    result = await export_organization(api, tmp_path / "out")
    assert result.desired is not None
    organization = result.desired.organization.organization
    assert organization.roles is not None and list(organization.roles.custom) == ["old-auditor"]
    assert organization.role_assignments is not None
    assert organization.role_assignments.users == {"alice@example.com": ["old-auditor"]}
    assert not (await plan_of(api, result.desired)).has_changes


async def test_export_of_a_project_s_roles_and_assignments_then_the_plan_is_empty(
    tmp_path: Path, api: AdminApi, emulator: Emulator
) -> None:
    desired = write_desired_state(tmp_path / "desired", "unmanaged_projects: ignore\n", {"support": SUPPORT_FILE})
    await converge(api, desired)
    plain = await export_organization(api, tmp_path / "plain")
    assert plain.desired is not None and plain.desired.projects[0].role_assignments is None, "not by default"
    result = await export_organization(api, tmp_path / "out", also=("project_role_assignments",))
    assert result.desired is not None
    (support,) = result.desired.projects
    assert support.roles is not None and list(support.roles.custom) == ["releaser"]
    assert support.role_assignments is not None
    assert (support.role_assignments.users, support.role_assignments.groups) == (
        {"bob@example.com": ["releaser"]},  # Viewer is built in: members' business, not exported
        {"security": ["releaser"]},
    )
    assert not (await plan_of(api, result.desired)).has_changes


async def test_explain_shows_the_custom_roles_a_project_s_members_hold(
    tmp_path: Path, api: AdminApi, emulator: Emulator
) -> None:
    assert ("custom roles", "none") in (await explain_access(api, SUPPORT, None)).lines
    desired = write_desired_state(tmp_path, "unmanaged_projects: ignore\n", {"support": SUPPORT_FILE})
    await converge(api, desired)
    lines = (await explain_access(api, SUPPORT, None)).lines
    assert ("custom roles", "group security: releaser, user bob@example.com: releaser") in lines


PIN = "organization:\n  groups:\n    definitions:\n      security: {id: group_sec}\n"
PINNED = ORGANIZATION.replace("organization:\n", PIN)


async def test_role_assignments_of_a_pinned_group_renamed_by_hand_follow_the_pin(
    tmp_path: Path, api: AdminApi, emulator: Emulator
) -> None:
    desired = write_desired_state(tmp_path, PINNED, {"support": SUPPORT_FILE})
    await converge(api, desired)
    emulator.state.groups["group_sec"].name = "security-renamed"  # by hand, after the grants
    plan = await plan_of(api, desired)
    # One change, the rename back; the grants still mean group_sec: not a finding, not granted anew.
    assert [(c.kind, c.action, c.subject) for c in plan.applicable] == [("organization_group", "update", "security")]
    assert not [c for c in plan if "role" in c.kind and c.action != "report"], rows(plan)
    assert not any("security-renamed" in (c.subject or "") for c in plan if "role" in c.kind)
    await converge(api, desired)
    assert emulator.state.groups["group_sec"].name == "security"
    assert ("group", "group_sec", "data-auditor") in held(emulator)
    assert ("group", "group_sec", "releaser") in held(emulator, SUPPORT)
    assert not [c for c in await plan_of(api, desired) if c.action not in ("report", "uncorrectable")]


async def test_without_a_pin_a_renamed_group_is_not_guessed_at(
    tmp_path: Path, api: AdminApi, emulator: Emulator
) -> None:
    desired = write_desired_state(tmp_path, ORGANIZATION, {"support": SUPPORT_FILE})
    await converge(api, desired)
    emulator.state.groups["group_sec"].name = "security-renamed"
    plan = await plan_of(api, desired)
    missing = [c for c in plan if c.kind == "organization_role_assignments" and "security" in (c.subject or "")]
    assert missing and all(c.action != "create" for c in missing), rows(plan)
    assert held(emulator) >= {("group", "group_sec", "data-auditor")}
