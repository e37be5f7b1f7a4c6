"""Pure compare of the access kinds: users, groups, service accounts, API keys, invites, the admin identity.

Desired values are built from the schema models, observed values from the API models; no I/O anywhere.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from kinds_support import desired_project

from datacontrols.adminapi.api_keys import KeyOwner, KeyOwnerServiceAccount, KeyOwnerUser, ProjectApiKey
from datacontrols.adminapi.groups import OrganizationGroup, ProjectRole
from datacontrols.adminapi.members import Invite, OrganizationUser, ProjectUser
from datacontrols.adminapi.service_accounts import ServiceAccount
from datacontrols.desired.members import KeyHygiene, Members
from datacontrols.desired.schema import DesiredState, OrganizationFile, ProjectFile
from datacontrols.kinds.api_keys import KeyFacts, ObservedKeys, ProjectApiKeys, key_findings
from datacontrols.kinds.base import NOT_CREATED, World
from datacontrols.kinds.directory import AdminIdentity, AdminKeyIdentity, Directory, GroupDirectory
from datacontrols.kinds.invites import Invites
from datacontrols.kinds.membership import ORDER_GRANT, ORDER_REVOKE, GroupGrant, ObservedGroups, RoleIds
from datacontrols.kinds.project_groups import GroupFacts, ProjectGroups, role_ids
from datacontrols.kinds.project_users import ProjectUsers, UserFacts
from datacontrols.kinds.service_accounts import NewServiceAccountFacts, ProjectServiceAccounts
from datacontrols.plan import Change

DAY = 86_400
NOW = 1_780_000_000
ALICE = OrganizationUser(id="user-alice", email="Alice@Example.com", role="owner")
BOB = OrganizationUser(id="user-bob", email="bob@example.com")
CAROL = OrganizationUser(id="user-carol", email="carol@example.com")
DIRECTORY = Directory((ALICE, BOB, CAROL))
DS = OrganizationGroup(id="group_ds", name="data-science")
OPS = OrganizationGroup(id="group_ops", name="ops")
OWNER_ID, MEMBER_ID = "role-api-project-owner", "role-api-project-member"


def project(mode: str = "additive", invite: bool = False, **members: Any) -> tuple[Any, DesiredState]:
    file = ProjectFile(name="P", members=Members(mode=mode, **members))  # type: ignore[arg-type]
    state = DesiredState(organization=OrganizationFile(invite_missing_users=invite), projects=(file,))
    return desired_project(name="P", members=Members(mode=mode, **members)), state  # type: ignore[arg-type]


def world(
    state: DesiredState,
    *,
    identity: str | None = None,
    invites: tuple[Invite, ...] | None = None,
    **siblings: Any,
) -> World:
    organization: dict[str, Any] = {
        "organization_users": DIRECTORY,
        "organization_groups": GroupDirectory((DS, OPS)),
        "admin_api_key": AdminIdentity(identity),
    }
    if invites is not None:
        organization["invite"] = invites
    return World(desired=state, organization=organization, project=siblings)


def puser(user: OrganizationUser, role: str) -> ProjectUser:
    return ProjectUser(id=user.id, email=user.email, role=role)


def summary(changes: list[Change]) -> list[tuple[str, str | None, Any]]:
    return [(c.action, c.subject, {k: (f.before, f.after) for k, f in c.fields.items()}) for c in changes]


# --- users -------------------------------------------------------------------------------------------------


USERS_CASES = [
    pytest.param(
        "additive",
        {"alice@example.com": "owner"},
        [puser(ALICE, "owner"), puser(BOB, "member")],
        [("report", "bob@example.com", {})],
        id="additive-reports-unlisted",
    ),
    pytest.param(
        "authoritative",
        {"alice@example.com": "owner"},
        [puser(ALICE, "owner"), puser(BOB, "member")],
        [("delete", "bob@example.com", {"role": ("member", None)})],
        id="authoritative-removes-unlisted",
    ),
    pytest.param(
        "additive",
        {"ALICE@example.com": "owner", "bob@example.com": "owner"},
        [puser(ALICE, "owner"), puser(BOB, "member")],
        [("update", "bob@example.com", {"role": ("member", "owner")})],
        id="role-change-is-one-update-and-emails-ignore-case",
    ),
    pytest.param(
        "additive",
        {"alice@example.com": "owner", "carol@example.com": "member"},
        [puser(ALICE, "owner")],
        [("create", "carol@example.com", {"role": (None, "member")})],
        id="listed-org-user-is-added",
    ),
    pytest.param("authoritative", {"alice@example.com": "owner"}, [puser(ALICE, "owner")], [], id="converged"),
]


@pytest.mark.parametrize(("mode", "users", "live", "expected"), USERS_CASES)
def test_project_users(mode: str, users: dict[str, str], live: list[ProjectUser], expected: list[Any]) -> None:
    desired, state = project(mode, users=users)
    assert summary(ProjectUsers().compare(desired, tuple(live), world(state))) == expected


def test_a_user_not_in_the_organization_is_a_finding_never_a_crash() -> None:
    desired, state = project(users={"erin@example.com": "member"})
    (finding,) = ProjectUsers().compare(desired, (), world(state))
    assert (finding.action, finding.subject, finding.severity) == ("report", "erin@example.com", "high")
    assert "invite_missing_users: true" in finding.reason

    pending = Invite(id="invite-1", email="Erin@example.com", status="pending")
    (finding,) = ProjectUsers().compare(desired, (), world(state, invites=(pending,)))
    assert (finding.action, finding.severity) == ("report", "normal") and "pending" in finding.reason

    inviting, state = project(invite=True, users={"erin@example.com": "member"})
    (finding,) = ProjectUsers().compare(inviting, (), world(state))
    assert "this plan invites them" in finding.reason


def test_users_of_a_new_project_are_all_created() -> None:
    desired, state = project(users={"alice@example.com": "owner", "bob@example.com": "member"})
    changes = ProjectUsers().compare(desired, NOT_CREATED, world(state))
    assert [(c.action, c.facts_as(UserFacts).user_id, c.facts_as(UserFacts).role_after) for c in changes] == [
        ("create", "user-alice", "owner"),
        ("create", "user-bob", "member"),
    ]


def test_member_changes_carry_the_guard_facts_and_grant_before_revoke() -> None:
    desired, state = project("authoritative", users={"bob@example.com": "owner"})
    groups = ObservedGroups((GroupGrant("group_ops", "ops", (OWNER_ID,)),))
    live = (puser(ALICE, "owner"), puser(BOB, "member"))
    changes = ProjectUsers().compare(desired, live, world(state, identity="user:user-alice", project_group=groups))
    by_subject = {c.subject: c for c in changes}
    promote, remove = by_subject["bob@example.com"], by_subject["Alice@Example.com"]
    promoted, removed = promote.facts_as(UserFacts), remove.facts_as(UserFacts)
    assert promoted.guard.owners == removed.guard.owners == ("group:group_ops", "user:user-alice")
    assert (promoted.owner_before, promoted.owner_after, promote.order) == (False, True, ORDER_GRANT)
    assert (removed.owner_before, removed.owner_after, remove.order) == (True, False, ORDER_REVOKE)
    assert removed.guard.admin_identity == "user:user-alice" and removed.principal == "user:user-alice"
    assert all(c.facts.independent and c.facts_as(UserFacts).guard.counts_groups for c in changes)


# --- groups ------------------------------------------------------------------------------------------------


def grants(*rows: tuple[str, str, str]) -> ObservedGroups:
    return ObservedGroups(tuple(GroupGrant(gid, name, (role,)) for gid, name, role in rows))


GROUP_CASES = [
    pytest.param(
        "additive",
        {"data-science": "member"},
        grants(),
        [("create", "data-science", {"role": (None, "member")})],
        id="grant",
    ),
    pytest.param(
        "additive",
        {"data-science": "owner"},
        grants(("group_ds", "data-science", MEMBER_ID)),
        [("update", "data-science", {"role": ("member", "owner")})],
        id="role-change",
    ),
    pytest.param("additive", {}, grants(("group_ops", "ops", MEMBER_ID)), [("report", "ops", {})], id="additive"),
    pytest.param(
        "authoritative",
        {},
        grants(("group_ops", "ops", MEMBER_ID)),
        [("delete", "ops", {"role": ("member", None)})],
        id="authoritative",
    ),
    pytest.param(
        "additive", {"data-science": "member"}, grants(("group_ds", "data-science", MEMBER_ID)), [], id="same"
    ),
]


@pytest.mark.parametrize(("mode", "wanted", "live", "expected"), GROUP_CASES)
def test_project_groups(mode: str, wanted: dict[str, str], live: ObservedGroups, expected: list[Any]) -> None:
    desired, state = project(mode, groups=wanted)
    assert summary(ProjectGroups().compare(desired, live, world(state))) == expected


def test_a_group_role_change_assigns_the_new_role_and_unassigns_the_old() -> None:
    desired, state = project(groups={"data-science": "owner"})
    live = grants(("group_ds", "data-science", MEMBER_ID))
    (change,) = ProjectGroups().compare(desired, live, world(state))
    facts = change.facts_as(GroupFacts)
    assert (facts.group_id, facts.role_id, facts.unassign) == (
        "group_ds",
        OWNER_ID,
        (MEMBER_ID,),
    )
    assert "no update endpoint" in change.reason


def test_an_unknown_or_ambiguous_group_name_is_a_finding() -> None:
    desired, state = project(groups={"nope": "member", "twins": "member"})
    twins = GroupDirectory((OrganizationGroup(id="g1", name="twins"), OrganizationGroup(id="g2", name="twins")))
    w = World(desired=state, organization={"organization_groups": twins})
    changes = ProjectGroups().compare(desired, ObservedGroups(), w)
    assert [(c.action, c.subject, c.severity) for c in changes] == [
        ("report", "nope", "high"),
        ("report", "twins", "high"),
    ]
    assert "g1, g2" in changes[1].reason


def test_project_role_ids_come_from_the_roles_list_else_the_builtin_ids() -> None:
    custom = [
        ProjectRole(id="role_X1", name="Owner", predefined_role=True),
        ProjectRole(id="role_X2", name="Project Member", predefined_role=True),
        ProjectRole(id="role_X3", name="Key Manager", predefined_role=False),
    ]
    assert (role_ids(custom).owner, role_ids(custom).member) == ("role_X1", "role_X2")
    assert (role_ids([]).owner, role_ids([]).member) == (OWNER_ID, MEMBER_ID)
    ids = RoleIds(names={"role_X3": "Key Manager"})
    assert ids.role_of([MEMBER_ID, OWNER_ID]) == "owner" and ids.role_of(["role_X3"]) == "Key Manager"


# --- service accounts --------------------------------------------------------------------------------------


def account(name: str, role: str, account_id: str | None = None) -> ServiceAccount:
    return ServiceAccount(id=account_id or f"svc_{name}", name=name, role=role)


def test_service_account_create_says_whether_a_key_is_made_and_where_it_goes(tmp_path: Path) -> None:
    desired, state = project(service_accounts={"bot": "owner"})
    (without,) = ProjectServiceAccounts().compare(desired, (), world(state))
    assert (without.action, without.facts_as(NewServiceAccountFacts).secret_sink) == ("create", None)
    assert "create_service_account_only" in without.reason and "role owner" in without.reason
    (with_sink,) = ProjectServiceAccounts(tmp_path).compare(desired, (), world(state))
    assert with_sink.facts_as(NewServiceAccountFacts).secret_sink == str(tmp_path)
    assert str(tmp_path / "P__bot.key") in with_sink.reason


SA_CASES = [
    pytest.param(
        "additive",
        {"bot": "member"},
        [account("bot", "none")],
        [("update", "bot", {"role": ("none", "member")})],
        id="role-none",
    ),
    pytest.param("additive", {}, [account("old", "member")], [("report", "old", {})], id="additive"),
    pytest.param(
        "authoritative",
        {},
        [account("old", "member")],
        [("delete", "old", {"role": ("member", None)})],
        id="authoritative",
    ),
    pytest.param(
        "additive",
        {"bot": "member"},
        [account("bot", "member", "svc_1"), account("bot", "member", "svc_2")],
        [("uncorrectable", "bot", {})],
        id="ambiguous",
    ),
    pytest.param("additive", {"bot": "member"}, [account("bot", "member")], [], id="same"),
]


@pytest.mark.parametrize(("mode", "wanted", "live", "expected"), SA_CASES)
def test_project_service_accounts(
    mode: str, wanted: dict[str, str], live: list[ServiceAccount], expected: list[Any]
) -> None:
    desired, state = project(mode, service_accounts=wanted)
    assert summary(ProjectServiceAccounts().compare(desired, tuple(live), world(state))) == expected


def test_deleting_a_service_account_says_it_revokes_its_keys() -> None:
    desired, state = project("authoritative", service_accounts={})
    (change,) = ProjectServiceAccounts().compare(desired, (account("old", "member"),), world(state))
    assert "revokes its API keys" in change.reason


# --- keys --------------------------------------------------------------------------------------------------


def user_key(key_id: str, created: int, used: int | None = None, access: str = "active") -> ProjectApiKey:
    owner = KeyOwner(type="user", user=KeyOwnerUser(id="user-bob", email="bob@example.com"))
    return ProjectApiKey(
        id=key_id, redacted_value=f"sk-abc...{key_id[-3:]}", created_at=created, last_used_at=used,
        owner_project_access=access, owner=owner,
    )  # fmt: skip


def sa_key(key_id: str, created: int) -> ProjectApiKey:
    owner = KeyOwner(type="service_account", service_account=KeyOwnerServiceAccount(id="svc_1", name="bot"))
    return ProjectApiKey(
        id=key_id, redacted_value=f"sk-svc...{key_id[-3:]}", created_at=created, last_used_at=NOW - DAY,
        owner_project_access="active", owner=owner,
    )  # fmt: skip


def key_capped(key_id: str, cents: int, *, enforcing: bool = False) -> ProjectApiKey:
    """A user's key with a per-key monthly cap; `enforcing`: it has spent it, and is refused now."""
    status = "enforcing" if enforcing else "inactive"
    limit = {"currency": "USD", "interval": "month", "threshold_amount": cents, "enforcement": {"status": status}}
    return user_key(key_id, FRESH, NOW).model_copy(update={"spend_limit": limit})


