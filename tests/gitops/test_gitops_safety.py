"""Thresholds and held-back changes, as pure functions of plans and observations."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from datacontrols.adminapi.members import OrganizationUser
from datacontrols.adminapi.projects import Project
from datacontrols.desired import load_desired_state
from datacontrols.desired.safety import SafetySettings
from datacontrols.desired.schema import DesiredState, OrganizationFile, ProjectFile
from datacontrols.engine import Observed, diff
from datacontrols.errors import DesiredStateError, UnsafePlanError
from datacontrols.kinds.directory import Directory
from datacontrols.kinds.membership import MemberFacts
from datacontrols.plan import Change, FieldChange, Plan
from datacontrols.safety import (
    Population,
    SafetyCheck,
    breaches,
    count_items,
    enforce,
    loses_owner,
    population,
    restrict,
)


def archive(project: str) -> Change:
    return Change(
        action="archive", kind="project", project=project, fields={"status": FieldChange("active", "archived")}
    )


def delete(kind: str, project: str, subject: str, role_before: str | None = None) -> Change:
    """A removal; with `role_before`, a member's, carrying the facts the member kinds record."""
    if role_before is None:
        return Change(action="delete", kind=kind, project=project, subject=subject)
    facts = MemberFacts(principal=f"user:{subject}", role_before=role_before)
    return Change(action="delete", kind=kind, project=project, subject=subject, facts=facts)


def update(kind: str, project: str) -> Change:
    return Change(action="update", kind=kind, project=project, fields={"x": FieldChange(1, 2)})


def live(*names: str, archived: tuple[str, ...] = ()) -> list[Project]:
    return [
        Project(id=f"proj_{n}", name=n, status="archived" if n in archived else "active") for n in (*names, *archived)
    ]


def check(pop: Population | None = None, allow: str | None = None, **settings: Any) -> SafetyCheck:
    return SafetyCheck(settings=SafetySettings.model_validate(settings), population=pop, allow_unsafe=allow)


# --- populations ---------------------------------------------------------------------------------------------


def test_items_are_counted_generically() -> None:
    assert count_items(None) == 0
    assert count_items([1, 2, 3]) == 3
    assert count_items({"a": 1, "b": 2}) == 2
    assert count_items("zero_data_retention") == 1
    assert count_items(Project(id="p")) == 1


def test_population_of_an_observation() -> None:
    observed = Observed(
        projects=live("A", "B", archived=("Old",)),
        organization={"organization_data_retention": "zero_data_retention"},
        settings={
            "proj_A": {"project_user": ["u1", "u2", "u3"], "project_model_permissions": None},
            "proj_B": {"project_user": ["u4"], "project_hosted_tools": {"mcp": True, "web_search": False}},
        },
    )
    found = population(observed)
    assert found.live_projects == 2
    assert found.of("removals", "project_user") == 4
    assert found.of("removals", "project_model_permissions") == 0
    assert found.of("archives") == 2
    assert found.of("updates") == 4 + 0 + 2 + 1 + 2  # every item, plus one per live project


def test_organization_values_read_for_the_projects_sake_are_not_settings() -> None:
    observed = Observed(
        projects=live("A"),
        organization={
            "organization_data_retention": "zero_data_retention",
            "organization_users": Directory(tuple(OrganizationUser(id=f"user-{i}") for i in range(500))),
        },
    )
    managing = DesiredState(
        organization=OrganizationFile.model_validate({"organization": {"data_retention": "zero_data_retention"}})
    )
    assert population(observed).of("updates") == 1 + 500 + 1
    assert population(observed, managing).of("updates") == 1 + 1
    assert population(observed, DesiredState()).of("updates") == 1


# --- thresholds ----------------------------------------------------------------------------------------------


