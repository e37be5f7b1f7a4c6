"""The organization policy's `encryption_keys`: every project's data under one of the customer-managed keys
named. Project files that name another key, or `openai_managed`, are refused at their line; live projects no
file holds to a key (no file, or no `encryption_key`) are critical findings when unencrypted by the customer,
under another key, or bound to a key that is gone; explain shows the standing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from datacontrols.adminapi import AdminApi
from datacontrols.desired.policy import Policy, encryption_breach
from datacontrols.emulator import Emulator
from datacontrols.engine import diff, observe
from datacontrols.errors import DesiredStateError
from datacontrols.explain import explain_organization, render_explanation
from datacontrols.kinds.policy import PolicyFacts
from testsupport.desired_files import write_desired_state

KEY = "sk-admin-policy-ekm-00000000000000000000"
AWS = {"type": "aws", "kms_arn": "arn:aws:kms:eu-west-1:1:key/x"}
SEED: dict[str, Any] = {
    "projects": [
        {"id": "proj_plain000000000000000001", "name": "Plain"},
        {"id": "proj_prod0000000000000000001", "name": "Prod", "external_key_id": "ekm_prod"},
        {"id": "proj_dev00000000000000000001", "name": "Dev", "external_key_id": "ekm_dev"},
        {"id": "proj_gone0000000000000000001", "name": "Gone", "external_key_id": "ekm_removed"},
    ],
    "external_keys": [{"id": "ekm_prod", "name": "acme-prod", **AWS}, {"id": "ekm_dev", "name": "acme-dev", **AWS}],
}
POLICY = "unmanaged_projects: report\npolicy:\n  encryption_keys: [acme-prod]\n"


def test_files_under_another_key_or_none_are_refused_at_their_line(tmp_path: Path) -> None:
    files = {
        "dev": "name: Dev\nencryption_key: {name: acme-dev}\n",  # 2
        "plain": "name: Plain\nencryption_key: openai_managed\n",  # 2
        "prod": "name: Prod\nencryption_key: {name: acme-prod, type: aws}\n",
    }
    with pytest.raises(DesiredStateError) as caught:
        write_desired_state(tmp_path, POLICY, files)
    found = sorted(str(p) for p in caught.value.problems)
    assert len(found) == 2
    assert "projects/dev.yaml:2:" in found[0] and 'the key "acme-dev" (allowed: acme-prod)' in found[0]
    assert "projects/plain.yaml:2:" in found[1] and "OpenAI-managed keys" in found[1]
    assert all("policy.encryption_keys" in p for p in found)


async def test_live_projects_no_file_holds_to_a_key_are_critical_findings(
    tmp_path: Path, api: AdminApi, emulator: Emulator
) -> None:
    desired = write_desired_state(tmp_path, POLICY, {"prod": "name: Prod\n"})  # Prod's file names no key
    plan = diff(desired, await observe(api, desired))
    found = {c.project: c for c in plan if isinstance(c.facts, PolicyFacts)}
    assert set(found) == {"Plain", "Dev", "Gone"}, "Prod is under an allowed key"
    assert all(
        (c.kind, c.subject, c.severity, c.action) == ("encryption_key", "policy: encryption_keys", "critical", "report")
        for c in found.values()
    )
    assert "OpenAI-managed keys" in found["Plain"].reason
    assert 'the key "acme-dev"' in found["Dev"].reason
    assert "ekm_removed, which the organization does not have" in found["Gone"].reason
    assert emulator.requests.writes() == []


async def test_explain_shows_the_standing(tmp_path: Path, api: AdminApi) -> None:
    desired = write_desired_state(tmp_path, POLICY, {"prod": "name: Prod\n", "dev": "name: Dev\n"})
    text = render_explanation(await explain_organization(api, desired))
    lines = [line.strip() for line in text.splitlines() if "encryption_keys" in line]
    assert sorted(line.split(": ", 1)[1][:6] for line in lines) == ["BROKEN"] * 3 + ["met: a"]  # every live one
    assert any('met: aws key "acme-prod"' in line for line in lines)


def test_the_rule_as_a_pure_function() -> None:
    policy = Policy.model_validate({"encryption_keys": ["acme-prod", "acme-prod-eu"]})
    assert encryption_breach(policy, "acme-prod-eu") is None
    assert (
        encryption_breach(policy, "acme-dev")
        == 'the data is encrypted with the key "acme-dev" (allowed: acme-prod, acme-prod-eu)'
    )
    assert encryption_breach(Policy(), None) is None
