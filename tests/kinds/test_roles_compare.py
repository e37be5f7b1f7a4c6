"""`compare` of the custom role and role assignment kinds, on values made directly (no I/O)."""

from __future__ import annotations

from typing import Any

from kinds_support import desired_project

from datacontrols.adminapi.groups import ProjectRole
from datacontrols.adminapi.roles import HeldRole
from datacontrols.desired.roles import Roles
from datacontrols.desired.schema import DesiredState, OrganizationFile, OrganizationSettings
from datacontrols.kinds.base import NOT_CREATED, World
from datacontrols.kinds.custom_roles import OrganizationRoles, ProjectRoles
from datacontrols.kinds.role_assignments import AssignmentFacts, OrganizationRoleAssignments, ProjectRoleAssignments
from datacontrols.kinds.role_holders import Holder, ObservedHolders

VIEWER = ProjectRole(id="role-api-project-viewer", name="Viewer", permissions=["read"], predefined_role=True)
AUDITOR = ProjectRole(id="role_aud", name="auditor", permissions=["b", "a"], description="Audits")


def organization(**settings: Any) -> DesiredState:
    return DesiredState(organization=OrganizationFile(organization=OrganizationSettings(**settings)))


def summary(changes: list[Any]) -> list[tuple[str | None, str, str]]:
    return [(c.subject, c.action, c.severity) for c in changes]


def test_permission_order_and_an_absent_description_are_no_difference() -> None:
    desired = organization(roles={"custom": {"auditor": {"permissions": ["a", "b"]}}})
    assert OrganizationRoles().compare(desired, (AUDITOR,), World(desired=desired)) == []


def test_built_in_roles_are_never_reported_changed_or_deleted() -> None:
    for mode, action, severity in (("additive", "report", "normal"), ("authoritative", "delete", "high")):
        desired = organization(roles={"mode": mode})
        changes = OrganizationRoles().compare(desired, (VIEWER, AUDITOR), World(desired=desired))
        assert summary(changes) == [("auditor", action, severity)]


def test_permissions_added_are_critical_and_removed_high() -> None:
    project = desired_project(name="P", roles={"custom": {"auditor": {"permissions": ["a", "c"]}}})
    (change,) = ProjectRoles().compare(project, (VIEWER, AUDITOR), World(desired=DesiredState()))
    assert (change.action, change.severity) == ("update", "critical")
    assert change.fields["permissions"].before == ["a", "b"] and change.fields["permissions"].after == ["a", "c"]
    assert "gains c" in (change.weakens or "") and "loses b" in (change.disrupts or "")


def test_a_new_project_s_roles_are_all_created() -> None:
    project = desired_project(name="P", roles={"custom": {"auditor": {"permissions": ["a"]}}})
    assert summary(ProjectRoles().compare(project, NOT_CREATED, World(desired=DesiredState()))) == [
        ("auditor", "create", "normal")
    ]


def holders(*held: HeldRole, key: str = "a@x.io") -> ObservedHolders:
    return ObservedHolders(roles=(VIEWER, AUDITOR), holders=(Holder("user", key, "user-a", held=held),))


def test_authoritative_revokes_a_listed_principal_s_custom_roles_never_a_built_in_one() -> None:
    held = (HeldRole(id="role_aud", name="auditor"), HeldRole(id=VIEWER.id, name="Viewer", predefined_role=True))
    for mode, action in (("additive", "report"), ("authoritative", "delete")):
        desired = organization(role_assignments={"mode": mode, "users": {"A@x.io": []}})
        changes = OrganizationRoleAssignments().compare(desired, holders(*held), World(desired=desired))
        assert [(c.subject, c.action) for c in changes] == [("user A@x.io: auditor", action)]


def test_a_grant_of_a_declared_role_not_yet_created_resolves_it_at_apply_time() -> None:
    desired = organization(
        roles={"custom": {"releaser": {"permissions": ["deploy"]}}},
        role_assignments={"users": {"a@x.io": ["releaser", "auditor"]}},
    )
    changes = OrganizationRoleAssignments().compare(desired, holders(), World(desired=desired))
    assert summary(changes) == [
        ("user a@x.io: releaser", "create", "critical"),
        ("user a@x.io: auditor", "create", "critical"),
    ]
    assert [c.facts_as(AssignmentFacts).role_id for c in changes] == [None, "role_aud"]


def test_a_project_member_added_by_the_same_plan_is_given_its_roles_others_are_uncorrectable() -> None:
    project = desired_project(
        name="P",
        members={"users": {"carol@x.io": "member"}},
        role_assignments={"users": {"carol@x.io": ["Viewer"], "dave@x.io": ["Viewer"]}},
    )
    changes = ProjectRoleAssignments().compare(project, NOT_CREATED, World(desired=DesiredState()))
    assert summary(changes) == [
        ("user carol@x.io: Viewer", "uncorrectable", "high"),  # a new project lists no roles yet: not resolvable
        ("user dave@x.io: Viewer", "uncorrectable", "high"),
    ]
    live = ObservedHolders(roles=(VIEWER,))
    changes = ProjectRoleAssignments().compare(project, live, World(desired=DesiredState()))
    assert summary(changes) == [
        ("user carol@x.io: Viewer", "create", "critical"),
        ("user dave@x.io: Viewer", "uncorrectable", "high"),
    ]
    assert changes[0].facts_as(AssignmentFacts).principal_id is None
    assert "not in project P" in changes[1].reason


def test_an_inherited_role_is_not_a_direct_one() -> None:
    assert HeldRole(id="r").direct
    assert not HeldRole(id="r", assignment_sources=[{"principal_id": "g", "principal_type": "group"}]).direct
    assert Roles().custom == {}
