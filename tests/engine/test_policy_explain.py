"""`reconcile explain` shows each project's standing against the organization policy, in text and JSON."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from datacontrols.adminapi import AdminApi
from datacontrols.emulator import Emulator
from datacontrols.explain import explain_organization, explanation_json, render_explanation
from testsupport.desired_files import write_desired_state

KEY = "sk-admin-policy-explain-00000000000000"
SEED: dict[str, Any] = {
    "organization": {"data_retention": "zero_data_retention"},
    "users": [{"id": "user-alice", "email": "alice@example.com", "name": "Alice", "role": "owner"}],
    "projects": [
        {
            "id": "proj_good000000000000000000",
            "name": "Good",
            "residency": "EU_STORAGE_PROCESSING",
            "hosted_tools": {"web_search": False, "mcp": False},
            "model_permissions": {"mode": "allow_list", "model_ids": ["gpt-4.1"]},
            "spend_limit": {"threshold_amount": 100000},
        },
        {
            "id": "proj_bad0000000000000000000",
            "name": "Bad",
            "data_retention": "none",
            "hosted_tools": {"web_search": True, "mcp": False},
            "users": [{"user": "alice@example.com", "role": "owner"}],
            "api_keys": [{"id": "key_u", "owner": {"type": "user", "id": "alice@example.com"}}],
        },
    ],
}
POLICY = """\
policy:
  data_retention: [zero_data_retention]
  forbidden_hosted_tools: [web_search, mcp]
  allowed_models: [gpt-4.1]
  allowed_residencies: [EU_STORAGE_PROCESSING]
  max_spend_limit: {amount_usd: 5000}
  keys: {user_keys: forbidden}
"""


@pytest.fixture
def emulator() -> Emulator:
    return Emulator(admin_key=KEY, seed=SEED, rng_seed=4)


@pytest.fixture
async def api(emulator: Emulator) -> AsyncIterator[AdminApi]:
    client = AdminApi.connect(admin_key=KEY, http_transport=emulator.http_transport())
    yield client
    await client.aclose()


async def test_each_rule_met_or_broken_in_text_and_json(tmp_path: Path, api: AdminApi, emulator: Emulator) -> None:
    desired = write_desired_state(tmp_path, POLICY, {})
    explanation = await explain_organization(api, desired)
    text = render_explanation(explanation)
    good = text.split('project "Good"', 1)[1].split("\nproject ", 1)[0]
    bad = text.split('project "Bad"', 1)[1].split("\nproject ", 1)[0]
    assert "policy                data_retention: met: zero_data_retention (organization_default)" in good
    assert "policy                max_spend_limit: met: hard limit 1000.00 USD" in good
    assert "BROKEN" not in good
    assert "policy                data_retention: BROKEN: 'none' is not allowed (allowed: zero_data_retention)" in bad
    assert "policy                forbidden_hosted_tools: BROKEN: web_search enabled; the policy forbids it" in bad
    assert "policy                allowed_models: BROKEN: unrestricted allows every model" in bad
    assert "policy                allowed_residencies: BROKEN: GLOBAL is not allowed" in bad
    assert "policy                max_spend_limit: BROKEN: no hard spend limit" in bad
    assert "policy                keys: BROKEN: 1 key(s) break it" in bad and "user_keys: forbidden" in bad

    document = explanation_json(explanation)
    by_name = {p["name"]: p for p in document["projects"]}
    assert [(r["rule"], r["met"]) for r in by_name["Good"]["policy"]] == [
        ("data_retention", True),
        ("forbidden_hosted_tools", True),
        ("allowed_models", True),
        ("allowed_residencies", True),
        ("max_spend_limit", True),
        ("keys", True),
    ]
    assert {r["rule"] for r in by_name["Bad"]["policy"] if r["met"] is False} == {
        "data_retention",
        "forbidden_hosted_tools",
        "allowed_models",
        "allowed_residencies",
        "max_spend_limit",
        "keys",
    }
    # The keys come from the access listing explain makes anyway: one listing per project, not two.
    assert len(emulator.requests.for_template("/organization/projects/{project_id}/api_keys")) == 2
    assert emulator.requests.methods() == {"GET"}


async def test_without_a_policy_there_is_no_standing(tmp_path: Path, api: AdminApi, emulator: Emulator) -> None:
    explanation = await explain_organization(api, write_desired_state(tmp_path, "{}\n", {}))
    assert "  policy " not in render_explanation(explanation)
    assert {p["policy"] for p in explanation_json(explanation)["projects"]} == {None}
    assert not emulator.requests.for_template("/organization/projects/{project_id}/spend_limit")
