"""`organization_user` and `organization_group` compare, as pure functions of the desired and observed values."""

from __future__ import annotations

from datacontrols.adminapi.groups import GroupUser, OrganizationGroup
from datacontrols.adminapi.members import OrganizationUser
from datacontrols.desired.organization_members import OrganizationGroupsSetting, OrganizationUsersSetting
from datacontrols.desired.schema import DesiredState, OrganizationFile, OrganizationSettings
from datacontrols.kinds.base import World
from datacontrols.kinds.directory import ADMIN_IDENTITY, AdminIdentity, Directory, GroupDirectory
from datacontrols.kinds.organization_groups import GroupFacts, ObservedGroupMembers, OrganizationGroupMembers
from datacontrols.kinds.organization_user_roles import OrganizationUserRoles

ALICE = OrganizationUser(id="u-a", email="alice@x.io", role="owner")
BOB = OrganizationUser(id="u-b", email="bob@x.io", role="owner")


def desired(**settings: object) -> DesiredState:
    return DesiredState(organization=OrganizationFile(organization=OrganizationSettings(**settings)))  # type: ignore[arg-type]


def test_nothing_declared_plans_nothing() -> None:
    state = desired()
    assert not OrganizationUserRoles().manages(state) and not OrganizationGroupMembers().manages(state)
    assert OrganizationUserRoles().compare(state, Directory((ALICE,)), World(desired=state)) == []


def test_demoting_every_owner_refuses_each_demotion_and_a_promotion_lifts_the_refusal() -> None:
    state = desired(users=OrganizationUsersSetting(roles={"alice@x.io": "reader", "bob@x.io": "reader"}))
    found = OrganizationUserRoles().compare(state, Directory((ALICE, BOB)), World(desired=state))
    assert [c.action for c in found] == ["uncorrectable", "uncorrectable"]
    assert all("without an owner" in c.reason for c in found)
    carol = OrganizationUser(id="u-c", email="carol@x.io", role="reader")
    state = desired(
        users=OrganizationUsersSetting(roles={"alice@x.io": "reader", "bob@x.io": "reader", "carol@x.io": "owner"})
    )
    found = OrganizationUserRoles().compare(state, Directory((ALICE, BOB, carol)), World(desired=state))
    assert sorted((c.action, c.subject) for c in found) == [
        ("update", "alice@x.io"),
        ("update", "bob@x.io"),
        ("update", "carol@x.io"),
    ]


def test_the_key_owner_refused_stays_an_owner_so_another_owner_may_go() -> None:
    state = desired(users=OrganizationUsersSetting(roles={"alice@x.io": "reader", "bob@x.io": "reader"}))
    world = World(desired=state, organization={ADMIN_IDENTITY: AdminIdentity("user:u-a")})
    found = {c.subject: c.action for c in OrganizationUserRoles().compare(state, Directory((ALICE, BOB)), world)}
    assert found == {"alice@x.io": "uncorrectable", "bob@x.io": "update"}


def test_groups_of_one_name_unread_members_and_people_outside_the_organization_are_findings() -> None:
    groups = GroupDirectory(
        (
            OrganizationGroup(id="g1", name="twin"),
            OrganizationGroup(id="g2", name="twin"),
            OrganizationGroup(id="g3", name="unread"),
        )
    )
    setting = OrganizationGroupsSetting.model_validate(
        {"definitions": {"twin": {}, "unread": {}, "new": {"members": ["alice@x.io", "ghost@x.io"]}}}
    )
    state = desired(groups=setting)
    observed = ObservedGroupMembers(groups, {}, Directory((ALICE,)))
    found = {c.subject: c for c in OrganizationGroupMembers().compare(state, observed, World(desired=state))}
    assert found["twin"].action == "report" and "2 groups are named 'twin'" in found["twin"].reason
    assert found["unread"].action == "report" and "not read" in found["unread"].reason
    assert found["new: ghost@x.io"].action == "report" and found["new: ghost@x.io"].severity == "high"
    created = found["new"]
    assert created.action == "create" and created.facts_as(GroupFacts).new_members == ("u-a",)


def test_a_member_already_in_the_group_is_matched_without_regard_to_case() -> None:
    groups = GroupDirectory((OrganizationGroup(id="g1", name="ops"),))
    state = desired(
        groups=OrganizationGroupsSetting.model_validate({"definitions": {"ops": {"members": ["Alice@X.io"]}}})
    )
    observed = ObservedGroupMembers(groups, {"g1": (GroupUser(id="u-a", email="alice@x.io"),)})
    assert OrganizationGroupMembers().compare(state, observed, World(desired=state)) == []
