"""The organization policy's `allowed_email_domains`: every user given access to a project directly has an
address in one of the domains. A project file that lists another address is refused at its line; live users
no authoritative list holds (no file, no `members.users`, or an additive list) are critical findings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from datacontrols.adminapi import AdminApi
from datacontrols.desired.policy import Policy, email_breach
from datacontrols.emulator import Emulator
from datacontrols.engine import diff, observe
from datacontrols.errors import DesiredStateError
from datacontrols.explain import explain_organization, render_explanation
from datacontrols.kinds.policy import PolicyFacts
from testsupport.desired_files import write_desired_state

KEY = "sk-admin-policy-emails-00000000000000000"
SEED: dict[str, Any] = {
    "users": [
        {"id": "user-alice", "email": "alice@acme.com", "name": "Alice", "role": "owner"},
        {"id": "user-bob", "email": "bob@gmail.example", "name": "Bob"},
    ],
    "projects": [
        {
            "id": "proj_emails0000000000000001",
            "name": "Rogue",
            "users": [{"user": "bob@gmail.example", "role": "member"}],
        },
        {"id": "proj_emails0000000000000002", "name": "Fine", "users": [{"user": "alice@acme.com", "role": "owner"}]},
        {
            "id": "proj_emails0000000000000003",
            "name": "Additive",
            "users": [{"user": "alice@acme.com", "role": "owner"}, {"user": "bob@gmail.example", "role": "member"}],
        },
    ],
}
POLICY = "unmanaged_projects: report\npolicy:\n  allowed_email_domains: [ACME.com]\n"
ADDITIVE = "name: Additive\nmembers: {users: {alice@acme.com: owner}}\n"


def test_a_file_listing_another_domain_is_refused_at_its_line(tmp_path: Path) -> None:
    file = "name: Rogue\nmembers:\n  users:\n    alice@acme.com: owner\n    bob@gmail.example: member\n"  # 5
    with pytest.raises(DesiredStateError) as caught:
        write_desired_state(tmp_path, POLICY, {"rogue": file})
    [problem] = [str(p) for p in caught.value.problems]
    assert "projects/rogue.yaml:5:" in problem and "policy.allowed_email_domains" in problem
    assert "bob@gmail.example outside the allowed domains (acme.com)" in problem


async def test_live_users_no_authoritative_list_holds_are_critical_findings(
    tmp_path: Path, api: AdminApi, emulator: Emulator
) -> None:
    desired = write_desired_state(tmp_path, POLICY, {"additive": ADDITIVE})
    found = {c.project: c for c in diff(desired, await observe(api, desired)) if isinstance(c.facts, PolicyFacts)}
    assert set(found) == {"Rogue", "Additive"}, "Fine's only user is at acme.com"
    assert all((c.kind, c.severity) == ("project_user", "critical") for c in found.values())
    assert "bob@gmail.example outside the allowed domains" in found["Additive"].reason
    assert "does not declare it" in found["Additive"].reason and "the project has no file" in found["Rogue"].reason

    authoritative = ADDITIVE.replace("{users:", "{mode: authoritative, users:")
    desired = write_desired_state(tmp_path / "b", POLICY, {"additive": authoritative})
    plan = diff(desired, await observe(api, desired))
    assert {c.project for c in plan if isinstance(c.facts, PolicyFacts)} == {"Rogue"}
    [removal] = [c for c in plan if c.project == "Additive" and c.kind == "project_user"]
    assert (removal.action, removal.subject) == ("delete", "bob@gmail.example"), "its own list removes Bob"


async def test_explain_shows_the_standing(tmp_path: Path, api: AdminApi) -> None:
    desired = write_desired_state(tmp_path, POLICY, {"additive": ADDITIVE})
    text = render_explanation(await explain_organization(api, desired))
    lines = [line for line in text.splitlines() if "allowed_email_domains" in line]
    assert len(lines) == 3 and sum("BROKEN" in line for line in lines) == 2


def test_the_rule_as_a_pure_function() -> None:
    policy = Policy.model_validate({"allowed_email_domains": ["acme.com", "eu.acme.com"]})
    assert email_breach(policy, ["a@ACME.com", "b@eu.acme.com"]) is None
    assert email_breach(policy, ["c@us.acme.com", None]) == (
        "a user without an email, c@us.acme.com outside the allowed domains (acme.com, eu.acme.com)"
    )
    with pytest.raises(ValueError, match="allowed_email_domains"):
        Policy.model_validate({"allowed_email_domains": ["@acme.com"]})
