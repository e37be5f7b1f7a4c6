"""The organization policy's `allowed_service_tiers` ("Standard tier only", or a few tiers more): project files
that enable another tier or default to one are refused at their line; live projects whose tiers the files do
not hold (no file, or a field left out) are critical findings; explain shows the standing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from datacontrols.adminapi import AdminApi
from datacontrols.desired.policy import Policy, default_tier_breach, enabled_tiers_breach
from datacontrols.emulator import Emulator
from datacontrols.engine import diff, observe
from datacontrols.errors import DesiredStateError
from datacontrols.explain import explain_organization, render_explanation
from datacontrols.kinds.policy import PolicyFacts
from testsupport.desired_files import write_desired_state

KEY = "sk-admin-policy-tiers-0000000000000000"
ROGUE = "proj_roguetiers000000000001"
HALF = "proj_halftiers0000000000001"
# Live, both have the emulator's tiers: default standard, enabled_tiers all.
SEED: dict[str, Any] = {"projects": [{"id": ROGUE, "name": "Rogue"}, {"id": HALF, "name": "Half"}]}
POLICY = "unmanaged_projects: report\npolicy:\n  allowed_service_tiers: [flex]\n"


def breaches(plan: Any) -> dict[str | None, str]:
    return {c.project: c.reason for c in plan if isinstance(c.facts, PolicyFacts)}


def test_files_outside_the_allowed_tiers_are_refused_at_their_line(tmp_path: Path) -> None:
    organization = POLICY + "project_defaults:\n  service_tiers: {default: scale}\n"  # 5
    files = {"batch": "name: Batch\nservice_tiers: {enabled_tiers: [flex, ultrafast]}\n"}  # 2
    with pytest.raises(DesiredStateError) as caught:
        write_desired_state(tmp_path, organization, files)
    found = [str(p) for p in caught.value.problems]
    assert len(found) == 2
    [enabled] = [p for p in found if "projects/batch.yaml:2:" in p]
    assert "policy.allowed_service_tiers" in enabled and "enables ultrafast, outside the policy" in enabled
    [default] = [p for p in found if "organization.yaml:5:" in p]
    assert "the default tier scale is not allowed (allowed: standard, flex)" in default and "'Batch'" in default


async def test_live_tiers_no_file_holds_are_critical_findings(
    tmp_path: Path, api: AdminApi, emulator: Emulator
) -> None:
    # Half's file names its default only: its enabled tiers (all, live) are the policy's to check.
    desired = write_desired_state(tmp_path, POLICY, {"half": "name: Half\nservice_tiers: {default: standard}\n"})
    plan = diff(desired, await observe(api, desired))
    found = breaches(plan)
    assert set(found) == {"Rogue", "Half"}
    assert "enabled_tiers: all allows every tier, also those added later (allowed: flex)" in found["Rogue"]
    assert "the project has no file" in found["Rogue"] and "does not declare it" in found["Half"]
    [rogue] = [c for c in plan if isinstance(c.facts, PolicyFacts) and c.project == "Rogue"]
    assert (rogue.kind, rogue.subject, rogue.severity, rogue.action) == (
        "project_service_tiers",
        "policy: allowed_service_tiers",
        "critical",
        "report",
    )

    emulator.state.projects[ROGUE].enabled_service_tiers = ["flex"]
    emulator.state.projects[HALF].enabled_service_tiers = []
    emulator.state.projects[HALF].service_tier_default = "fast"  # the file's field: its kind plans it back
    plan = diff(desired, await observe(api, desired))
    assert breaches(plan) == {}
    [update] = [c for c in plan if c.kind == "project_service_tiers"]
    assert (update.project, update.action) == ("Half", "update")


async def test_a_file_holding_both_fields_costs_no_policy_read(
    tmp_path: Path, api: AdminApi, emulator: Emulator
) -> None:
    both = "name: Half\nservice_tiers: {default: standard, enabled_tiers: [flex]}\n"
    desired = write_desired_state(tmp_path, POLICY.replace("report", "ignore"), {"half": both})
    await observe(api, desired)
    reads = emulator.requests.for_template("/organization/projects/{project_id}/service_tier_settings", "GET")
    # Half: the kind's own read, which the policy's check shares; Rogue (no file): read for the policy only.
    assert sorted(r.path.split("/")[-2] for r in reads) == sorted([HALF, ROGUE])


async def test_explain_shows_the_standing(tmp_path: Path, api: AdminApi) -> None:
    desired = write_desired_state(tmp_path, POLICY, {"rogue": "name: Rogue\n"})
    text = render_explanation(await explain_organization(api, desired))
    lines = [line for line in text.splitlines() if "allowed_service_tiers" in line]
    assert len(lines) == 2 and all("BROKEN: enabled_tiers: all allows every tier" in line for line in lines)


def test_the_tier_rules_as_pure_functions() -> None:
    standard_only = Policy.model_validate({"allowed_service_tiers": []})
    assert enabled_tiers_breach(standard_only, []) is None
    assert enabled_tiers_breach(standard_only, ["flex"]) == "enables flex, outside the policy (allowed: Standard only)"
    assert default_tier_breach(standard_only, "standard") is None
    assert default_tier_breach(standard_only, "fast") == "the default tier fast is not allowed (allowed: standard)"
    assert default_tier_breach(Policy.model_validate({"allowed_service_tiers": ["fast"]}), "fast") is None
    assert enabled_tiers_breach(Policy(), "all") is None
