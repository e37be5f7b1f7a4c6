"""Enforcement levels in the desired state: `report` groups are planned but never applied, `ignore` groups
are not read at all; the organization file sets defaults, project files override them.

These are engine semantics (the CLI's apply honours them too), tested against the in-process emulator.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from daemon_support import ADMIN_KEY

from datacontrols.adminapi import AdminApi
from datacontrols.desired import load_desired_state
from datacontrols.desired.enforcement import Enforcement, resolve_enforcement
from datacontrols.desired.schema import DesiredState
from datacontrols.emulator import Emulator
from datacontrols.engine import apply, diff, observe
from datacontrols.errors import DesiredStateError
from datacontrols.plan import Change, Plan

SEED: dict[str, Any] = {
    "organization": {"data_retention": "modified_abuse_monitoring"},
    "projects": [
        {
            "id": "proj_support",
            "name": "Support Bot",
            "residency": "GLOBAL",
            "hosted_tools": {"web_search": True},
            "data_retention": "none",
        },
        {"id": "proj_research", "name": "Research", "hosted_tools": {"web_search": True}},
    ],
}
PROJECT_FILES = {
    "support.yaml": (
        "name: Support Bot\n"
        "residency: EU_STORAGE_PROCESSING\n"
        "data_retention: zero_data_retention\n"
        "hosted_tools: {web_search: false}\n"
        "model_permissions: {mode: allow_list, model_ids: [gpt-4.1]}\n"
    ),
    "research.yaml": "name: Research\nhosted_tools: {web_search: false}\n",
}


def write_state(root: Path, organization: str, projects: dict[str, str] | None = None) -> DesiredState:
    (root / "projects").mkdir(parents=True, exist_ok=True)
    (root / "organization.yaml").write_text(organization)
    for name, text in (projects if projects is not None else PROJECT_FILES).items():
        (root / "projects" / name).write_text(text)
    return load_desired_state(root)


@pytest.fixture
def emulator() -> Emulator:
    return Emulator(admin_key=ADMIN_KEY, seed=SEED, rng_seed=5)


@pytest.fixture
async def api(emulator: Emulator) -> AsyncIterator[AdminApi]:
    client = AdminApi.connect(admin_key=ADMIN_KEY, http_transport=emulator.http_transport())
    yield client
    await client.aclose()


async def plan_for(api: AdminApi, desired: DesiredState) -> Plan:
    return diff(desired, await observe(api, desired))


def find(plan: Plan, kind: str, project: str | None) -> Change:
    [change] = [c for c in plan if c.kind == kind and c.project == project]
    return change


@pytest.mark.parametrize(
    ("organization", "project", "group", "expected"),
    [
        (None, None, "members", "enforce"),
        (Enforcement(default="report"), None, "members", "report"),
        (Enforcement(default="enforce", members="report"), None, "members", "report"),
        (Enforcement(default="enforce", members="report"), None, "keys", "enforce"),
        (Enforcement(members="report"), Enforcement(members="enforce"), "members", "enforce"),
        (Enforcement(members="report"), Enforcement(default="enforce"), "members", "enforce"),
        (Enforcement(keys="ignore"), Enforcement(members="report"), "keys", "ignore"),
        (Enforcement(default="ignore"), None, None, "report"),  # lifecycle: ignore would strand the project
        (Enforcement(default="report"), None, None, "report"),
        (None, Enforcement(residency="ignore"), "residency", "ignore"),
    ],
)
def test_levels_resolve_project_group_then_project_default_then_organization(
    organization: Enforcement | None, project: Enforcement | None, group: str | None, expected: str
) -> None:
    assert resolve_enforcement(organization, project, group) == expected


def test_levels_are_validated_at_load_time_with_a_position(tmp_path: Path) -> None:
    with pytest.raises(DesiredStateError) as raised:
        write_state(tmp_path, "enforcement:\n  default: enforce\n  members: enforced\n")
    problem = str(raised.value.problems[0])
    assert "organization.yaml:3:" in problem and "enforcement.members" in problem
    with pytest.raises(DesiredStateError) as raised:
        write_state(tmp_path / "b", "enforcement:\n  teams: report\n")
    assert "enforcement.teams" in str(raised.value.problems[0])


async def test_report_groups_are_planned_and_shown_but_never_applied(
    tmp_path: Path, api: AdminApi, emulator: Emulator
) -> None:
    desired = write_state(tmp_path, "enforcement:\n  default: enforce\n  hosted_tools: report\n")
    plan = await plan_for(api, desired)
    held = [c for c in plan if c.kind == "project_hosted_tools"]
    assert len(held) == 2 and all(c.enforcement == "report" and not c.applies for c in held)
    assert all(c.reason.endswith("(not applied: enforcement for hosted_tools is report)") for c in held)
    assert held[0] in plan.drift and plan.has_changes  # still drift: it is reported
    retention = find(plan, "project_data_retention", "Support Bot")
    assert retention.applies and retention.enforcement == "enforce"

    result = await apply(api, plan)
    assert result.ok and not result.failed and not result.skipped  # held back is neither failed nor skipped
    assert sorted(result.applied, key=Change.sort_key) == list(plan.applicable)
    assert all(c.kind != "project_hosted_tools" for c in result.applied)
    assert emulator.state.projects["proj_support"].hosted_tools["web_search"] is True  # untouched
    assert emulator.state.projects["proj_support"].data_retention == "zero_data_retention"
    again = await plan_for(api, desired)
    assert {c.kind for c in again.drift} == {"project_hosted_tools", "project"}  # held drift + residency


async def test_ignore_groups_are_not_even_read(tmp_path: Path, api: AdminApi, emulator: Emulator) -> None:
    desired = write_state(tmp_path, "enforcement:\n  model_permissions: ignore\n  residency: ignore\n")
    plan = await plan_for(api, desired)
    assert not [c for c in plan if c.kind == "project_model_permissions"]
    assert not [c for c in plan if "residency" in c.fields]
    assert not [e for e in emulator.requests if e.template and "model_permissions" in e.template]
    assert [c for c in plan if c.kind == "project_hosted_tools"]  # other groups still managed


async def test_a_project_file_overrides_the_organization(tmp_path: Path, api: AdminApi) -> None:
    files = dict(PROJECT_FILES)
    files["research.yaml"] += "enforcement: {default: enforce}\n"
    files["support.yaml"] += "enforcement: {data_retention: ignore}\n"
    desired = write_state(tmp_path, "enforcement:\n  default: report\n", files)
    plan = await plan_for(api, desired)
    assert find(plan, "project_hosted_tools", "Research").applies
    support_tools = find(plan, "project_hosted_tools", "Support Bot")
    assert not support_tools.applies and "enforcement for hosted_tools is report" in support_tools.reason
    assert not [c for c in plan if c.kind == "project_data_retention"]
    assert not [c for c in plan if c.kind == "organization_data_retention"]  # not managed by this org file


async def test_organization_controls_follow_the_organization_file(tmp_path: Path, api: AdminApi) -> None:
    org = "organization:\n  data_retention: zero_data_retention\nenforcement:\n  data_retention: report\n"
    plan = await plan_for(api, write_state(tmp_path / "a", org, {}))
    change = find(plan, "organization_data_retention", None)
    assert not change.applies and change.enforcement == "report"

    ignored = "organization:\n  data_retention: zero_data_retention\nenforcement:\n  data_retention: ignore\n"
    emulator_requests_before = len(api.transport.requests)
    plan = await plan_for(api, write_state(tmp_path / "b", ignored, {}))
    assert not [c for c in plan if c.kind == "organization_data_retention"]
    reads = [r.template for r in api.transport.requests[emulator_requests_before:]]
    assert "/organization/data_retention" not in reads


async def test_a_held_back_creation_holds_back_the_new_projects_settings(tmp_path: Path, api: AdminApi) -> None:
    files = {"new.yaml": "name: Brand New\nhosted_tools: {web_search: false}\n"}
    desired = write_state(tmp_path, "enforcement:\n  default: report\n  hosted_tools: enforce\n", files)
    plan = await plan_for(api, desired)
    create = find(plan, "project", "Brand New")
    tools = find(plan, "project_hosted_tools", "Brand New")
    assert create.action == "create" and not create.applies
    assert not tools.applies and "the project's creation is held back" in tools.reason
    result = await apply(api, plan)
    assert result.ok and not result.applied


async def test_the_default_is_enforce_and_plans_are_unchanged_without_enforcement(
    tmp_path: Path, api: AdminApi
) -> None:
    desired = write_state(tmp_path, "project_defaults: {}\n")
    plan = await plan_for(api, desired)
    assert plan.applicable and all(c.enforcement == "enforce" for c in plan)
    assert not any("not applied" in c.reason for c in plan)
