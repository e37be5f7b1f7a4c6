"""Rate limits, spend limits and spend alerts converge against the in-process emulator.

Desired state is written as YAML and loaded by the real loader, so these tests cover the whole path from
`amount_usd: 19.99` in a file to `"threshold_amount": 1999` in the request the emulator receives.
For every action of the three kinds: observe -> diff -> apply -> observe -> diff is empty.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from datacontrols.adminapi import AdminApi
from datacontrols.desired import DesiredState
from datacontrols.emulator import Emulator
from datacontrols.emulator.state import SpendAlertRecord, default_model_rate_limits
from datacontrols.engine import ApplyResult, apply, diff, observe
from datacontrols.errors import UnsafePlanError
from datacontrols.plan import Plan
from datacontrols.safety import SafetyCheck
from testsupport.desired_files import plan_of, write_desired_state

KEY = "sk-admin-limits-convergence-000000000000"
SUPPORT = "proj_support0000000000000000"
OTHER = "proj_other000000000000000000"
GPT_CEILING = default_model_rate_limits()["gpt-4.1"]["max_requests_per_1_minute"]

SEED: dict[str, Any] = {
    "projects": [
        {
            "id": SUPPORT,
            "name": "Support",
            "rate_limits": {"gpt-4.1": {"max_requests_per_1_minute": 5000}, "o3": {"max_tokens_per_1_minute": 1000}},
            "spend_limit": {"threshold_amount": 100000},
            "spend_alerts": [
                {"id": "alert_10", "threshold_amount": 1000, "recipients": ["old@example.com"]},
                {"id": "alert_90", "threshold_amount": 9000, "recipients": ["old@example.com"]},
            ],
        },
        {"id": OTHER, "name": "Other", "spend_limit": {"threshold_amount": 700}},
    ],
}

IGNORE_OTHERS = "unmanaged_projects: ignore\n"
ORGANIZATION = (
    IGNORE_OTHERS
    + """\
organization:
  spend_limit: {amount_usd: 20000}
  spend_alerts:
    - {threshold_usd: 15000, recipients: [finops@example.com], subject_prefix: "[org]"}
"""
)

SUPPORT_FILE = """\
name: Support
rate_limits:
  gpt-4.1: {max_requests_per_1_minute: 500, max_tokens_per_1_minute: 200000}
  o3: {max_tokens_per_1_minute: 2000}
spend_limit: {amount_usd: 19.99}
spend_alerts:
  - {threshold_usd: 5, recipients: [finops@example.com]}
  - {threshold_usd: 10, recipients: [finops@example.com, OLD@example.com]}