def keys_project(**rules: Any) -> Any:
    return desired_project(name="P", keys=KeyHygiene(**rules))


FRESH = NOW - 5 * DAY


@pytest.mark.parametrize(
    ("rules", "key", "problem"),
    [
        ({"max_age_days": 90}, user_key("key_old", NOW - 91 * DAY, NOW), "created 91 days ago"),
        ({"max_idle_days": 30}, user_key("key_idl", NOW - 100 * DAY, NOW - 31 * DAY), "last used 31 days ago"),
        ({"max_idle_days": 30}, user_key("key_nvr", NOW - 40 * DAY), "never used in 40 days"),
        ({}, user_key("key_ina", FRESH, NOW, access="inactive"), "no longer has access to the project"),
        ({"user_keys": "report"}, user_key("key_usr", FRESH, NOW), "user_keys: report"),
        ({"user_keys": "forbidden"}, user_key("key_frb", FRESH, NOW), "user_keys: forbidden"),
        ({"require_expiry": True}, user_key("key_exp", FRESH, NOW), "never expires (require_expiry)"),
        ({"max_lifetime_days": 90}, user_key("key_lif", FRESH, NOW), "never expires (max_lifetime_days: 90)"),
        (
            {"max_lifetime_days": 90},
            user_key("key_lng", FRESH, NOW).model_copy(update={"expires_at": FRESH + 365 * DAY}),
            "lives 365 days",
        ),
        ({"require_spend_limit": True}, user_key("key_cap", FRESH, NOW), "has no spend limit"),
        ({"max_spend_limit_usd": 10}, key_capped("key_hic", 5_000), "may spend 50.00 USD a month"),
        ({}, key_capped("key_blk", 5_000, enforcing=True), "has reached its spend limit of 50.00 USD this month"),
    ],
    ids=[
        "age",
        "idle",
        "never-used",
        "inactive-owner",
        "user-keys-report",
        "user-keys-forbidden",
        "never-expires",
        "lifetime-unbounded",
        "lifetime-too-long",
        "no-spend-limit",
        "spend-limit-too-high",
        "spend-limit-reached",
    ],
)
def test_each_key_finding_is_a_report_with_the_redacted_value_only(
    rules: dict[str, Any], key: ProjectApiKey, problem: str
) -> None:
    (change,) = ProjectApiKeys().compare(
        keys_project(**rules), ObservedKeys((key,), NOW), World(desired=DesiredState())
    )
    assert (change.action, change.kind) == ("report", "project_api_key")
    assert change.subject == f"{key.redacted_value} ({key.id})"
    assert problem in change.reason


