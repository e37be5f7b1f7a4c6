"""`reconcile export` writes each project's members (additive: an export removes nobody), and they round-trip."""

from __future__ import annotations

from pathlib import Path

from datacontrols.adminapi import AdminApi
from datacontrols.emulator import Emulator
from datacontrols.engine import diff, observe
from datacontrols.export import export_organization

KEY = "sk-admin-export-members-0123456789"
SEED = {
    "users": [
        {"id": "user-alice", "email": "alice@example.com"},
        {"id": "user-bob", "email": "bob@example.com"},
        {"id": "user-nomail", "email": "x@example.com"},
    ],
    "groups": [{"id": "group_ds", "name": "data-science"}, {"id": "group_v", "name": "viewers"}],
    "projects": [
        {
            "id": "proj_export000000000000000001",
            "name": "Support Bot",
            "users": [{"user": "alice@example.com", "role": "owner"}, {"user": "bob@example.com", "role": "member"}],
            "groups": [{"group": "data-science", "role": "owner"}, {"group": "viewers", "role": "viewer"}],
            "service_accounts": [{"name": "bot", "role": "member"}, {"name": "blank", "role": "none"}],
            "api_keys": [{"owner": {"type": "service_account", "id": "bot"}}],
        }
    ],
}


async def test_members_are_exported_and_plan_clean(tmp_path: Path) -> None:
    emulator = Emulator(admin_key=KEY, seed=SEED, rng_seed=1)
    async with AdminApi.connect(admin_key=KEY, http_transport=emulator.http_transport()) as api:
        result = await export_organization(api, tmp_path / "out")
        assert result.desired is not None
        plan = diff(result.desired, await observe(api, result.desired))
    (project,) = result.desired.projects
    assert project.members is not None and project.members.mode == "additive"
    assert project.members.users == {"alice@example.com": "owner", "bob@example.com": "member"}
    assert project.members.groups == {"data-science": "owner"}, "a viewer group has no owner/member word"
    assert project.members.service_accounts == {"bot": "member"}, "role none cannot be written"
    assert project.keys is None, "keys are an inventory, not desired state"
    assert not plan.has_changes
    unlisted = sorted((c.kind, c.subject) for c in plan if c.action == "report" and c.project is not None)
    assert unlisted == [("project_group", "viewers"), ("project_service_account", "blank")]
    assert "members:" in (tmp_path / "out" / "projects" / "support-bot.yaml").read_text()
