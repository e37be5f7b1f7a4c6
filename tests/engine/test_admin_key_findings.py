"""`organization: admin_keys:` against the emulator: one listing, findings as reports naming the key in use,
never a write, no key material in any output; and no request at all when the rules are not declared."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from members_support import ADMIN_KEY, DAY, NOW, connect, emulator, organization, reconcile

from datacontrols.desired.admin_keys import AdminKeyRules
from datacontrols.desired.schema import DesiredState, OrganizationFile, OrganizationSettings
from datacontrols.engine import DEFAULT_REGISTRY, Registry
from datacontrols.errors import DesiredStateError
from datacontrols.kinds.admin_keys import ADMIN_KEY_KIND, OrganizationAdminKeys
from datacontrols.render import render

ADMIN_KEYS = "/organization/admin_api_keys"


def registry() -> Registry:
    kinds = tuple(
        OrganizationAdminKeys(clock=lambda: NOW) if k.name == ADMIN_KEY_KIND else k
        for k in DEFAULT_REGISTRY.organization
    )
    return dataclasses.replace(DEFAULT_REGISTRY, organization=kinds)


def state(**rules: Any) -> DesiredState:
    settings = OrganizationSettings(admin_keys=AdminKeyRules(**rules))
    return DesiredState(organization=OrganizationFile(organization=settings), projects=())


def seed() -> dict[str, Any]:
    seeded = organization()
    seeded["admin_api_keys"] = [
        # the key in use (its redacted form fits ADMIN_KEY), old and never expiring
        {
            "id": "key_admin",
            "name": "reconciler",
            "redacted_value": "sk-admin...def",
            "owner": {"id": "user-alice"},
            "created_at": NOW - 200 * DAY,
            "last_used_at": NOW,
        },
        # Bob's, unused for 60 days, expiring
        {
            "id": "key_bob",
            "name": "bob",
            "redacted_value": "sk-admin...zzz",
            "owner": {"id": "user-bob"},
            "created_at": NOW - 70 * DAY,
            "last_used_at": NOW - 60 * DAY,
            "expires_at": NOW + DAY,
        },
        # fresh, used and expiring, owned by Alice: no finding
        {
            "id": "key_fine",
            "name": "fine",
            "redacted_value": "sk-admin...ok1",
            "owner": {"id": "user-alice"},
            "created_at": NOW - DAY,
            "last_used_at": NOW,
            "expires_at": NOW + DAY,
        },
    ]
    return seeded


async def test_admin_key_findings_are_reports_naming_the_key_in_use_and_nothing_is_written() -> None:
    emu = emulator(seed())
    rules = {"max_age_days": 90, "max_idle_days": 30, "require_expiry": True, "owners": ["Alice"]}
    run = await reconcile(emu, state(**rules), registry())
    found = {c.subject: c for c in run.before if c.kind == ADMIN_KEY_KIND}
    assert sorted(found) == ["sk-admin...def (key_admin)", "sk-admin...zzz (key_bob)"]
    mine, bobs = found["sk-admin...def (key_admin)"], found["sk-admin...zzz (key_bob)"]
    assert "created 200 days ago" in mine.reason and "never expires" in mine.reason
    assert "the admin key this tool runs with" in mine.reason and mine.severity == "normal"
    assert "last used 60 days ago" in bobs.reason and "not in admin_keys.owners" in bobs.reason
    assert "this tool runs with" not in bobs.reason and bobs.severity == "high"
    assert all(c.action == "report" for c in found.values()) and not run.before.has_changes
    assert emu.requests.methods() == {"GET"}, "admin keys are never written"
    assert len(emu.requests.for_template(ADMIN_KEYS, "GET")) == 2, "one listing a run (plan, then plan again)"
    assert {c.subject for c in run.after if c.kind == ADMIN_KEY_KIND} == set(found)
    shown = [render(run.before, fmt) for fmt in ("text", "json", "markdown")]
    shown.append(json.dumps([c.reason for c in run.before]))
    for text in shown:
        assert ADMIN_KEY not in text and ADMIN_KEY[9:] not in text, "no key material in any output"


async def test_owners_match_by_id_or_name() -> None:
    emu = emulator(seed())
    run = await reconcile(emu, state(owners=["user-bob", "Alice"]), registry())
    assert [c for c in run.before if c.kind == ADMIN_KEY_KIND] == []


async def test_undeclared_admin_keys_cost_no_request() -> None:
    emu = emulator(seed())
    empty = DesiredState(organization=OrganizationFile(), projects=())
    await reconcile(emu, empty, registry())
    assert emu.requests.for_template(ADMIN_KEYS, "GET") == []


async def test_the_kind_refuses_to_apply_its_findings() -> None:
    emu = emulator(seed())
    run = await reconcile(emu, state(max_age_days=90), registry())
    (finding,) = [c for c in run.before if c.kind == ADMIN_KEY_KIND]
    api = connect(emu)
    async with api:
        with pytest.raises(ValueError, match="never deleted"):
            await OrganizationAdminKeys().apply(api, finding)
    assert set(emu.state.admin_api_keys) == {"key_admin", "key_bob", "key_fine"}


@pytest.mark.parametrize(
    ("rules", "fragment"),
    [({"max_age_days": 0}, "max_age_days"), ({"owners": ["a", "a"]}, "more than once"), ({"owner": []}, "owner")],
)
def test_broken_rules_are_refused(rules: dict[str, Any], fragment: str) -> None:
    with pytest.raises((DesiredStateError, ValueError), match=fragment):
        AdminKeyRules(**rules)
