"""Custom roles and role assignments, reconciled through `ValidatingTransport`: every request and answer of
the role kinds (organization and project, roles and both kinds of principal) against the spec."""

from __future__ import annotations

from pathlib import Path

from test_contract_engine import reconcile_cycle

from testsupport.desired_files import write_desired_state

SEED = {
    "users": [
        {"id": "user-alice", "email": "alice@example.com", "name": "Alice", "role": "owner"},
        {"id": "user-bob", "email": "bob@example.com", "name": "Bob", "role": "reader"},
    ],
    "groups": [{"id": "group_sec", "name": "security", "users": ["alice@example.com"]}],
    "projects": [
        {
            "name": "Support",
            "users": [{"user": "bob@example.com", "role": "member"}],
            "groups": [{"group": "security", "role": "member"}],
        }
    ],
    "roles": [
        {"id": "role_old", "name": "old-auditor", "permissions": ["api.audit_logs.read"]},
        {"id": "role_wide", "name": "wide", "permissions": ["a"]},
    ],
    "role_assignments": [{"role": "role_old", "user": "alice@example.com"}],
}
ORGANIZATION = """\
unmanaged_projects: ignore
organization:
  roles:
    mode: authoritative
    custom:
      data-auditor: {permissions: [api.audit_logs.read], description: Reads the audit log}
      wide: {permissions: [a, b]}
  role_assignments:
    mode: authoritative
    users: {alice@example.com: [data-auditor]}
    groups: {security: [wide]}
"""
SUPPORT = """\
name: Support
roles: {custom: {releaser: {permissions: [api.model.deploy]}}}
role_assignments:
  users: {bob@example.com: [releaser, Viewer]}
  groups: {security: [releaser]}
"""


async def test_roles_and_assignments_reconcile_within_the_contract(tmp_path: Path) -> None:
    cycle = await reconcile_cycle(write_desired_state(tmp_path, ORGANIZATION, {"support": SUPPORT}), SEED)
    assert cycle.checked.violations == [], "\n".join(str(v) for v in cycle.checked.violations)
    assert cycle.result.ok, (cycle.result.failed, cycle.result.skipped)
    assert not cycle.after.has_changes, cycle.after.to_json()
    actions = {(c.kind, c.action) for c in cycle.before}
    assert {("organization_roles", a) for a in ("create", "update", "delete")} <= actions
    assert {("organization_role_assignments", "create"), ("project_role_assignments", "create")} <= actions
    written = {e.operation.operation_id for e in cycle.checked.exchanges if e.operation and e.operation.method != "GET"}
    assert len(written) >= 6, written