def test_archiving_3_of_4_projects_breaches_and_names_the_numbers() -> None:
    plan = Plan.of([archive("A"), archive("B"), archive("C")])
    found = breaches(plan, check(Population(live_projects=4)))
    assert [(b.category, b.count, b.population) for b in found] == [("archives", 3, 4)]
    with pytest.raises(UnsafePlanError) as refused:
        enforce(plan, check(Population(live_projects=4)))
    message = refused.value.message
    assert "archives: 3 projects archived of 4 live active projects, 75%," in message
    assert "more than safety.archives.max_percent 25% (which applies from 2 changes)" in message
    assert f"--allow-unsafe {plan.digest()}" in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("changes", "live_projects", "refused"),
    [
        (1, 3, False),  # the demo: one archive of three, under min_changes
        (1, 1, False),  # 100%, but a single change
        (2, 8, False),  # exactly 25%: not more than
        (2, 7, True),  # 28.6%
        (3, 4, True),
    ],
)
def test_archive_threshold_table(changes: int, live_projects: int, refused: bool) -> None:
    plan = Plan.of([archive(f"P{i}") for i in range(changes)])
    assert bool(breaches(plan, check(Population(live_projects=live_projects)))) is refused


def test_removals_are_judged_kind_by_kind() -> None:
    pop = Population(items_by_kind={"project_user": 4, "spend_alert": 2, "project_model_permissions": 1})
    # One policy and one alert: not a bulk removal, whatever their shares.
    mixed = Plan.of([delete("project_model_permissions", "A", "p"), delete("spend_alert", "A", "900")])
    assert breaches(mixed, check(pop)) == []
    # Three of four members: refused, and the message names the kind.
    members = Plan.of([delete("project_user", "A", f"u{i}@example.com") for i in range(3)])
    [breach] = breaches(members, check(pop))
    assert (breach.category, breach.kind, breach.count, breach.population) == ("removals", "project_user", 3, 4)
    assert breach.describe().startswith("removals (project_user): 3 items deleted of 4 live project_user items, 75%,")


def test_updates_need_ten_changes_and_half_of_what_is_managed() -> None:
    nine = Plan.of([update("project_hosted_tools", f"P{i}") for i in range(9)])
    ten = Plan.of([update("project_hosted_tools", f"P{i}") for i in range(10)])
    assert breaches(nine, check(Population(settings=10))) == []
    assert breaches(ten, check(Population(settings=20))) == []  # 50% is not more than 50%
    assert [b.category for b in breaches(ten, check(Population(settings=19)))] == ["updates"]


def test_max_changes_caps_whatever_the_share() -> None:
    plan = Plan.of([delete("project_user", "A", f"u{i}") for i in range(4)])
    pop = Population(items_by_kind={"project_user": 1000})
    assert breaches(plan, check(pop)) == []
    [breach] = breaches(plan, check(pop, removals={"max_changes": 3}))
    assert breach.by_count and "more than safety.removals.max_changes 3" in breach.describe()


def test_changes_on_projects_created_in_the_same_plan_and_held_changes_do_not_count() -> None:
    created = Change(action="create", kind="project", project="New", fields={"name": FieldChange(None, "New")})
    new_settings = [update("project_hosted_tools", "New") for _ in range(12)]
    held = [dataclasses.replace(archive(f"P{i}"), enforcement="report") for i in range(3)]
    plan = Plan.of([created, *new_settings, *held])
    assert breaches(plan, check(Population(live_projects=4, settings=1))) == []


def test_without_a_population_the_default_refuses_bulk_changes() -> None:
    two = Plan.of([archive("A"), archive("B")])
    one = Plan.of([archive("A")])
    assert breaches(one, SafetyCheck()) == []
    [breach] = breaches(two, SafetyCheck())
    assert breach.population is None and "(how many are managed is unknown)" in breach.describe()


def test_allow_unsafe_acknowledges_exactly_this_plan() -> None:
    plan = Plan.of([archive("A"), archive("B"), archive("C")])
    pop = Population(live_projects=4)
    enforce(plan, check(pop, allow=plan.digest()))  # no error
    enforce(plan, check(pop, allow=f"  {plan.digest().upper()} "))  # pasted with spaces, in capitals
    other = Plan.of([archive("A"), archive("B"), archive("D")])
    with pytest.raises(UnsafePlanError, match="which is not this plan"):
        enforce(other, check(pop, allow=plan.digest()))


