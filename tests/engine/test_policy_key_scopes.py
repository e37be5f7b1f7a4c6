"""The organization policy's `keys.allowed_scopes` against the emulator: a project file's own rule may be
narrower, never wider or absent; live keys of a project without a file are checked from the audit log (one
listing), a key with all permissions or another scope breaks the rule, and a key the log has no record of
breaks nothing; explain shows the standing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from datacontrols.adminapi import AdminApi
from datacontrols.emulator import Emulator
from datacontrols.engine import diff, observe
from datacontrols.errors import DesiredStateError
from datacontrols.explain import explain_organization, render_explanation
from datacontrols.kinds.policy import PolicyFacts
from testsupport.desired_files import write_desired_state

KEY = "sk-admin-policy-scopes-000000000000000"
ROGUE = "proj_roguescopes00000000001"
WRITE, FILES = "api.responses.write", "api.files.write"
OWNER = {"type": "user", "id": "alice@example.com"}
SEED: dict[str, Any] = {
    "users": [{"id": "user-alice", "email": "alice@example.com", "name": "Alice", "role": "owner"}],
    "projects": [
        {
            "id": ROGUE,
            "name": "Rogue",
            "users": [{"user": "alice@example.com", "role": "owner"}],
            "api_keys": [
                {"id": "key_everything", "owner": OWNER, "scopes": []},
                {"id": "key_files0001", "owner": OWNER, "scopes": [FILES]},
                {"id": "key_fine00001", "owner": OWNER, "scopes": [WRITE]},
                {"id": "key_unknown01", "owner": OWNER},
            ],
        }
    ],
}
POLICY = f"unmanaged_projects: report\npolicy:\n  keys: {{allowed_scopes: [{WRITE}]}}\n"


async def test_live_keys_of_a_project_without_a_file_break_the_scope_rule(
    tmp_path: Path, api: AdminApi, emulator: Emulator
) -> None:
    desired = write_desired_state(tmp_path, POLICY, {})
    plan = diff(desired, await observe(api, desired))
    [breach] = [c for c in plan if isinstance(c.facts, PolicyFacts)]
    assert (breach.project, breach.kind, breach.subject, breach.severity) == (
        "Rogue",
        "project_api_key",
        "policy: keys",
        "critical",
    )
    assert breach.reason.count("key(s) break it") == 1 and "2 key(s)" in breach.reason
    assert "key_everything" in breach.reason and "has all permissions" in breach.reason
    assert f"may use [{FILES}]" in breach.reason
    assert "key_fine00001" not in breach.reason and "key_unknown01" not in breach.reason
    assert len(emulator.requests.for_template("/organization/audit_logs", "GET")) == 1


async def test_explain_shows_the_breach(tmp_path: Path, api: AdminApi, emulator: Emulator) -> None:
    desired = write_desired_state(tmp_path, POLICY, {"rogue": "name: Rogue\n"})
    text = render_explanation(await explain_organization(api, desired))
    [line] = [line for line in text.splitlines() if "keys:" in line and "policy" in line]
    assert "BROKEN" in line and "key_everything" in line and "key_fine00001" not in line


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("keys: {max_age_days: 30}", "no allowed_scopes is looser than the policy's"),
        (f"keys: {{allowed_scopes: [{WRITE}, {FILES}]}}", f"allowed_scopes with {FILES} is looser"),
    ],
)
def test_a_project_rule_wider_than_the_policy_is_refused(tmp_path: Path, rule: str, message: str) -> None:
    with pytest.raises(DesiredStateError) as caught:
        write_desired_state(tmp_path, POLICY, {"rogue": f"name: Rogue\n{rule}\n"})
    [problem] = [str(p) for p in caught.value.problems]
    assert "projects/rogue.yaml:2:" in problem and "policy.keys" in problem and message in problem


def test_a_narrower_project_rule_loads(tmp_path: Path) -> None:
    desired = write_desired_state(tmp_path, POLICY, {"rogue": f"name: Rogue\nkeys: {{allowed_scopes: [{WRITE}]}}\n"})
    assert desired.projects[0].keys is not None