def test_a_missing_spend_limit_is_noted_never_pruned_and_a_capped_key_has_no_finding() -> None:
    bare = user_key("key_cap", FRESH, NOW)
    capped = bare.model_copy(update={"id": "key_cpd", "spend_limit": {"currency": "USD", "threshold_amount": 500}})
    rules = {"require_spend_limit": True, "prune": "delete"}
    changes = ProjectApiKeys().compare(
        keys_project(**rules), ObservedKeys((bare, capped), NOW), World(desired=DesiredState())
    )
    assert [(c.action, c.facts_as(KeyFacts).api_key_id) for c in changes] == [("report", "key_cap")]


def test_a_key_that_expires_within_its_lifetime_has_no_expiry_finding() -> None:
    key = user_key("key_ok", FRESH, NOW).model_copy(update={"expires_at": FRESH + 30 * DAY})
    rules = {"require_expiry": True, "max_lifetime_days": 90}
    assert (
        ProjectApiKeys().compare(keys_project(**rules), ObservedKeys((key,), NOW), World(desired=DesiredState())) == []
    )


def test_keys_within_the_rules_have_no_findings() -> None:
    rules = {"max_age_days": 90, "max_idle_days": 30, "user_keys": "allowed"}
    keys = (user_key("key_ok1", NOW - 90 * DAY, NOW - 30 * DAY), sa_key("key_ok2", FRESH))
    assert ProjectApiKeys().compare(keys_project(**rules), ObservedKeys(keys, NOW), World(desired=DesiredState())) == []