def test_safety_settings_come_from_organization_yaml(tmp_path: Path) -> None:
    (tmp_path / "organization.yaml").write_text(
        "safety:\n  removals: {max_percent: 10, max_changes: 50}\n  updates: {min_changes: 3}\n"
    )
    settings = load_desired_state(tmp_path).organization.safety
    assert (settings.removals.max_percent, settings.removals.min_changes, settings.removals.max_changes) == (10, 2, 50)
    assert (settings.updates.max_percent, settings.updates.min_changes) == (50, 3)
    assert settings.archives == SafetySettings().archives

    (tmp_path / "organization.yaml").write_text("safety:\n  removals: {max_percent: 150}\n  archive: {}\n")
    with pytest.raises(DesiredStateError) as problems:
        load_desired_state(tmp_path)
    where = {(p.line, p.field) for p in problems.value.problems}
    assert where == {(2, "safety.removals.max_percent"), (3, "safety.archive")}


# --- held changes --------------------------------------------------------------------------------------------


def desired(*files: ProjectFile) -> DesiredState:
    return DesiredState(organization=OrganizationFile(), projects=files)


def test_protected_projects_are_never_archived_and_never_lose_owners() -> None:
    state = desired(ProjectFile(name="Vault", protected=True), ProjectFile(name="Other"))
    owner_removal = delete("project_user", "Vault", "boss@example.com", role_before="owner")
    member_removal = delete("project_user", "Vault", "temp@example.com", role_before="member")
    demotion = Change(
        action="update",
        kind="project_group",
        project="Vault",
        subject="admins",
        fields={"role": FieldChange("owner", "member")},
    )
    plan = Plan.of([archive("Vault"), owner_removal, member_removal, demotion, archive("Other")])
    restricted = restrict(plan, state)
    held = {(c.kind, c.subject) for c in restricted if c.enforcement == "report"}
    assert held == {("project", None), ("project_user", "boss@example.com"), ("project_group", "admins")}
    assert all(c.reason.endswith("(not applied: the project is protected)") for c in restricted if not c.applies)
    assert [c.project for c in restricted.applicable if c.action == "archive"] == ["Other"]
    assert restrict(restricted, state) == restricted, "idempotent"


@pytest.mark.parametrize(
    ("change", "loses"),
    [
        (delete("project_user", "P", "a", role_before="owner"), True),
        (delete("project_user", "P", "a", role_before="member"), False),
        (delete("project_service_account", "P", "bot"), True),  # role unknown: assume an owner
        (
            Change(action="update", kind="project_user", project="P", fields={"role": FieldChange("owner", "member")}),
            True,
        ),
        (
            Change(action="update", kind="project_user", project="P", fields={"role": FieldChange("member", "owner")}),
            False,
        ),
        (delete("spend_alert", "P", "900"), False),
    ],
)
def test_what_loses_an_owner(change: Change, loses: bool) -> None:
    assert loses_owner(change) is loses


def test_no_removals_holds_every_delete_and_archive() -> None:
    plan = Plan.of([archive("A"), delete("project_user", "B", "x"), update("project_hosted_tools", "B")])
    restricted = restrict(plan, desired(), no_removals=True)
    assert [c.action for c in restricted.applicable] == ["update"]
    assert sum(c.reason.endswith("(not applied: --no-removals)") for c in restricted) == 2
    assert restricted.has_changes, "held removals are still drift"
    assert restrict(plan, desired()) == plan


def test_diff_holds_the_archive_of_a_protected_project() -> None:
    state = desired(ProjectFile(name="Vault", status="archived", protected=True))
    observed = Observed(projects=[Project(id="proj_vault", name="Vault", status="active")])
    [change] = diff(state, observed).changes
    assert (change.action, change.applies) == ("archive", False)
    assert change.reason.endswith("(not applied: the project is protected)")
