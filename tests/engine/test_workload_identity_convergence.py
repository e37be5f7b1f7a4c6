"""Workload identity federation through the engine against the in-process emulator.

Rules declared in organization.yaml are created and corrected, undeclared live rules are reported (or, in
authoritative mode, deleted), a missing provider is a report, and export then plan is empty.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from datacontrols.adminapi import AdminApi
from datacontrols.emulator import Emulator
from datacontrols.emulator.state import FederationRuleRecord, WorkloadIdentityProviderRecord
from datacontrols.engine import apply, diff, observe
from datacontrols.export import export_organization
from datacontrols.plan import FieldChange
from datacontrols.safety import SafetyCheck
from testsupport.desired_files import plan_of, write_desired_state

KEY = "sk-admin-federation-convergence-0000000"
SUPPORT = "proj_federationsupport000001"
SEED: dict[str, Any] = {
    "projects": [
        {
            "id": SUPPORT,
            "name": "Support",
            "service_accounts": [{"id": "svc_acct_deploy", "name": "deploy"}, {"id": "svc_acct_ci", "name": "ci"}],
        },
        {"name": "Plain"},
    ]
}
RULE = """\
      deploy-main:
        provider: github-actions
        project: Support
        service_account: deploy
        attribute_matchers: {repository: acme/support, ref: refs/heads/main}
        scopes: [api.model.request]
