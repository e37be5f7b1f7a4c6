"""Access against the spec, strictly: every request the access families send and every answer the emulator
gives is validated by `ValidatingTransport` (undocumented fields forbidden), through the client and through a
whole reconcile (plan, apply, plan again)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from contract_support import ValidatingTransport, require_spec

from datacontrols.adminapi import AdminApi
from datacontrols.desired.members import KeyHygiene, Members
from datacontrols.desired.schema import DesiredState, OrganizationFile, ProjectFile
from datacontrols.emulator import Emulator
from datacontrols.engine import DEFAULT_REGISTRY, apply, diff, observe
from datacontrols.kinds.service_accounts import with_secret_sink
from datacontrols.safety import SafetyCheck

require_spec()

ACCESS_OPERATIONS = frozenset(
    {
        "list-users",
        "list-project-users",
        "create-project-user",
        "retrieve-project-user",
        "modify-project-user",
        "delete-project-user",
        "list-invites",
        "inviteUser",
        "delete-invite",
        "list-groups",
        "list-project-roles",
        "list-project-groups",
        "add-project-group",
        "remove-project-group",
        "list-project-group-role-assignments",
        "assign-project-group-role",
        "unassign-project-group-role",
        "list-project-service-accounts",
        "create-project-service-account",
        "retrieve-project-service-account",
        "update-project-service-account",
        "delete-project-service-account",
        "list-project-api-keys",
        "retrieve-project-api-key",
        "delete-project-api-key",
        "admin-api-keys-list",
    }
)
NOW = 1_780_000_000
SEED: dict[str, Any] = {
    "users": [
        {"id": "user-alice", "email": "alice@example.com", "role": "owner"},
        {"id": "user-bob", "email": "bob@example.com"},
        {"id": "user-mallory", "email": "mallory@example.com"},
    ],
    "groups": [{"id": "group_ds", "name": "data-science"}, {"id": "group_ops", "name": "ops"}],
    "admin_api_keys": [{"id": "key_admin", "redacted_value": "sk-admin...789", "owner": {"id": "user-alice"}}],
    "projects": [
        {
            "id": "proj_contractaccess000000001",
            "name": "P",
            "users": [
                {"user": "alice@example.com", "role": "owner"},
                {"user": "bob@example.com", "role": "owner"},
                {"user": "mallory@example.com", "role": "member"},
            ],
            "groups": [{"group": "ops", "role": "member"}],
            "service_accounts": [{"name": "old", "role": "member"}],
            "api_keys": [
                {"id": "key_old", "owner": {"type": "user", "id": "bob@example.com"}, "created_at": NOW - 400 * 86_400},
                {"id": "key_sa", "owner": {"type": "service_account", "id": "old"}, "created_at": NOW - 400 * 86_400},
            ],
        }
    ],
}


async def test_a_whole_access_reconcile_conforms(
    api: AdminApi, emulator: Emulator, checked: ValidatingTransport, tmp_path: Path
) -> None:
    emulator.load_seed(SEED)
    members = Members(
        mode="authoritative",
        users={"alice@example.com": "owner", "bob@example.com": "member", "erin@example.com": "member"},
        groups={"data-science": "owner"},
        service_accounts={"etl": "member", "ingest": "owner"},
    )
    state = DesiredState(
        organization=OrganizationFile(invite_missing_users=True),
        projects=(ProjectFile(name="P", members=members, keys=KeyHygiene(max_age_days=90, prune="delete")),),
    )
    kinds = dataclasses.replace(DEFAULT_REGISTRY, project=with_secret_sink(DEFAULT_REGISTRY.project, tmp_path))
    observed = await observe(api, state, kinds)
    before = diff(state, observed, kinds)
    result = await apply(api, before, kinds, safety=SafetyCheck.of(state, observed, allow_unsafe=before.digest()))
    assert result.ok, result.failed
    after = diff(state, await observe(api, state, kinds), kinds)
    assert not after.has_changes
    assert checked.violations == []
    assert len(checked.exchanges) == len(emulator.requests)


async def test_every_access_operation_is_exercised(
    api: AdminApi, emulator: Emulator, checked: ValidatingTransport
) -> None:
    emulator.load_seed(SEED)
    project = "proj_contractaccess000000001"
    await api.organization_users.list()
    assert await api.project_users.retrieve(project, "user-alice") is not None
    await api.project_users.modify(project, "user-bob", "member")
    await api.project_users.remove(project, "user-mallory")
    await api.project_users.add(project, "user-mallory", "member")
    await api.project_users.list(project)
    invite = await api.invites.create("erin@example.com")
    await api.invites.list()
    await api.invites.delete(invite.id)
    await api.groups.list()
    await api.project_roles.list(project)
    await api.project_groups.add(project, "group_ds", "role-api-project-member")
    await api.project_groups.assign_role(project, "group_ds", "role-api-project-owner")
    await api.project_groups.unassign_role(project, "group_ds", "role-api-project-member")
    await api.project_groups.roles(project, "group_ds")
    await api.project_groups.remove(project, "group_ds")
    await api.project_groups.list(project)
    created = await api.service_accounts.create(project, "etl", with_key=False)
    await api.service_accounts.retrieve(project, created.id)
    await api.service_accounts.update(project, created.id, role="owner")
    await api.service_accounts.delete(project, created.id)
    await api.service_accounts.list(project)
    await api.project_api_keys.retrieve(project, "key_old")
    await api.project_api_keys.delete(project, "key_old")
    await api.project_api_keys.list(project)
    await api.admin_api_keys.list()
    print("\n" + checked.coverage_report())
    assert checked.violations == []
    missing = ACCESS_OPERATIONS - checked.operations_exercised()
    assert not missing, sorted(missing)
