"""The organization policy against live state, through the engine and the in-process emulator.

A live project without a file, and the controls a managed project's files leave undeclared, are checked
against the policy: each breach is a critical report in the plan, in every format, never applied, and the
daemon's alerts carry it. A control the file declares costs no extra request.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from datacontrols.adminapi import AdminApi
from datacontrols.daemon.alerts import alert_run
from datacontrols.daemon.notifications import DriftLedger, Notifier
from datacontrols.daemon.run_record import RunRecord
from datacontrols.emulator import Emulator
from datacontrols.engine import apply, diff, observe
from datacontrols.kinds.policy import PolicyFacts
from datacontrols.plan import Plan
from datacontrols.render.json import render_json
from datacontrols.render.markdown import render_markdown
from datacontrols.render.text import render_text
from datacontrols.safety import SafetyCheck, population
from testsupport.desired_files import write_desired_state

KEY = "sk-admin-policy-findings-0000000000000"
MANAGED = "proj_managed0000000000000000"
ROGUE = "proj_rogue00000000000000000"
OLD = 1_600_000_000  # 2020: older than any max_age_days below

SEED: dict[str, Any] = {
    "organization": {"data_retention": "zero_data_retention"},
    "users": [{"id": "user-alice", "email": "alice@example.com", "name": "Alice", "role": "owner"}],
    "projects": [
        {
            "id": MANAGED,
            "name": "Managed",
            "residency": "EU_STORAGE_PROCESSING",
            "data_retention": "zero_data_retention",
            "hosted_tools": {"web_search": True, "mcp": False},
            "model_permissions": {"mode": "allow_list", "model_ids": ["gpt-4.1"]},
            "spend_limit": {"threshold_amount": 100000},
        },
        {
            "id": ROGUE,
            "name": "Rogue",
            "data_retention": "none",
            "hosted_tools": {"web_search": True, "mcp": True},
            "spend_limit": {"threshold_amount": 900000},
            "users": [{"user": "alice@example.com", "role": "owner"}],
            "api_keys": [{"id": "key_old", "owner": {"type": "user", "id": "alice@example.com"}, "created_at": OLD}],
        },
    ],
}

POLICY = """\
unmanaged_projects: report
policy:
  data_retention: [zero_data_retention, enhanced_zero_data_retention]
  forbidden_hosted_tools: [web_search, mcp]
  allowed_models: [gpt-4.1, gpt-4.1-mini]
  allowed_residencies: [EU_STORAGE_PROCESSING]
  max_spend_limit: {amount_usd: 5000}
  keys: {max_age_days: 90, user_keys: forbidden}
"""

# Declares retention, mcp (not web_search), the model list and keys; leaves the spend limit undeclared.
MANAGED_FILE = """\
name: Managed
data_retention: zero_data_retention
hosted_tools: {mcp: false}
model_permissions: {mode: allow_list, model_ids: [gpt-4.1]}
keys: {max_age_days: 30, user_keys: forbidden}
"""


@pytest.fixture
def emulator() -> Emulator:
    return Emulator(admin_key=KEY, seed=SEED, rng_seed=3)


@pytest.fixture
async def api(emulator: Emulator) -> AsyncIterator[AdminApi]:
    client = AdminApi.connect(admin_key=KEY, http_transport=emulator.http_transport())
    yield client
    await client.aclose()


def findings(plan: Plan) -> list[tuple[str | None, str, str | None, str]]:
    return [(c.project, c.kind, c.subject, c.severity) for c in plan if isinstance(c.facts, PolicyFacts)]


async def test_unmanaged_and_undeclared_breaches_are_critical_reports(
    tmp_path: Path, api: AdminApi, emulator: Emulator
) -> None:
    desired = write_desired_state(tmp_path, POLICY, {"managed": MANAGED_FILE})
    plan = diff(desired, await observe(api, desired))
    assert sorted(findings(plan)) == [
        ("Managed", "project_hosted_tools", "policy: forbidden_hosted_tools", "critical"),
        ("Rogue", "project", "policy: allowed_residencies", "critical"),
        ("Rogue", "project_api_key", "policy: keys", "critical"),
        ("Rogue", "project_data_retention", "policy: data_retention", "critical"),
        ("Rogue", "project_hosted_tools", "policy: forbidden_hosted_tools", "critical"),
        ("Rogue", "project_model_permissions", "policy: allowed_models", "critical"),
        ("Rogue", "spend_limit", "policy: max_spend_limit", "critical"),
    ]
    by_rule = {c.subject: c for c in plan if isinstance(c.facts, PolicyFacts) and c.project == "Rogue"}
    assert by_rule["policy: data_retention"].reason == (
        "breaks the organization policy: 'none' is not allowed (allowed: zero_data_retention, "
        "enhanced_zero_data_retention); not changed: the project has no file"
    )
    assert "web_search enabled" in next(c.reason for c in plan if c.project == "Managed" and c.subject)
    assert "does not declare it" in next(c.reason for c in plan if c.project == "Managed" and c.subject)
    [unmanaged] = [c for c in plan if c.project == "Rogue" and c.subject is None]
    assert unmanaged.reason.endswith("so its data controls are checked only against the organization policy")
    keys = by_rule["policy: keys"].reason
    assert "key_old" in keys and "max_age_days: 90" in keys and "user_keys: forbidden" in keys
    # The managed project's spend limit (1000 USD) is within the policy: no finding for it.
    assert all(c.action == "report" and not c.applies for c in plan if isinstance(c.facts, PolicyFacts))

    # Never applied: applying the plan writes nothing for the findings, and the next plan still has them.
    observed = await observe(api, desired)
    result = await apply(api, plan, safety=SafetyCheck.of(desired, observed))
    assert not [c for c in result.applied if isinstance(c.facts, PolicyFacts)]
    assert findings(diff(desired, await observe(api, desired))) == findings(plan)


async def test_findings_appear_in_every_plan_format(tmp_path: Path, api: AdminApi) -> None:
    desired = write_desired_state(tmp_path, POLICY, {"managed": MANAGED_FILE})
    plan = diff(desired, await observe(api, desired))
    text, markdown = render_text(plan), render_markdown(plan)
    document = json.loads(render_json(plan))
    for rendered in (text, markdown):
        assert "policy: data_retention" in rendered and "breaks the organization policy" in rendered
    reported = [c for c in document["changes"] if (c.get("subject") or "").startswith("policy: ")]
    assert {c["severity"] for c in reported} == {"critical"} and len(reported) == 7


KEYS_AND_MODELS = """\
unmanaged_projects: ignore
policy:
  allowed_models: [gpt-4.1]
  keys: {max_age_days: 90, user_keys: forbidden}