def test_prune_delete_deletes_flagged_user_keys_and_explains_service_account_keys() -> None:
    keys = (
        user_key("key_old", NOW - 200 * DAY, NOW),
        sa_key("key_sa1", NOW - 200 * DAY),
        user_key("key_usr", FRESH, NOW),
    )
    desired = keys_project(max_age_days=90, user_keys="report", prune="delete")
    changes = ProjectApiKeys().compare(desired, ObservedKeys(keys, NOW), World(desired=DesiredState()))
    assert [(c.action, c.facts_as(KeyFacts).api_key_id) for c in changes] == [
        ("delete", "key_old"),
        ("report", "key_sa1"),
        ("report", "key_usr"),  # user_keys: report is a note, never a reason to delete
    ]
    assert "cannot be deleted one by one" in changes[1].reason


def test_key_findings_without_rules_flag_only_inactive_owners() -> None:
    keys = [user_key("key_old", NOW - 900 * DAY), user_key("key_ina", FRESH, access="inactive")]
    assert [f.key.id for f in key_findings(keys, None, NOW)] == ["key_ina"]


def test_keys_of_a_project_not_created_yet_have_no_findings() -> None:
    assert ProjectApiKeys().compare(keys_project(max_age_days=1), NOT_CREATED, World(desired=DesiredState())) == []


