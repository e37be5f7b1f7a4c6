"""The workload_identity section of organization.yaml refuses what would admit more than it says."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from datacontrols.desired.schema import OrganizationFile

RULE: dict[str, Any] = {
    "provider": "gh",
    "project": "Support",
    "service_account": "deploy",
    "attribute_matchers": {"repository": "acme/x"},
}


def organization(**rule: Any) -> OrganizationFile:
    return OrganizationFile.model_validate({"organization": {"workload_identity": {"rules": {"r": {**RULE, **rule}}}}})


def test_a_rule_reads_with_its_defaults() -> None:
    setting = organization().organization.workload_identity
    assert setting is not None and setting.mode == "additive"
    assert (setting.rules["r"].scopes, setting.rules["r"].enabled) == (None, True)


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"attribute_matchers": {}}, "an empty rule admits every token"),
        ({"scopes": []}, 'is not "no access"'),
        ({"scopes": ["a", "a"]}, "listed twice"),
        ({"provider": " "}, "at least 1 character"),
        ({"owner": "x"}, "Extra inputs are not permitted"),
    ],
)
def test_what_would_admit_more_than_it_says_is_refused(rule: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        organization(**rule)
