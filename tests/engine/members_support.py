"""What the access engine tests share: an organization with people, groups, accounts and keys, and one run.

A module of its own (not conftest): importing from conftest is ambiguous when several test directories have one.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from datacontrols.adminapi import AdminApi
from datacontrols.desired.members import KeyHygiene, Members
from datacontrols.desired.schema import DesiredState, OrganizationFile, ProjectFile
from datacontrols.emulator import Emulator
from datacontrols.engine import DEFAULT_REGISTRY, ApplyResult, Registry, apply, diff, observe
from datacontrols.kinds.api_keys import ProjectApiKeys
from datacontrols.kinds.service_accounts import with_secret_sink
from datacontrols.plan import Plan
from datacontrols.safety import SafetyCheck

ADMIN_KEY = "sk-admin-members-tests-0123456789abcdef"
NOW = 1_780_000_000
DAY = 86_400
PROJECT_ID = "proj_members000000000000000"


def organization(**project: Any) -> dict[str, Any]:
    """A seed: Alice (who owns the admin key), Bob, Carol, Mallory; groups data-science and ops; one project P."""
    return {
        "users": [
            {"id": "user-alice", "email": "alice@example.com", "name": "Alice", "role": "owner"},
            {"id": "user-bob", "email": "bob@example.com", "name": "Bob"},
            {"id": "user-carol", "email": "carol@example.com", "name": "Carol"},
            {"id": "user-mallory", "email": "mallory@example.com", "name": "Mallory"},
        ],
        "groups": [{"id": "group_ds", "name": "data-science"}, {"id": "group_ops", "name": "ops"}],
        "admin_api_keys": [
            {
                "id": "key_admin",
                "name": "reconciler",
                "redacted_value": "sk-admin...def",
                "owner": {"id": "user-alice"},
            },
            {"id": "key_other", "name": "other", "redacted_value": "sk-admin...zzz", "owner": {"id": "user-bob"}},
        ],
        "projects": [{"id": PROJECT_ID, "name": "P", "created_at": NOW - 400 * DAY, **project}],
    }


def desired(
    *, keys: dict[str, Any] | None = None, invite: bool = False, name: str = "P", **members: Any
) -> DesiredState:
    file = ProjectFile(
        name=name,
        members=Members(**members) if members else None,
        keys=KeyHygiene(**keys) if keys is not None else None,
    )
    return DesiredState(organization=OrganizationFile(invite_missing_users=invite), projects=(file,))


def emulator(seed: dict[str, Any]) -> Emulator:
    return Emulator(admin_key=ADMIN_KEY, seed=seed, rng_seed=5, clock=lambda: NOW)


def connect(emu: Emulator) -> AdminApi:
    async def no_sleep(seconds: float) -> None:
        return None

    return AdminApi.connect(admin_key=ADMIN_KEY, http_transport=emu.http_transport(), sleep=no_sleep)


def registry(secret_sink: Path | None = None) -> Registry:
    """The default kinds, with a fixed clock for key ages and the given secret sink."""
    kinds = tuple(
        ProjectApiKeys(clock=lambda: NOW) if k.name == "project_api_key" else k for k in DEFAULT_REGISTRY.project
    )
    return dataclasses.replace(DEFAULT_REGISTRY, project=with_secret_sink(kinds, secret_sink))


async def plan(emu: Emulator, state: DesiredState, kinds: Registry | None = None) -> Plan:
    api = connect(emu)
    async with api:
        return diff(state, await observe(api, state, kinds or registry()), kinds or registry())


@dataclass
class Run:
    before: Plan
    result: ApplyResult
    after: Plan


async def reconcile(emu: Emulator, state: DesiredState, kinds: Registry | None = None) -> Run:
    """observe -> diff -> apply -> observe -> diff."""
    kinds = kinds or registry()
    api = connect(emu)
    async with api:
        observed = await observe(api, state, kinds)
        before = diff(state, observed, kinds)
        result = await apply(api, before, kinds, safety=SafetyCheck.of(state, observed, allow_unsafe=before.digest()))
        after = diff(state, await observe(api, state, kinds), kinds)
    return Run(before, result, after)


def actions(plan: Plan, *, reports: bool = False) -> list[tuple[str, str, str | None]]:
    return [(c.action, c.kind, c.subject) for c in plan if reports or c.action != "report"]


def project_users(emu: Emulator) -> dict[str, str]:
    return {uid: m.role for uid, m in emu.state.projects[PROJECT_ID].users.items()}
