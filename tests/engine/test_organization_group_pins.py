"""organization.groups with `id:` pins against the emulator: a group renamed by hand is renamed back, not
created a second time nor deleted as undeclared; a pin the organization lacks, a name another group holds and
two files pinning one id are never guessed at."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from members_support import emulator, organization, plan, reconcile
from pydantic import ValidationError

from datacontrols.desired.members import Members
from datacontrols.desired.organization_members import OrganizationGroupsSetting
from datacontrols.desired.schema import DesiredState, OrganizationFile, OrganizationSettings, ProjectFile
from datacontrols.emulator import Emulator
from datacontrols.plan import Plan


def state(groups: dict[str, Any]) -> DesiredState:
    settings = OrganizationSettings(groups=OrganizationGroupsSetting.model_validate(groups))
    return DesiredState(organization=OrganizationFile(organization=settings))


def seeded(groups: list[dict[str, Any]]) -> Emulator:
    found = organization()
    found["groups"] = groups
    return emulator(found)


def names(emu: Emulator) -> dict[str, str]:
    return {g.id: g.name for g in emu.state.groups.values()}


def ours(found: Plan) -> list[tuple[str, str | None]]:
    return [(c.action, c.subject) for c in found if c.kind == "organization_group"]


def test_a_pinned_group_renamed_by_hand_is_renamed_back_and_keeps_its_members() -> None:
    emu = seeded([{"id": "group_sec", "name": "security-old", "users": ["alice@example.com"]}])
    desired = state(
        {
            "mode": "authoritative",
            "definitions": {"security": {"id": "group_sec", "members": ["alice@example.com", "bob@example.com"]}},
        }
    )
    run = asyncio.run(reconcile(emu, desired))
    renamed = next(c for c in run.before if c.action == "update")
    assert (renamed.subject, renamed.fields["name"].before, renamed.fields["name"].after) == (
        "security",
        "security-old",
        "security",
    )
    assert renamed.severity == "normal" and renamed.weakens is None and renamed.disrupts is None
    # Not deleted as undeclared, not created again; its member change names it as the file does.
    assert ours(run.before) == [("update", "security"), ("create", "security: bob@example.com")]
    assert run.result.ok and names(emu) == {"group_sec": "security"}
    assert sorted(emu.state.groups["group_sec"].user_ids) == ["user-alice", "user-bob"]
    assert ours(run.after) == []


def test_without_a_pin_the_renamed_group_is_another_group() -> None:
    emu = seeded([{"id": "group_sec", "name": "security-old"}])
    found = asyncio.run(plan(emu, state({"mode": "authoritative", "definitions": {"security": {}}})))
    assert ours(found) == [("create", "security"), ("delete", "security-old")]


def test_a_pin_the_organization_does_not_have_is_uncorrectable() -> None:
    emu = seeded([{"id": "group_sec", "name": "security"}])
    found = asyncio.run(plan(emu, state({"definitions": {"security": {"id": "group_gone"}}})))
    change = next(c for c in found if c.subject == "security")
    assert change.action == "uncorrectable" and "group_gone" in change.reason and "remove `id:`" in change.reason
    assert not any(c.action == "create" for c in found), "a group is never created in place of a pinned one"


def test_a_rename_back_onto_a_name_another_group_holds_is_reported_not_written() -> None:
    emu = seeded([{"id": "group_sec", "name": "renamed"}, {"id": "group_other", "name": "security"}])
    found = asyncio.run(plan(emu, state({"definitions": {"security": {"id": "group_sec"}}})))
    blocked = next(c for c in found if c.subject == "security")
    assert blocked.action == "report" and blocked.severity == "high" and "other group(s)" in blocked.reason
    assert not found.applicable


def test_a_pinned_group_renamed_to_another_declared_name_stays_the_pinned_one() -> None:
    emu = seeded([{"id": "group_sec", "name": "ops"}])
    desired = state({"definitions": {"security": {"id": "group_sec"}, "ops": {}}})
    run = asyncio.run(reconcile(emu, desired))
    assert ours(run.before) == [("update", "security"), ("create", "ops")]
    assert run.result.ok and sorted(names(emu).values()) == ["ops", "security"]
    assert names(emu)["group_sec"] == "security"
    assert ours(run.after) == []


def test_a_scim_managed_group_renamed_is_reported_only() -> None:
    emu = seeded([{"id": "group_idp", "name": "idp-renamed", "scim_managed": True}])
    found = asyncio.run(plan(emu, state({"definitions": {"from-idp": {"id": "group_idp"}}})))
    assert ours(found) == [("report", "from-idp")] and not found.applicable


def test_two_groups_pinned_to_one_id_are_refused() -> None:
    with pytest.raises(ValidationError, match="both pinned to group_x"):
        OrganizationGroupsSetting.model_validate({"definitions": {"a": {"id": "group_x"}, "b": {"id": "group_x"}}})


def test_a_project_grant_of_a_pinned_group_renamed_by_hand_is_kept_while_the_group_is_renamed_back() -> None:
    found = organization(groups=[{"group": "ops", "role": "member"}])
    emu = emulator(found)
    emu.state.groups["group_ops"].name = "ops-renamed"  # by hand, after the grant
    settings = OrganizationSettings(
        groups=OrganizationGroupsSetting.model_validate({"definitions": {"ops": {"id": "group_ops"}}})
    )
    desired = DesiredState(
        organization=OrganizationFile(organization=settings),
        projects=(ProjectFile(name="P", members=Members(mode="authoritative", groups={"ops": "member"})),),
    )
    run = asyncio.run(reconcile(emu, desired))
    # Without the pin resolving the project's "ops", the grant would be revoked as undeclared and granted anew.
    assert [(c.kind, c.action, c.subject) for c in run.before.applicable] == [("organization_group", "update", "ops")]
    assert run.result.ok and names(emu)["group_ops"] == "ops"
    assert not run.after.applicable