"""
ORGANIZATION = "unmanaged_projects: ignore\norganization:\n  workload_identity:\n    rules:\n" + RULE
FILES = {"support": "name: Support\n", "plain": "name: Plain\n"}


@pytest.fixture
def emulator() -> Emulator:
    emulator = Emulator(admin_key=KEY, seed=SEED, rng_seed=5)
    emulator.state.workload_identity_providers["wip_github"] = WorkloadIdentityProviderRecord(
        id="wip_github", name="github-actions", issuer="https://token.actions.githubusercontent.com", audience="openai"
    )
    return emulator


@pytest.fixture
async def api(emulator: Emulator) -> AsyncIterator[AdminApi]:
    client = AdminApi.connect(admin_key=KEY, http_transport=emulator.http_transport())
    yield client
    await client.aclose()


def hand_made(emulator: Emulator, rule_id: str, name: str | None, account: str, **fields: Any) -> None:
    emulator.state.federation_rules[rule_id] = FederationRuleRecord(
        id=rule_id,
        provider_id="wip_github",
        project_id=SUPPORT,
        service_account_id=account,
        attribute_matchers=fields.pop("matchers", {"repository": "acme/support"}),
        permissions=fields.pop("permissions", {"type": "service_account_default"}),
        name=name,
        **fields,
    )


def ours(plan: Any) -> list[Any]:
    return [c for c in plan if c.kind == "workload_identity"]


async def test_a_declared_rule_is_created_once_and_then_the_plan_is_empty(
    tmp_path: Path, api: AdminApi, emulator: Emulator
) -> None:
    desired = write_desired_state(tmp_path, ORGANIZATION, FILES)
    observed = await observe(api, desired)
    plan = diff(desired, observed)
    [create] = ours(plan)
    assert (create.action, create.subject, create.severity) == ("create", "deploy-main", "critical")
    assert "tokens from github-actions matching" in (create.weakens or "")
    # It lets workloads in: the ratchet holds it until a person approves exactly this plan.
    result = await apply(api, plan, safety=SafetyCheck.of(desired, observed, allow_unsafe=plan.digest()))
    assert result.ok, result
    [rule] = emulator.state.federation_rules.values()
    assert (rule.name, rule.service_account_id, rule.permissions) == (
        "deploy-main",
        "svc_acct_deploy",
        {"type": "restricted", "scopes": ["api.model.request"]},
    )
    assert ours(await plan_of(api, desired)) == []


async def test_hand_made_drift_is_corrected_and_an_undeclared_rule_is_reported(
    tmp_path: Path, api: AdminApi, emulator: Emulator
) -> None:
    hand_made(
        emulator, "wifr_declared", "deploy-main", "svc_acct_deploy", matchers={"repository": "acme/support"}
    )  # the ref matcher was dropped by hand: any branch may deploy
    hand_made(emulator, "wifr_extra", None, "svc_acct_ci")
    desired = write_desired_state(tmp_path, ORGANIZATION, FILES)
    plan = await plan_of(api, desired)
    found = {c.subject: c for c in ours(plan)}
    update = found["deploy-main"]
    assert update.action == "update" and update.fields["scopes"] == FieldChange(None, ["api.model.request"])
    assert update.fields["attribute_matchers"].after == {"ref": "refs/heads/main", "repository": "acme/support"}
    assert (update.severity, update.weakens) == ("high", None), "it narrows what the rule admits: may interrupt"
    extra = found["wifr_extra"]
    assert (extra.action, extra.severity) == ("report", "high")
    assert "tokens from github-actions matching {'repository': 'acme/support'} act as ci in Support" in extra.reason

    authoritative = ORGANIZATION.replace("    rules:\n", "    mode: authoritative\n    rules:\n")
    strict = write_desired_state(tmp_path / "strict", authoritative, FILES)
    observed = await observe(api, strict)
    plan = diff(strict, observed)
    delete = next(c for c in ours(plan) if c.subject == "wifr_extra")
    assert delete.action == "delete" and "lose access as ci in Support" in (delete.disrupts or "")
    result = await apply(api, plan, safety=SafetyCheck.of(strict, observed))
    assert result.ok, result
    assert set(emulator.state.federation_rules) == {"wifr_declared"}
    assert emulator.state.federation_rules["wifr_declared"].permissions["type"] == "restricted"
    assert ours(await plan_of(api, strict)) == []


async def test_a_rule_opened_by_hand_is_critical_and_a_moved_one_uncorrectable(
    tmp_path: Path, api: AdminApi, emulator: Emulator
) -> None:
    hand_made(
        emulator,
        "wifr_declared",
        "deploy-main",
        "svc_acct_deploy",
        matchers={"repository": "acme/support", "ref": "refs/heads/main"},
        permissions={"type": "restricted", "scopes": ["api.model.request"]},
    )
    desired = write_desired_state(tmp_path, ORGANIZATION.replace("api.model.request", "api.all.read"), FILES)
    [widen] = ours(await plan_of(api, desired))
    assert widen.severity == "critical" and "adds scopes api.all.read" in (widen.weakens or "")

    emulator.state.federation_rules["wifr_declared"].service_account_id = "svc_acct_ci"
    [moved] = ours(await plan_of(api, write_desired_state(tmp_path / "b", ORGANIZATION, FILES)))
    assert moved.action == "uncorrectable" and "service account" in moved.reason


async def test_a_missing_provider_is_a_report_and_nothing_is_read_without_the_key(
    tmp_path: Path, api: AdminApi, emulator: Emulator
) -> None:
    missing = write_desired_state(tmp_path, ORGANIZATION.replace("github-actions", "gitlab"), FILES)
    [report] = ours(await plan_of(api, missing))
    assert report.action == "report" and "provider 'gitlab' is not registered" in report.reason
    emulator.requests.clear()
    await plan_of(api, write_desired_state(tmp_path / "none", "unmanaged_projects: ignore\n", FILES))
    assert emulator.requests.for_template("/organization/workload_identity_providers") == []


async def test_export_writes_the_rules_so_the_plan_after_is_empty(
    tmp_path: Path, api: AdminApi, emulator: Emulator
) -> None:
    hand_made(emulator, "wifr_a", "deploy-main", "svc_acct_deploy", enabled=False)
    hand_made(emulator, "wifr_b", None, "svc_acct_ci", permissions={"type": "restricted", "scopes": ["b", "a"]})
    result = await export_organization(api, tmp_path / "exported")
    assert result.desired is not None
    setting = result.desired.organization.organization.workload_identity
    assert setting is not None and sorted(setting.rules) == ["deploy-main", "wifr_b"]
    assert setting.rules["wifr_b"].scopes == ["a", "b"] and not setting.rules["deploy-main"].enabled
    assert not (await plan_of(api, result.desired)).has_changes


async def test_explain_names_who_reaches_a_project_without_a_key(api: AdminApi, emulator: Emulator) -> None:
    from datacontrols.explain import explain_organization, explanation_json, render_explanation

    hand_made(emulator, "wifr_a", "deploy-main", "svc_acct_deploy", matchers={"repository": "acme/support"})
    explained = await explain_organization(api, None)
    text = render_explanation(explained)
    assert (
        "keyless access        deploy-main: tokens from github-actions with repository=acme/support act as deploy "
        "with its default permissions"
    ) in text
    plain = next(p for p in explanation_json(explained)["projects"] if p["name"] == "Plain")
    assert {"what": "keyless access", "detail": "none"} in plain["access"]
