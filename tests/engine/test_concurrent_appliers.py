"""Two appliers started together: projects cannot be deleted, so a duplicate created by a race is permanent.

Each race runs two `reconcile(..., Intent(apply=True))` side by side (two clients, one emulator) with 0.25 s
of latency on every request, so both observe before either creates: each plans the same three creates.
"""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from datacontrols.adminapi import AdminApi
from datacontrols.desired.limits import SpendAlert
from datacontrols.desired.members import Members
from datacontrols.desired.organization_members import OrganizationGroupsSetting
from datacontrols.desired.schema import DesiredState, OrganizationFile, OrganizationSettings, ProjectFile
from datacontrols.emulator import Emulator, FaultConfig
from datacontrols.engine import diff, observe
from datacontrols.reconcile import Intent, Outcome, reconcile

pytestmark = pytest.mark.settle  # writers race here: keep the real settle wait

ADMIN_KEY = "sk-admin-race-tests-0123456789abcdef"
NAMES = ("Alpha", "Beta", "Gamma")
LATENCY = 0.25


def desired_state(*, accounts: bool = True) -> DesiredState:
    members = Members(service_accounts={"etl": "member"}) if accounts else None
    projects = tuple(ProjectFile(name=name, data_retention="zero_data_retention", members=members) for name in NAMES)
    return DesiredState(organization=OrganizationFile(unmanaged_projects="ignore"), projects=projects)


def connect(emu: Emulator) -> AdminApi:
    return AdminApi.connect(admin_key=ADMIN_KEY, http_transport=emu.http_transport())


def active_names(emu: Emulator) -> Counter[str]:
    return Counter(p.name for p in emu.state.projects.values() if p.status == "active")


async def race(emu: Emulator, head_start: float) -> tuple[Outcome, Outcome]:
    state = desired_state()

    async def one(delay: float) -> Outcome:
        await asyncio.sleep(delay)
        async with connect(emu) as api:
            return await reconcile(api, state, Intent(apply=True))

    first, second = await asyncio.gather(one(0.0), one(head_start))
    return first, second


# Started together (both create; the newer of each pair is archived by its own creator), a little apart (the
# same, the second's creates landing later), and two requests apart (the second's check before sending sees
# the first's projects, and it creates nothing).
@pytest.mark.parametrize("head_start", [0.0, 0.1, 0.6])
async def test_two_appliers_racing_to_create_the_same_projects_leave_no_duplicate(head_start: float) -> None:
    emu = Emulator(admin_key=ADMIN_KEY, rng_seed=7, faults=FaultConfig(latency=LATENCY))
    first, second = await race(emu, head_start)

    names = active_names(emu)
    duplicates = sum(count - 1 for name, count in names.items() if name in NAMES)
    assert duplicates == 0, f"duplicate active projects: {dict(names)}"
    # Both runs planned the creates (the race is real), and neither lost a write: every project has its setting.
    assert all(sum(c.action == "create" and c.kind == "project" for c in o.plan) == len(NAMES) for o in (first, second))
    results = [o.result for o in (first, second)]
    assert all(r is not None and not r.failed and not r.skipped for r in results), results
    # Each project was raced once, and the applier that lost said so.
    notes = [note for r in results if r is not None for c, note in r.notes if c.kind == "project"]
    assert len(notes) == len(NAMES), notes
    archived = sum(p.status == "archived" for p in emu.state.projects.values())
    assert archived == sum("was archived" in n for n in notes)
    if head_start == 0.0:
        assert all("at the same time" in n for n in notes), notes
    if head_start == 0.6:
        assert all(n.startswith("created meanwhile by another writer") for n in notes), notes
    for record in emu.state.projects.values():
        if record.status == "active" and record.name in NAMES:
            assert record.data_retention == "zero_data_retention", record.name
            # Its service account was raced as well (both appliers create it on the project kept): one is left.
            accounts = [(a.name, a.role) for a in record.service_accounts.values()]
            assert accounts == [("etl", "member")], (record.name, accounts)
    # The next plan is empty: the organization converged.
    async with connect(emu) as api:
        again = diff(desired_state(), await observe(api, desired_state()))
    assert again.applicable == (), list(again)