"""


def desired_state(root: Path, organization: str, **projects: str) -> DesiredState:
    return write_desired_state(root, organization, projects)


@pytest.fixture
def emulator() -> Emulator:
    return Emulator(admin_key=KEY, seed=SEED, rng_seed=5)


@pytest.fixture
async def api(emulator: Emulator) -> AsyncIterator[AdminApi]:
    client = AdminApi.connect(admin_key=KEY, http_transport=emulator.http_transport())
    yield client
    await client.aclose()


async def converge(
    api: AdminApi, desired: DesiredState, *, acknowledge: bool = False
) -> tuple[Plan, ApplyResult, Plan]:
    """Plan, apply under the safety thresholds (`acknowledge`: this very plan, as `--allow-unsafe` does), plan."""
    observed = await observe(api, desired)
    before = diff(desired, observed)
    check = SafetyCheck.of(desired, observed, allow_unsafe=before.digest() if acknowledge else None)
    result = await apply(api, before, safety=check)
    return before, result, await plan_of(api, desired)


def actions(plan: Plan, *kinds: str) -> list[tuple[str | None, str, str, str | None]]:
    return [(c.project, c.kind, c.action, c.subject) for c in plan if c.kind in kinds]


LIMIT_KINDS = ("project_rate_limit", "spend_limit", "spend_alert")


async def test_every_action_converges_to_an_empty_plan(tmp_path: Path, api: AdminApi, emulator: Emulator) -> None:
    desired = desired_state(tmp_path, ORGANIZATION, support=SUPPORT_FILE)
    before, result, after = await converge(api, desired)

    assert actions(before, *LIMIT_KINDS) == [
        (None, "spend_limit", "create", None),
        (None, "spend_alert", "create", "15000.00 USD"),
        ("Support", "project_rate_limit", "update", "gpt-4.1"),
        ("Support", "project_rate_limit", "update", "o3"),
        ("Support", "spend_limit", "update", None),
        ("Support", "spend_alert", "create", "5.00 USD"),
        ("Support", "spend_alert", "update", "10.00 USD"),
        ("Support", "spend_alert", "delete", "90.00 USD"),
    ]
    severities = {(c.project, c.kind, c.subject): c.severity for c in before}
    assert severities[("Support", "project_rate_limit", "gpt-4.1")] == "high", "a lower limit may refuse requests"
    assert severities[("Support", "project_rate_limit", "o3")] == "normal", "a higher one cuts nothing off"
    assert severities[("Support", "spend_limit", None)] == "high", "a lower hard limit may stop requests"
    assert severities[("Support", "spend_alert", "90.00 USD")] == "normal", "an alert removed cuts nothing off"
    assert result.ok, result.failed
    assert not after.has_changes and list(after) == []

    support = emulator.state.projects[SUPPORT]
    assert support.rate_limits["gpt-4.1"] == {"max_requests_per_1_minute": 500, "max_tokens_per_1_minute": 200000}
    assert support.spend_limit == 1999
    assert sorted((a.threshold_amount, a.id) for a in support.spend_alerts)[1] == (1000, "alert_10"), "updated in place"
    assert emulator.state.organization.spend_limit == 2000000
    assert emulator.state.projects[OTHER].spend_limit == 700, "a project without the key is not managed"


async def test_dollars_and_cents_reach_the_api_as_exact_cents(
    tmp_path: Path, api: AdminApi, emulator: Emulator
) -> None:
    desired = desired_state(tmp_path, ORGANIZATION, support=SUPPORT_FILE)
    await converge(api, desired)
    bodies = [e.body for e in emulator.requests if e.method == "POST" and e.path.endswith(f"{SUPPORT}/spend_limit")]
    assert bodies == [{"threshold_amount": 1999, "currency": "USD", "interval": "month"}]
    created = [e.body for e in emulator.requests if e.method == "POST" and e.path.endswith(f"{SUPPORT}/spend_alerts")]
    assert created == [
        {
            "threshold_amount": 500,
            "currency": "USD",
            "interval": "month",
            "notification_channel": {"type": "email", "recipients": ["finops@example.com"], "subject_prefix": None},
        }
    ]
    organization = [
        e.body for e in emulator.requests if e.method == "POST" and e.path.endswith("/organization/spend_limit")
    ]
    assert organization == [{"threshold_amount": 2000000, "currency": "USD", "interval": "month"}]


async def test_removing_limits_and_alerts_converges(tmp_path: Path, api: AdminApi, emulator: Emulator) -> None:
    emulator.state.organization.spend_limit = 5000
    emulator.state.organization.spend_alerts.append(SpendAlertRecord("alert_org", 100000, ["someone@example.com"]))
    desired = desired_state(
        tmp_path,
        IGNORE_OTHERS + "organization:\n  spend_limit: none\n  spend_alerts: []\n",
        support="name: Support\nspend_limit: none\nspend_alerts: []\n",
    )
    # Removing every spend limit and alert is a bulk removal: the safety thresholds stop it unacknowledged.
    with pytest.raises(UnsafePlanError, match=r"removals \(spend_(limit|alert)\)"):
        await converge(api, desired)
    assert emulator.state.organization.spend_limit == 5000, "nothing was written"
    before, result, after = await converge(api, desired, acknowledge=True)
    assert sorted(actions(before, *LIMIT_KINDS), key=str) == sorted(
        [
            (None, "spend_limit", "delete", None),
            (None, "spend_alert", "delete", "1000.00 USD"),
            ("Support", "spend_limit", "delete", None),
            ("Support", "spend_alert", "delete", "10.00 USD"),
            ("Support", "spend_alert", "delete", "90.00 USD"),
        ],
        key=str,
    )
    # Removing a hard spend limit weakens a control; removing an alert does not, nor does it cut anything off.
    assert {(c.kind, c.severity) for c in before} == {("spend_limit", "critical"), ("spend_alert", "normal")}
    assert result.ok and list(after) == []
    assert emulator.state.organization.spend_limit is None and emulator.state.organization.spend_alerts == []
    assert emulator.state.projects[SUPPORT].spend_limit is None and emulator.state.projects[SUPPORT].spend_alerts == []


async def test_a_new_project_gets_its_limits_right_after_creation(
    tmp_path: Path, api: AdminApi, emulator: Emulator
) -> None:
    project = (
        "name: Fresh\n"
        "rate_limits: {text-embedding-3-small: {max_requests_per_1_day: 1000}}\n"
        "spend_limit: {amount_usd: 0.5}\n"
        "spend_alerts: [{threshold_usd: 0.25, recipients: [a@example.com], subject_prefix: '[fresh]'}]\n"
    )
    desired = desired_state(tmp_path, IGNORE_OTHERS, fresh=project)
    before, result, after = await converge(api, desired)
    assert actions(before, "project", *LIMIT_KINDS) == [
        ("Fresh", "project", "create", None),
        ("Fresh", "project_rate_limit", "update", "text-embedding-3-small"),
        ("Fresh", "spend_limit", "create", None),
        ("Fresh", "spend_alert", "create", "0.25 USD"),
    ]
    assert result.ok, result.failed
    assert [c for c in after if c.project == "Fresh"] == []
    fresh = next(p for p in emulator.state.projects.values() if p.name == "Fresh")
    assert fresh.rate_limits == {"text-embedding-3-small": {"max_requests_per_1_day": 1000}}
    assert fresh.spend_limit == 50
    assert [(a.threshold_amount, a.subject_prefix) for a in fresh.spend_alerts] == [(25, "[fresh]")]


async def test_an_unknown_model_is_reported_and_the_run_goes_on(
    tmp_path: Path, api: AdminApi, emulator: Emulator
) -> None:
    project = (
        "name: Support\n"
        "rate_limits:\n"
        "  gpt-4.1-typo: {max_requests_per_1_minute: 5}\n"
        "  gpt-4.1: {max_requests_per_1_minute: 400, max_images_per_1_minute: 2}\n"
        "spend_limit: {amount_usd: 10}\n"
    )
    desired = desired_state(tmp_path, IGNORE_OTHERS, support=project)
    before, result, after = await converge(api, desired)
    reports = [(c.subject, c.reason) for c in before if c.action == "report" and c.kind == "project_rate_limit"]
    assert [subject for subject, _ in reports] == ["gpt-4.1", "gpt-4.1-typo"]
    assert "max_images_per_1_minute" in reports[0][1] and "no rate-limit row for gpt-4.1-typo" in reports[1][1]
    assert result.ok and {(c.kind, c.subject) for c in result.applied} == {
        ("project_rate_limit", "gpt-4.1"),
        ("spend_limit", None),
    }
    assert not after.has_changes, "reports are findings, not drift"
    assert [c.action for c in after] == ["report", "report"], "they stay visible on every run"
    assert emulator.state.projects[SUPPORT].rate_limits["gpt-4.1"]["max_requests_per_1_minute"] == 400


async def test_a_raise_the_api_refuses_fails_that_project_only(
    tmp_path: Path, api: AdminApi, emulator: Emulator
) -> None:
    desired = desired_state(
        tmp_path,
        IGNORE_OTHERS,
        support=f"name: Support\nrate_limits: {{gpt-4.1: {{max_requests_per_1_minute: {GPT_CEILING + 1}}}}}\n",
        other="name: Other\nspend_limit: {amount_usd: 3}\n",
    )
    _, result, after = await converge(api, desired)
    ((failed, message),) = result.failed
    assert (failed.project, failed.kind, failed.severity) == ("Support", "project_rate_limit", "normal")
    assert f"organization's limit of {GPT_CEILING}" in message
    assert [(c.project, c.kind) for c in result.applied] == [("Other", "spend_limit")]
    assert actions(after, *LIMIT_KINDS) == [("Support", "project_rate_limit", "update", "gpt-4.1")]


async def test_a_project_limit_above_the_organizations_is_a_warning_not_drift(
    tmp_path: Path, api: AdminApi, emulator: Emulator
) -> None:
    emulator.state.organization.spend_limit = 10000  # 100.00 USD live; organization.yaml does not manage it
    desired = desired_state(tmp_path, IGNORE_OTHERS, support="name: Support\nspend_limit: {amount_usd: 1000}\n")
    plan = await plan_of(api, desired)
    (warning,) = [c for c in plan if c.action == "report"]
    assert (warning.project, warning.kind, warning.severity) == ("Support", "spend_limit", "normal")
    assert "1000.00 USD is above the organization's 100.00 USD" in warning.reason
    await apply(api, plan)
    assert emulator.state.organization.spend_limit == 10000, "a warning is never applied"


async def test_a_dry_run_only_reads(tmp_path: Path, emulator: Emulator) -> None:
    desired = desired_state(tmp_path, ORGANIZATION, support=SUPPORT_FILE)
    async with AdminApi.connect(admin_key=KEY, http_transport=emulator.http_transport(), read_only=True) as reader:
        plan = await plan_of(reader, desired)
    assert plan.has_changes and emulator.requests.methods() == {"GET"}