"""


async def test_a_declared_control_costs_no_extra_request(tmp_path: Path, api: AdminApi, emulator: Emulator) -> None:
    """Managed declares keys and model permissions: the policy reads nothing more of it. Rogue has no file:
    its controls under the policy's rules are read, one request each (the cost of checking it)."""
    await observe(api, write_desired_state(tmp_path / "a", "unmanaged_projects: ignore\n", {"m": MANAGED_FILE}))
    without_policy = sorted(e.endpoint for e in emulator.requests if MANAGED in e.path)
    emulator.requests.clear()
    await observe(api, write_desired_state(tmp_path / "b", KEYS_AND_MODELS, {"m": MANAGED_FILE}))
    assert sorted(e.endpoint for e in emulator.requests if MANAGED in e.path) == without_policy
    assert sorted(e.endpoint for e in emulator.requests if ROGUE in e.path) == [
        "GET /organization/projects/{project_id}/api_keys",
        "GET /organization/projects/{project_id}/model_permissions",
    ]


async def test_ignored_groups_are_not_read_nor_checked(tmp_path: Path, api: AdminApi, emulator: Emulator) -> None:
    organization = POLICY + "enforcement: {keys: ignore, limits: ignore}\n"
    desired = write_desired_state(tmp_path, organization, {"managed": MANAGED_FILE})
    plan = diff(desired, await observe(api, desired))
    assert "policy: keys" not in {c.subject for c in plan}
    assert "policy: max_spend_limit" not in {c.subject for c in plan}
    assert not emulator.requests.for_template("/organization/projects/{project_id}/api_keys")


async def test_the_daemon_alerts_on_policy_findings(tmp_path: Path, api: AdminApi) -> None:
    desired = write_desired_state(tmp_path, POLICY, {"managed": MANAGED_FILE})
    plan = diff(desired, await observe(api, desired))
    ledger = DriftLedger()
    run = RunRecord(run_id="r1", mode="report", started_at=0.0)
    run.plan = plan
    await alert_run(run, ledger=ledger, notifier=Notifier(None), at="2026-01-01T00:00:00Z")
    alerted = [item.change for item in ledger.open.values() if (item.change.get("subject") or "").startswith("policy")]
    assert len(alerted) == 7
    assert {item["alert_severity"] for item in alerted} == {"critical"}


async def test_values_read_for_the_policy_do_not_count_in_the_safety_population(tmp_path: Path, api: AdminApi) -> None:
    """The thresholds are shares of what the files manage: keys of a project without a file, or a control
    read only for the policy, would dilute every share."""
    with_policy = write_desired_state(tmp_path / "a", POLICY, {"managed": MANAGED_FILE})
    without = write_desired_state(tmp_path / "b", "unmanaged_projects: report\n", {"managed": MANAGED_FILE})
    observed = await observe(api, with_policy)
    assert "spend_limit" in observed.settings[MANAGED] and observed.settings[ROGUE]
    assert population(observed, with_policy) == population(await observe(api, without), without)


async def test_the_policy_s_per_key_spend_cap_checks_keys_without_a_cap_or_above_it(
    tmp_path: Path, api: AdminApi, emulator: Emulator
) -> None:
    policy = "unmanaged_projects: report\npolicy:\n  keys: {max_spend_limit_usd: 100}\n"
    for key in emulator.state.projects[ROGUE].api_keys.values():
        key.spend_limit = {"currency": "USD", "interval": "month", "threshold_amount": 5_000}  # within the cap
    desired = write_desired_state(tmp_path, policy, {"managed": "name: Managed\n"})
    assert findings(diff(desired, await observe(api, desired))) == []
    for key in emulator.state.projects[ROGUE].api_keys.values():
        key.spend_limit = None
    plan = diff(desired, await observe(api, desired))
    assert findings(plan) == [("Rogue", "project_api_key", "policy: keys", "critical")]
    reason = next(c.reason for c in plan if isinstance(c.facts, PolicyFacts))
    assert "key_old" in reason and "has no spend limit (max_spend_limit_usd: 100.00 USD)" in reason
