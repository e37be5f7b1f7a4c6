"""The ratchet's classification, kind by kind: which planned changes weaken a data control (`Change.weakens`)
and which tighten or correct; changes inside a project the same plan creates are never held; creates have a
threshold. Each case plans against an in-process emulator, through every kind's real read and diff."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from datacontrols.adminapi import AdminApi
from datacontrols.desired import load_desired_state
from datacontrols.emulator import Emulator
from datacontrols.engine import diff, observe
from datacontrols.errors import UnsafePlanError
from datacontrols.plan import Plan
from datacontrols.ratchet import approval_lines, hold_weakening, needing_approval
from datacontrols.safety import SafetyCheck, enforce

ADMIN_KEY = "sk-admin-ratchet-tests-0123456789abcdef"
PROJECT: dict[str, Any] = {
    "id": "proj_ratchet0000000000000001",
    "name": "P",
    "residency": "GLOBAL",
    "data_retention": "zero_data_retention",
    "hosted_tools": {"web_search": False, "file_search": True},
    "model_permissions": {"mode": "allow_list", "model_ids": ["gpt-4.1", "o3"]},
    "spend_limit": {"threshold_amount": 50000},
    "external_key_id": "ekm_live",
    "users": [{"user": "alice@example.com", "role": "owner"}, {"user": "bob@example.com", "role": "member"}],
}
SEED: dict[str, Any] = {
    "organization": {"data_retention": "zero_data_retention"},
    "users": [
        {"id": "user-alice", "email": "alice@example.com", "name": "Alice", "role": "owner"},
        {"id": "user-bob", "email": "bob@example.com", "name": "Bob"},
        {"id": "user-carol", "email": "carol@example.com", "name": "Carol"},
    ],
    "projects": [PROJECT],
}


async def plan_for(tmp_path: Path, organization: str, project: str, seed: dict[str, Any] = SEED) -> Plan:
    root = tmp_path / "desired"
    (root / "projects").mkdir(parents=True)
    (root / "organization.yaml").write_text(organization or "{}\n")
    (root / "projects" / "p.yaml").write_text("name: P\n" + project)
    desired = load_desired_state(root)
    emulator = Emulator(admin_key=ADMIN_KEY, seed=copy.deepcopy(seed), rng_seed=1)
    async with AdminApi.connect(admin_key=ADMIN_KEY, http_transport=emulator.http_transport()) as api:
        return diff(desired, await observe(api, desired))


WEAKENS = {
    "organization retention away from zero data retention": (
        "organization: {data_retention: modified_abuse_monitoring}\n",
        "",
        "weakens zero data retention (zero_data_retention -> modified_abuse_monitoring)",
    ),
    "project retention away from zero data retention": (
        "",
        "data_retention: none\n",
        "weakens zero data retention (zero_data_retention -> none)",
    ),
    "a hosted tool enabled": ("", "hosted_tools: {web_search: true}\n", "enables hosted tools: web_search"),
    "a model added to the allow list": (
        "",
        "model_permissions: {mode: allow_list, model_ids: [gpt-4.1, o3, o1]}\n",
        "makes models usable that were not: o1",
    ),
    "the model policy removed": (
        "",
        "model_permissions: unrestricted\n",
        "removes the model policy: every model becomes usable",
    ),
    "the spend limit raised": ("", "spend_limit: {amount_usd: 900}\n", "raises the hard spend limit"),
    "the spend limit removed": ("", "spend_limit: none\n", "removes the hard spend limit"),
    "the customer-managed key removed": ("", "external_key_id: null\n", "removes the customer-managed encryption key"),
    "a member added": (
        "",
        "members: {users: {carol@example.com: member}}\n",
        "gives carol@example.com access to the project (member)",
    ),
    "a member made an owner": ("", "members: {users: {bob@example.com: owner}}\n", "makes bob@example.com an owner"),
}

TIGHTENS = {
    "retention kept at zero data retention": ("organization: {data_retention: zero_data_retention}\n", ""),
    "a hosted tool disabled": ("", "hosted_tools: {file_search: false}\n"),
    "the allow list narrowed": ("", "model_permissions: {mode: allow_list, model_ids: [gpt-4.1]}\n"),
    "the spend limit lowered": ("", "spend_limit: {amount_usd: 100}\n"),
    "an owner made a member": ("", "members: {users: {alice@example.com: owner, bob@example.com: member}}\n"),
    "a member removed": (
        "",
        "members: {mode: authoritative, users: {alice@example.com: owner}}\n",
    ),
}


@pytest.mark.parametrize("case", sorted(WEAKENS))
async def test_a_weakening_change_says_what_it_weakens(tmp_path: Path, case: str) -> None:
    organization, project, said = WEAKENS[case]
    plan = await plan_for(tmp_path, organization, project)
    held = needing_approval(plan)
    assert len(held) == 1, [c.to_json() for c in plan.applicable]
    assert said in (held[0].weakens or "")
    where = "organization" if held[0].project is None else "project 'P'"
    assert approval_lines(plan) == [f"needs approval: {where}: {held[0].weakens}"]
    with pytest.raises(UnsafePlanError, match="weakens data controls"):
        enforce(plan, SafetyCheck())
    enforce(plan, SafetyCheck(allow_unsafe=plan.digest()))  # a person's approval of exactly this plan
    daemon = hold_weakening(plan)
    assert not needing_approval(daemon) and not [c for c in daemon.applicable if c.weakens]
    assert all(c.severity == "critical" for c in daemon.changes if c.weakens)


@pytest.mark.parametrize("case", sorted(TIGHTENS))
async def test_tightening_or_keeping_is_never_held(tmp_path: Path, case: str) -> None:
    organization, project = TIGHTENS[case]
    plan = await plan_for(tmp_path, organization, project)
    assert needing_approval(plan) == [], [c.to_json() for c in plan.applicable if c.weakens]
    enforce(plan, SafetyCheck())


async def test_changes_inside_a_project_the_plan_creates_are_not_held(tmp_path: Path) -> None:
    seed = {**SEED, "projects": []}
    plan = await plan_for(
        tmp_path,
        "",
        "hosted_tools: {web_search: true}\nmembers: {users: {carol@example.com: owner}}\n",
        seed,
    )
    assert next(c.kind for c in plan.applicable if c.action == "create") == "project"
    assert any(c.weakens for c in plan.applicable), "the changes are still marked"
    assert needing_approval(plan) == []
    enforce(plan, SafetyCheck())


async def test_a_plan_creating_more_projects_than_the_threshold_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "desired"
    (root / "projects").mkdir(parents=True)
    (root / "organization.yaml").write_text("safety: {creates: {max_changes: 3}}\n")
    for index in range(4):
        (root / "projects" / f"p{index}.yaml").write_text(f"name: New {index}\n")
    desired = load_desired_state(root)
    emulator = Emulator(admin_key=ADMIN_KEY, seed={"projects": []}, rng_seed=1)
    async with AdminApi.connect(admin_key=ADMIN_KEY, http_transport=emulator.http_transport()) as api:
        observed = await observe(api, desired)
    plan = diff(desired, observed)
    with pytest.raises(UnsafePlanError, match=r"creates: 4 projects created, more than safety.creates.max_changes 3"):
        enforce(plan, SafetyCheck.of(desired, observed))
    (root / "projects" / "p3.yaml").unlink()
    three = load_desired_state(root)
    enforce(diff(three, observed), SafetyCheck.of(three, observed))
