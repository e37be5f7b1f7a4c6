"""`members:`, `keys:` and `invite_missing_users:` in desired-state files: loaded, merged, refused at their position."""

from __future__ import annotations

from pathlib import Path

import pytest

from datacontrols.desired import load_desired_state
from datacontrols.errors import DesiredStateError


def write(root: Path, organization: str, project: str) -> Path:
    (root / "projects").mkdir(parents=True)
    (root / "organization.yaml").write_text(organization)
    (root / "projects" / "p.yaml").write_text(project)
    return root


def test_members_keys_and_invites_load_and_keys_come_from_the_defaults(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        "invite_missing_users: true\nproject_defaults:\n  keys: {max_age_days: 90, user_keys: forbidden}\n",
        "name: P\nmembers:\n  mode: authoritative\n  users: {Alice@Example.com: owner}\n  groups: {}\n",
    )
    state = load_desired_state(root)
    (project,) = state.projects
    assert state.organization.invite_missing_users is True
    assert project.members is not None and project.members.authoritative
    assert (project.members.users, project.members.groups, project.members.service_accounts) == (
        {"Alice@Example.com": "owner"},
        {},
        None,
    )
    keys = state.effective(project).keys
    assert keys is not None and (keys.max_age_days, keys.user_keys, keys.prune) == (90, "forbidden", "report")


def test_a_project_s_keys_replace_the_defaults_whole(tmp_path: Path) -> None:
    root = write(tmp_path, "project_defaults:\n  keys: {max_age_days: 90}\n", "name: P\nkeys: {max_idle_days: 7}\n")
    state = load_desired_state(root)
    keys = state.effective(state.projects[0]).keys
    assert keys is not None and (keys.max_age_days, keys.max_idle_days) == (None, 7)


@pytest.mark.parametrize(
    ("project", "fragment"),
    [
        ("name: P\nmembers:\n  users: {alice: owner}\n", "p.yaml:3:"),
        ("name: P\nmembers:\n  users: {alice: owner}\n", "'alice' is not an email address"),
        ("name: P\nmembers:\n  users: {a@x.io: owner, A@X.io: member}\n", "are the same address"),
        ("name: P\nmembers:\n  users: {a@x.io: admin}\n", "'admin' is not allowed"),
        ("name: P\nmembers:\n  mode: authoritive\n", "did you mean 'authoritative'"),
        ("name: P\nmembers:\n  people: {}\n", "people: unknown key"),
        ("name: P\nkeys: {max_age_days: 0}\n", "keys.max_age_days"),
        ("name: P\nkeys: {prune: remove}\n", "'remove' is not allowed"),
        ("name: P\nkeys: {fix: expiry}\n", "add max_lifetime_days"),
        ("name: P\nkeys:\n  require_expiry: true\n  fix: expiry\n", "p.yaml:3:"),
        ("name: P\nkeys: {fix: rotate, max_lifetime_days: 30}\n", "'rotate' is not allowed"),
        ("name: P\nkeys: {fix: scopes}\n", "add allowed_scopes"),
        ("name: P\nkeys: {allowed_scopes: [a, a]}\n", "a scope is listed twice"),
        ("name: P\nkeys: {allowed_scopes: []}\n", "p.yaml:2:"),
    ],
)
def test_broken_access_settings_are_refused_with_their_position(tmp_path: Path, project: str, fragment: str) -> None:
    with pytest.raises(DesiredStateError) as refused:
        load_desired_state(write(tmp_path, "{}\n", project))
    (problem,) = refused.value.problems
    assert fragment in str(problem)


@pytest.mark.parametrize(
    ("organization", "fragment"),
    [
        ("organization:\n  admin_keys: {max_age_days: 0}\n", "organization.yaml:2:"),
        ("organization:\n  admin_keys: {owners: [a, a]}\n", "a is listed more than once"),
        ("organization:\n  admin_keys: {prune: delete}\n", "prune: unknown key"),
    ],
)
def test_broken_admin_key_rules_are_refused_with_their_position(
    tmp_path: Path, organization: str, fragment: str
) -> None:
    with pytest.raises(DesiredStateError) as refused:
        load_desired_state(write(tmp_path, organization, "name: P\n"))
    (problem,) = refused.value.problems
    assert fragment in str(problem)


def test_admin_key_rules_load(tmp_path: Path) -> None:
    root = write(tmp_path, "organization:\n  admin_keys: {max_idle_days: 30, owners: [user-abc]}\n", "name: P\n")
    rules = load_desired_state(root).organization.organization.admin_keys
    assert rules is not None and (rules.max_idle_days, rules.owners, rules.require_expiry) == (30, ["user-abc"], False)
