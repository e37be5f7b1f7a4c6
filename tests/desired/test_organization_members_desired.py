"""`organization.users` and `organization.groups` in organization.yaml: loaded, or refused at their position."""

from __future__ import annotations

from pathlib import Path

import pytest

from datacontrols.desired import load_desired_state
from datacontrols.errors import DesiredStateError


def write(root: Path, organization: str) -> Path:
    (root / "projects").mkdir(parents=True)
    (root / "organization.yaml").write_text(organization)
    return root


def test_users_roles_and_groups_with_members_load(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        "organization:\n"
        "  users: {mode: authoritative, roles: {alice@example.com: owner, bob@example.com: reader}}\n"
        "  groups:\n"
        "    definitions:\n"
        "      security: {members: [alice@example.com]}\n"
        "      empty: {}\n",
    )
    settings = load_desired_state(root).organization.organization
    assert settings.users is not None and settings.users.authoritative
    assert settings.users.roles == {"alice@example.com": "owner", "bob@example.com": "reader"}
    assert settings.groups is not None and not settings.groups.authoritative
    assert {n: d.members for n, d in settings.groups.definitions.items()} == {
        "security": ["alice@example.com"],
        "empty": [],
    }


@pytest.mark.parametrize(
    ("organization", "fragment"),
    [
        ("organization:\n  users:\n    roles: {a@x.io: member}\n", "organization.yaml:3:"),
        ("organization:\n  users:\n    roles: {a@x.io: member}\n", "'member' is not allowed"),
        ("organization:\n  users:\n    roles: {alice: owner}\n", "'alice' is not an email address"),
        ("organization:\n  users:\n    roles: {a@x.io: owner, A@X.io: reader}\n", "are the same address"),
        ("organization:\n  users:\n    mode: authoritive\n    roles: {}\n", "did you mean 'authoritative'"),
        ("organization:\n  users: {mode: additive}\n", "roles"),
        ("organization:\n  groups:\n    definitions:\n      s: {members: [a@x.io, A@x.io]}\n", "organization.yaml:4:"),
        ("organization:\n  groups:\n    definitions:\n      s: {members: [a@x.io, A@x.io]}\n", "same address"),
        ("organization:\n  groups:\n    definitions:\n      s: {people: []}\n", "people: unknown key"),
        ("organization:\n  groups:\n    groups: {}\n", "groups: unknown key"),
        ("organization:\n  users:\n    roles: [a@x.io]\n", "organization.yaml:3:"),
    ],
)
def test_broken_organization_members_are_refused_with_their_position(
    tmp_path: Path, organization: str, fragment: str
) -> None:
    with pytest.raises(DesiredStateError) as refused:
        load_desired_state(write(tmp_path, organization))
    assert any(fragment in str(problem) for problem in refused.value.problems), refused.value.problems
