"""The organization policy's `keys: {require_expiry, max_lifetime_days}`: every key expires, and within so
many days of its creation. A project's own `keys:` may be stricter, never looser; the live keys of a project
without `keys:` are checked (in the key listing: no more requests)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from datacontrols.adminapi import AdminApi
from datacontrols.emulator import Emulator
from datacontrols.engine import diff, observe
from datacontrols.errors import DesiredStateError
from datacontrols.kinds.policy import PolicyFacts
from testsupport.desired_files import write_desired_state

KEY = "sk-admin-policy-expiry-00000000000000000"
DAY = 86_400
NOW = 1_790_000_000
OWNER = {"type": "user", "id": "alice@example.com"}
SEED: dict[str, Any] = {
    "users": [{"id": "user-alice", "email": "alice@example.com", "name": "Alice", "role": "owner"}],
    "projects": [
        {
            "id": "proj_expiry0000000000000001",
            "name": "Rogue",
            "users": [{"user": "alice@example.com", "role": "owner"}],
            "api_keys": [
                {"id": "key_forever01", "owner": OWNER, "created_at": NOW - DAY},
                {"id": "key_longlife1", "owner": OWNER, "created_at": NOW - DAY, "expires_at": NOW + 400 * DAY},
                {"id": "key_shortlif1", "owner": OWNER, "created_at": NOW - DAY, "expires_at": NOW + 30 * DAY},
            ],
        }
    ],
}
POLICY = "unmanaged_projects: report\npolicy:\n  keys: {require_expiry: true, max_lifetime_days: 90}\n"


async def test_live_keys_that_never_expire_or_live_too_long_break_the_policy(
    tmp_path: Path, api: AdminApi, emulator: Emulator
) -> None:
    desired = write_desired_state(tmp_path, POLICY, {})
    [breach] = [c for c in diff(desired, await observe(api, desired)) if isinstance(c.facts, PolicyFacts)]
    assert (breach.kind, breach.subject, breach.severity) == ("project_api_key", "policy: keys", "critical")
    assert "2 key(s) break it" in breach.reason
    assert "key_forever01" in breach.reason and "never expires" in breach.reason
    assert "key_longlife1" in breach.reason and "max_lifetime_days: 90" in breach.reason
    assert "key_shortlif1" not in breach.reason
    assert emulator.requests.for_template("/organization/audit_logs") == [], "expiry is in the key listing"


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("keys: {max_age_days: 30}", "keys that never expire are allowed; the policy requires an expiry"),
        (
            "keys: {require_expiry: true, max_lifetime_days: 365}",
            "max_lifetime_days 365 is looser than the policy's 90",
        ),
    ],
)
def test_a_project_rule_looser_than_the_policy_is_refused(tmp_path: Path, rule: str, message: str) -> None:
    with pytest.raises(DesiredStateError) as caught:
        write_desired_state(tmp_path, POLICY, {"rogue": f"name: Rogue\n{rule}\n"})
    found = [str(p) for p in caught.value.problems]
    assert any(message in p and "projects/rogue.yaml:2:" in p for p in found), found


def test_a_stricter_project_rule_loads(tmp_path: Path) -> None:
    desired = write_desired_state(tmp_path, POLICY, {"rogue": "name: Rogue\nkeys: {max_lifetime_days: 30}\n"})
    assert desired.projects[0].keys is not None
