"""`reconcile explain` shows who can reach each project and which of its keys have findings."""

from __future__ import annotations

import time

from members_support import ADMIN_KEY, DAY, NOW, connect, desired, emulator, organization

from datacontrols.desired.admin_keys import AdminKeyRules
from datacontrols.explain import explain_organization, explanation_json, render_explanation
from datacontrols.explain_access import explain_access


async def test_explain_lists_members_and_key_findings() -> None:
    now = int(time.time())  # explain reads the real clock
    seed = organization(
        users=[{"user": "bob@example.com", "role": "member"}, {"user": "alice@example.com", "role": "owner"}],
        groups=[{"group": "ops", "role": "owner"}],
        service_accounts=[{"name": "bot", "role": "member"}],
        api_keys=[
            {
                "id": "key_old00001",
                "redacted_value": "sk-abc...old",
                "owner": {"type": "user", "id": "bob@example.com"},
                "created_at": now - 200 * DAY,
            },
            {
                "id": "key_gone0001",
                "redacted_value": "sk-abc...gon",
                "owner": {"type": "user", "id": "carol@example.com"},
                "created_at": now - DAY,
            },
            {
                "id": "key_bot00001",
                "redacted_value": "sk-svc...bot",
                "owner": {"type": "service_account", "id": "bot"},
                "created_at": now - DAY,
            },
        ],
    )
    seed["groups"][1]["users"] = ["carol@example.com", "alice@example.com"]  # ops: a group's reach is its people
    emu = emulator(seed)
    api = connect(emu)
    async with api:
        text = render_explanation(await explain_organization(api, desired(keys={"max_age_days": 90})))
    assert "  users                 alice@example.com (owner), bob@example.com (member)\n" in text
    assert "  groups                ops (owner; members alice@example.com, carol@example.com)\n" in text
    assert "  service accounts      bot (member)\n" in text
    assert "  api keys              3 (2 owned by users, 1 by service accounts); 2 with findings" in text
    assert "  key finding           sk-abc...old (key_old00001): created 200 days ago" in text
    assert "sk-abc...gon (key_gone0001): its owner (user carol@example.com) no longer has access" in text
    assert "sk-svc...bot" not in text.split("api keys", 1)[1].split("key finding", 1)[0], (
        "only keys with findings are listed"
    )
    assert emu.requests.methods() == {"GET"}


async def test_without_rules_only_keys_whose_owner_lost_access_are_flagged_and_unreadable_lists_say_so() -> None:
    emu = emulator(
        organization(
            api_keys=[
                {
                    "id": "key_old00001",
                    "owner": {"type": "user", "id": "alice@example.com"},
                    "created_at": NOW - 900 * DAY,
                },
            ]
        )
    )
    project = next(iter(emu.state.projects))
    api = connect(emu)
    async with api:
        explained = dict((await explain_access(api, project, None, clock=lambda: NOW)).lines)
        assert explained["api keys"].startswith("1 (1 owned by users, 0 by service accounts); 1 with findings")
        emu.state.projects[project].status = "archived"  # the users list now answers 400
        unreadable = dict((await explain_access(api, project, None, clock=lambda: NOW)).lines)
    assert unreadable["users"].startswith("(unreadable: ")
    assert unreadable["groups"] == "none", "the other lists are still shown"


async def test_explain_shows_the_expiry_fix_and_the_admin_key_findings_without_key_material() -> None:
    now = int(time.time())  # explain reads the real clock
    emu = emulator(
        organization(
            users=[{"user": "bob@example.com", "role": "member"}],
            api_keys=[
                {"id": "key_never001", "owner": {"type": "user", "id": "bob@example.com"}, "created_at": now - DAY},
                {"id": "key_older01", "owner": {"type": "user", "id": "bob@example.com"}, "created_at": now - 60 * DAY},
            ],
        )
    )
    emu.state.admin_api_keys["key_admin"].created_at = now - 400 * DAY
    emu.state.admin_api_keys["key_other"].created_at = now - DAY
    state = desired(keys={"max_lifetime_days": 30, "fix": "expiry"})
    org = state.organization.model_copy(
        update={
            "organization": state.organization.organization.model_copy(
                update={"admin_keys": AdminKeyRules(max_age_days=90)}
            )
        }
    )
    state = state.model_copy(update={"organization": org})
    api = connect(emu)
    async with api:
        explained = await explain_organization(api, state)
    text = render_explanation(explained)
    assert "sk-...r001 (key_never001): never expires (max_lifetime_days: 30); fix: expiry sets it to expire on" in text
    assert "(key_older01): never expires (max_lifetime_days: 30); Its expiry is not set" in text
    assert "admin api keys: 2; 1 with findings (checked against admin_keys:)\n" in text
    assert "admin key finding: sk-admin...def (key_admin) (the key this tool runs with): created 400 days ago" in text
    document = explanation_json(explained)
    assert document["admin_api_keys"]["findings"][0]["in_use"] is True
    assert ADMIN_KEY not in text and ADMIN_KEY not in repr(document)
    assert len(emu.requests.for_template("/organization/admin_api_keys", "GET")) == 1
    assert emu.requests.methods() == {"GET"}
