"""`keys: {max_spend_limit_usd, fix: spend_limit}` against the emulator: keys without a per-key cap, or with a
higher one, are capped through the SDK's key update; lower caps are left; the default only reports; both fixes
share one update; an expired key stays a report; a dry run sends only reads."""

from __future__ import annotations

import pytest
from members_support import DAY, NOW, actions, desired, emulator, organization, plan, reconcile
from pydantic import ValidationError

from datacontrols.adminapi.api_keys import ProjectApiKey
from datacontrols.desired.members import KeyHygiene
from datacontrols.emulator import Emulator
from datacontrols.kinds.api_keys import describe_fixes

BOB = {"type": "user", "id": "bob@example.com"}


KEYS = [
    {"id": "key_nocap0001", "name": "nocap", "owner": BOB, "created_at": NOW - DAY},
    {
        "id": "key_highcap01",
        "name": "high",
        "owner": BOB,
        "created_at": NOW - DAY,
        "spend_limit": {"threshold_amount": 50_000},
    },
    {
        "id": "key_lowcap001",
        "name": "low",
        "owner": BOB,
        "created_at": NOW - DAY,
        "spend_limit": {"threshold_amount": 2_000},
    },
    {"id": "key_expired01", "name": "gone", "owner": BOB, "created_at": NOW - 9 * DAY, "expires_at": NOW - DAY},
]


def seeded() -> Emulator:
    return emulator(organization(users=[{"user": "bob@example.com", "role": "member"}], api_keys=KEYS))


def caps(emu: Emulator) -> dict[str, int | None]:
    found: dict[str, int | None] = {}
    for project in emu.state.projects.values():
        for key in project.api_keys.values():
            found[key.id] = key.spend_limit["threshold_amount"] if key.spend_limit else None
    return found


async def test_fix_spend_limit_caps_uncapped_and_higher_capped_keys_then_converges() -> None:
    emu = seeded()
    run = await reconcile(emu, desired(keys={"max_spend_limit_usd": 100, "fix": "spend_limit"}))
    assert sorted(actions(run.before, reports=True)) == [
        ("report", "project_api_key", "sk-...ed01 (key_expired01)"),
        ("update", "project_api_key", "sk-...0001 (key_nocap0001)"),
        ("update", "project_api_key", "sk-...ap01 (key_highcap01)"),
    ]
    high = next(c for c in run.before if c.subject and "key_highcap01" in c.subject)
    assert (high.fields["spend_limit"].before, high.fields["spend_limit"].after) == (
        "500.00 USD a month",
        "100.00 USD a month",
    )
    assert high.severity == "high" and high.disrupts and "once it has spent 100.00 USD in a month" in high.disrupts
    expired = next(c for c in run.before if c.subject and "key_expired01" in c.subject)
    assert "cannot be set: it has expired" in expired.reason
    assert run.result.ok
    capped = {"key_nocap0001": 10_000, "key_highcap01": 10_000, "key_lowcap001": 2_000, "key_expired01": None}
    assert caps(emu) == capped
    assert [a for a in actions(run.after, reports=True) if a[0] != "report"] == []


async def test_the_default_reports_the_keys_and_writes_nothing() -> None:
    emu = seeded()
    found = await plan(emu, desired(keys={"max_spend_limit_usd": 100}))
    reasons = {c.subject: c.reason for c in found if c.kind == "project_api_key"}
    assert all(c.action == "report" for c in found if c.kind == "project_api_key")
    assert "has no spend limit (max_spend_limit_usd: 100.00 USD)" in reasons["sk-...0001 (key_nocap0001)"]
    assert "may spend 500.00 USD a month" in reasons["sk-...ap01 (key_highcap01)"]
    assert not any("key_lowcap001" in (s or "") for s in reasons)
    assert emu.requests.writes() == []


async def test_both_fixes_go_in_one_update() -> None:
    keys = [{"id": "key_both00001", "name": "both", "owner": BOB, "created_at": NOW - DAY}]
    emu = emulator(organization(users=[{"user": "bob@example.com", "role": "member"}], api_keys=keys))
    rules = {"max_lifetime_days": 30, "max_spend_limit_usd": 25.5, "fix": ["expiry", "spend_limit"]}
    run = await reconcile(emu, desired(keys=rules))
    (update,) = [c for c in run.before if c.kind == "project_api_key"]
    assert update.action == "update" and set(update.fields) == {"expires_at", "spend_limit"}
    assert len([w for w in emu.requests.writes() if "api_keys" in w.path]) == 1
    (key,) = [k for p in emu.state.projects.values() for k in p.api_keys.values()]
    assert key.expires_at == NOW - DAY + 30 * DAY and key.spend_limit and key.spend_limit["threshold_amount"] == 2_550
    assert not run.after.applicable


def test_fix_spend_limit_needs_the_amount_and_a_fix_is_listed_once() -> None:
    with pytest.raises(ValidationError, match="add max_spend_limit_usd"):
        KeyHygiene.model_validate({"fix": "spend_limit"})
    with pytest.raises(ValidationError, match="twice"):
        KeyHygiene.model_validate({"max_spend_limit_usd": 5, "fix": ["spend_limit", "spend_limit"]})
    assert KeyHygiene.model_validate({"max_spend_limit_usd": 5, "fix": ["spend_limit"]}).fixes == {"spend_limit"}


def test_explain_says_what_each_fix_would_do() -> None:
    key = ProjectApiKey.model_validate(
        {"id": "key_x", "redacted_value": "sk-...x", "owner": {"type": "user"}, "created_at": NOW - DAY}
    )
    rules = KeyHygiene.model_validate(
        {"max_lifetime_days": 30, "max_spend_limit_usd": 100, "fix": ["expiry", "spend_limit"]}
    )
    described = describe_fixes(key, rules, NOW)
    assert described is not None and "fix: expiry sets it to expire on" in described
    assert "fix: spend_limit caps it at 100.00 USD a month" in described
    assert describe_fixes(key, KeyHygiene.model_validate({"max_spend_limit_usd": 100}), NOW) is None
