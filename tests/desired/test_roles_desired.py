"""`roles:` and `role_assignments:` in desired-state files: loaded, merged, refused at their position."""

from __future__ import annotations

from pathlib import Path

import pytest

from datacontrols.desired import load_desired_state
from datacontrols.errors import DesiredStateError

ORGANIZATION = """\
organization:
  roles:
    mode: authoritative
    custom:
      data-auditor: {permissions: [api.audit_logs.read], description: Reads the audit log}
  role_assignments:
    users: {alice@example.com: [data-auditor]}
    groups: {security: [data-auditor]}
project_defaults:
  roles: {custom: {releaser: {permissions: [api.model.deploy]}}}
"""


def write(root: Path, organization: str, project: str) -> Path:
    (root / "projects").mkdir(parents=True)
    (root / "organization.yaml").write_text(organization)
    (root / "projects" / "p.yaml").write_text(project)
    return root


def test_roles_and_assignments_load_and_project_roles_come_from_the_defaults(tmp_path: Path) -> None:
    state = load_desired_state(
        write(tmp_path, ORGANIZATION, "name: P\nrole_assignments: {users: {bob@example.com: [releaser]}}\n")
    )
    organization = state.organization.organization
    assert organization.roles is not None and organization.roles.authoritative
    assert organization.roles.custom["data-auditor"].permissions == ["api.audit_logs.read"]
    assert organization.role_assignments is not None and not organization.role_assignments.authoritative
    assert organization.role_assignments.role_names() == {"data-auditor"}
    (project,) = state.projects
    roles = state.effective(project).roles
    assert roles is not None and list(roles.custom) == ["releaser"]
    assert project.role_assignments is not None and project.role_assignments.users == {"bob@example.com": ["releaser"]}


def test_a_project_s_roles_replace_the_defaults_whole(tmp_path: Path) -> None:
    state = load_desired_state(write(tmp_path, ORGANIZATION, "name: P\nroles: {custom: {}}\n"))
    roles = state.effective(state.projects[0]).roles
    assert roles is not None and roles.custom == {}


@pytest.mark.parametrize(
    ("project", "fragment"),
    [
        ("name: P\nrole_assignments:\n  users: {bob: [releaser]}\n", "p.yaml:3:"),
        ("name: P\nrole_assignments:\n  users: {bob: [releaser]}\n", "'bob' is not an email address"),
        ("name: P\nrole_assignments:\n  users: {a@x.io: [r], A@X.io: [r]}\n", "are the same address"),
        ("name: P\nrole_assignments:\n  groups: {ops: [r, r]}\n", "role 'r' is listed twice"),
        ("name: P\nrole_assignments:\n  groups: {ops: r}\n", "p.yaml:3:"),
        ("name: P\nrole_assignments:\n  mode: authoritive\n", "did you mean 'authoritative'"),
        ("name: P\nroles:\n  custom:\n    r: {permissions: [a, a]}\n", "permission 'a' is listed twice"),
        ("name: P\nroles:\n  custom:\n    r: {permissions: [a], grants: []}\n", "p.yaml:4:"),
        ("name: P\nroles:\n  custom:\n    r: {description: no permissions}\n", "permissions"),
        ("name: P\nroles:\n  data-auditor: {permissions: [a]}\n", "data-auditor: unknown key"),
    ],
)
def test_broken_role_settings_are_refused_with_their_position(tmp_path: Path, project: str, fragment: str) -> None:
    with pytest.raises(DesiredStateError) as refused:
        load_desired_state(write(tmp_path, "{}\n", project))
    (problem,) = refused.value.problems
    assert fragment in str(problem)


def test_role_assignments_belong_to_a_project_file_not_the_defaults(tmp_path: Path) -> None:
    organization = "project_defaults:\n  role_assignments: {users: {a@x.io: [r]}}\n"
    with pytest.raises(DesiredStateError) as refused:
        load_desired_state(write(tmp_path, organization, "name: P\n"))
    (problem,) = refused.value.problems
    assert "organization.yaml:2:" in str(problem) and "role_assignments" in str(problem)