# --- invites and the admin identity ------------------------------------------------------------------------


def test_invites_are_planned_once_per_missing_email_across_projects() -> None:
    files = (
        ProjectFile(name="A", members=Members(users={"erin@example.com": "member", "bob@example.com": "member"})),
        ProjectFile(name="B", members=Members(users={"Erin@Example.com": "owner", "fay@example.com": "member"})),
    )
    state = DesiredState(organization=OrganizationFile(invite_missing_users=True), projects=files)
    kind = Invites()
    assert kind.manages(state)
    pending = (Invite(id="invite-1", email="fay@example.com", status="pending"),)
    w = World(desired=state, organization={"organization_users": DIRECTORY})
    (change,) = kind.compare(state, pending, w)
    assert (change.action, change.subject, change.project) == ("create", "erin@example.com", None)
    assert "A, B" in change.reason
    assert kind.compare(state, None, w)[0].action == "report", "unreadable invites: nobody is invited blindly"
    assert not Invites().manages(DesiredState(projects=files)), "off unless invite_missing_users is true"


def test_an_unidentified_admin_key_is_said_once() -> None:
    state = DesiredState(projects=(ProjectFile(name="A", members=Members(users={})),))
    kind = AdminKeyIdentity()
    assert kind.manages(state)
    (finding,) = kind.compare(state, AdminIdentity(None, reason="no admin key matches"), World(desired=state))
    assert (finding.action, finding.project) == ("report", None) and "no admin key matches" in finding.reason
    assert kind.compare(state, AdminIdentity("user:user-alice"), World(desired=state)) == []


def test_fix_expiry_plans_an_update_to_creation_plus_the_lifetime_and_delete_comes_first() -> None:
    never = user_key("key_nev", FRESH, NOW)
    long_sa = sa_key("key_sal", FRESH).model_copy(update={"expires_at": FRESH + 365 * DAY})
    rules = {"max_lifetime_days": 30, "fix": "expiry"}
    world = World(desired=DesiredState())
    changes = ProjectApiKeys().compare(keys_project(**rules), ObservedKeys((never, long_sa), NOW), world)
    assert [(c.action, c.facts_as(KeyFacts).expires_at) for c in changes] == [
        ("update", FRESH + 30 * DAY),
        ("update", FRESH + 30 * DAY),
    ]
    assert changes[0].fields["expires_at"].before == "never" and changes[0].severity == "high"
    assert changes[1].fields["expires_at"].before != "never"
    pruned = ProjectApiKeys().compare(keys_project(**rules, prune="delete"), ObservedKeys((never, long_sa), NOW), world)
    assert [c.action for c in pruned] == ["delete", "update"], "a service account's key is updated, not deleted"
