"""`reconcile export` writes the organization's users' roles and its groups with their members; they round-trip."""

from __future__ import annotations

from pathlib import Path

from datacontrols.adminapi import AdminApi
from datacontrols.emulator import Emulator
from datacontrols.engine import diff, observe
from datacontrols.export import export_organization

KEY = "sk-admin-export-organization-0123456789"
SEED = {
    "users": [
        {"id": "user-alice", "email": "alice@example.com", "role": "owner"},
        {"id": "user-bob", "email": "Bob@example.com"},
        {"id": "user-scim", "email": "sam@example.com", "scim_managed": True},
    ],
    "groups": [
        {"id": "group_ds", "name": "data-science", "users": ["alice@example.com", "Bob@example.com"]},
        {"id": "group_idp", "name": "from-the-idp", "scim_managed": True, "users": ["sam@example.com"]},
        {"id": "group_empty", "name": "empty"},
        {"id": "group_twin1", "name": "twin"},
        {"id": "group_twin2", "name": "twin"},
    ],
}


async def test_users_roles_and_groups_are_exported_and_plan_clean(tmp_path: Path) -> None:
    emulator = Emulator(admin_key=KEY, seed=SEED, rng_seed=1)
    async with AdminApi.connect(admin_key=KEY, http_transport=emulator.http_transport()) as api:
        result = await export_organization(api, tmp_path / "out")
        assert result.desired is not None
        plan = diff(result.desired, await observe(api, result.desired))
    settings = result.desired.organization.organization
    assert settings.users is not None and settings.users.mode == "additive"
    assert settings.users.roles == {
        "alice@example.com": "owner",
        "Bob@example.com": "reader",
        "sam@example.com": "reader",
    }
    assert settings.groups is not None and settings.groups.mode == "additive"
    assert {n: d.members for n, d in settings.groups.definitions.items()} == {
        "data-science": ["alice@example.com", "Bob@example.com"],
        "empty": [],
        "from-the-idp": ["sam@example.com"],
    }, "two groups named twin cannot be told apart in a file"
    pins = {n: d.id for n, d in settings.groups.definitions.items()}
    assert pins == {"data-science": "group_ds", "empty": "group_empty", "from-the-idp": "group_idp"}
    assert not plan.has_changes
    reports = sorted((c.kind, c.subject) for c in plan if c.kind.startswith("organization_g"))
    assert reports == [("organization_group", "twin")] * 2, "each group of the ambiguous name is reported"
    text = (tmp_path / "out" / "organization.yaml").read_text()
    assert "definitions:" in text and "roles:" in text