async def test_a_run_without_creates_spends_no_extra_request_and_a_create_spends_two_lists() -> None:
    seed = {"projects": [{"name": name, "data_retention": "organization_default"} for name in NAMES[:2]]}
    emu = Emulator(admin_key=ADMIN_KEY, seed=seed, rng_seed=3)
    state = DesiredState(
        organization=OrganizationFile(unmanaged_projects="ignore"), projects=desired_state(accounts=False).projects[:2]
    )
    async with connect(emu) as api:
        updated = await reconcile(api, state, Intent(apply=True))
    assert updated.result is not None and updated.result.applied and not updated.result.notes
    assert not any(c.action == "create" for c in updated.plan)
    lists = emu.requests.for_template("/organization/projects", "GET")
    assert len(lists) == 1, "only the observe lists projects when nothing is created"

    emu.requests.clear()
    async with connect(emu) as api:
        created = await reconcile(api, desired_state(accounts=False), Intent(apply=True))
    assert [c.project for c in created.plan if c.action == "create"] == ["Gamma"]
    lists = emu.requests.for_template("/organization/projects", "GET")
    assert len(lists) == 1 + 2, "a create lists once before it is sent and once after"


def invites_and_alerts() -> DesiredState:
    """Two new people invited and two spend alerts (the organization's and one project's) to create."""
    alerts = [SpendAlert(threshold_usd=250, recipients=["finops@example.com"])]
    members = Members(users={"new.one@example.com": "member", "new.two@example.com": "member"})
    project = ProjectFile(name="Alpha", members=members, spend_alerts=alerts)
    organization = OrganizationFile(
        unmanaged_projects="ignore", invite_missing_users=True, organization=OrganizationSettings(spend_alerts=alerts)
    )
    return DesiredState(organization=organization, projects=(project,))


# Invites and spend alerts have no natural id either: two runs racing must send one invite to each person
# and leave one alert at each threshold (alerts carry no created_at: the first listed is kept).
@pytest.mark.parametrize("head_start", [0.0, 0.6])
async def test_two_appliers_racing_leave_one_invite_per_person_and_one_alert_per_threshold(head_start: float) -> None:
    seed = {"projects": [{"name": "Alpha"}]}
    emu = Emulator(admin_key=ADMIN_KEY, seed=seed, rng_seed=11, faults=FaultConfig(latency=LATENCY))
    state = invites_and_alerts()
    async with connect(emu) as api:  # an invite weakens access: a person approves the plan, as they would
        approved = diff(state, await observe(api, state)).digest()

    async def one(delay: float) -> Outcome:
        await asyncio.sleep(delay)
        async with connect(emu) as api:
            return await reconcile(api, state, Intent(apply=True, allow_unsafe=approved))

    outcomes = await asyncio.gather(one(0.0), one(head_start))
    for outcome in outcomes:
        creates = sorted(c.kind for c in outcome.plan if c.action == "create")
        assert creates == ["invite", "invite", "spend_alert", "spend_alert"], creates
        assert outcome.result is not None and not outcome.result.failed, outcome.result
    pending = Counter(i.email for i in emu.state.invites.values() if i.status == "pending")
    assert pending == {"new.one@example.com": 1, "new.two@example.com": 1}, pending
    alpha = next(p for p in emu.state.projects.values() if p.name == "Alpha")
    assert [a.threshold_amount for a in emu.state.organization.spend_alerts] == [25_000]
    assert [a.threshold_amount for a in alpha.spend_alerts] == [25_000]
    notes = [note for o in outcomes if o.result is not None for _, note in o.result.notes]
    assert len(notes) == 4, notes  # each of the four creates was raced once, and the loser said so
    async with connect(emu) as api:
        again = diff(state, await observe(api, state))
    assert again.applicable == (), list(again)


# Group names are not unique in the API: two runs racing to create a declared group must leave one, with its
# members (the loser adds them to the group kept, the oldest).
@pytest.mark.parametrize("head_start", [0.0, 0.6])
async def test_two_appliers_racing_leave_one_group_of_a_declared_name(head_start: float) -> None:
    seed = {"users": [{"id": "user-a", "email": "a@example.com", "role": "owner"}], "projects": [{"name": "Alpha"}]}
    emu = Emulator(admin_key=ADMIN_KEY, seed=seed, rng_seed=13, faults=FaultConfig(latency=LATENCY))
    groups = OrganizationGroupsSetting.model_validate({"definitions": {"security": {"members": ["a@example.com"]}}})
    state = DesiredState(
        organization=OrganizationFile(unmanaged_projects="ignore", organization=OrganizationSettings(groups=groups))
    )

    async def one(delay: float) -> Outcome:
        await asyncio.sleep(delay)
        async with connect(emu) as api:
            return await reconcile(api, state, Intent(apply=True))

    outcomes = await asyncio.gather(one(0.0), one(head_start))
    for outcome in outcomes:
        assert [c.subject for c in outcome.plan if c.action == "create"] == ["security"]
        assert outcome.result is not None and not outcome.result.failed, outcome.result
    (group,) = emu.state.groups.values()
    assert (group.name, group.user_ids) == ("security", ["user-a"])
    notes = [note for o in outcomes if o.result is not None for _, note in o.result.notes]
    assert len(notes) == 1, notes  # the loser said so
