"""A project's data retention, with `organization_default` resolved against the organization's value."""

from __future__ import annotations

from typing import Final

import pytest
from kinds_support import desired_project, world

from datacontrols.desired.schema import ProjectDefaults
from datacontrols.kinds.base import NOT_CREATED
from datacontrols.kinds.organization_retention import Unreadable
from datacontrols.kinds.project_retention import ProjectDataRetention
from datacontrols.plan import FieldChange

KIND = ProjectDataRetention()
ZDR: Final = "zero_data_retention"
MAM: Final = "modified_abuse_monitoring"


def test_unmanaged_when_neither_file_nor_defaults_name_it() -> None:
    project = desired_project(name="x")
    assert not KIND.manages(project)
    assert KIND.compare(project, "none", world(ZDR)) == []


@pytest.mark.parametrize(
    ("defaults", "own", "effective"),
    [
        pytest.param(ProjectDefaults(data_retention=ZDR), {}, ZDR, id="default-applies"),
        pytest.param(ProjectDefaults(data_retention=ZDR), {"data_retention": "none"}, "none", id="file-overrides"),
        pytest.param(None, {"data_retention": MAM}, MAM, id="file-alone"),
    ],
)
def test_defaults_unless_the_file_says_otherwise(
    defaults: ProjectDefaults | None, own: dict[str, str], effective: str
) -> None:
    project = desired_project(defaults, name="x", **own)
    assert KIND.manages(project)
    assert KIND.compare(project, effective, world(ZDR)) == []
    [change] = KIND.compare(project, "organization_default", world(ZDR))
    assert change.fields == {"type": FieldChange("organization_default", effective)}


@pytest.mark.parametrize("retention", ["organization_default", "none", ZDR, MAM, "enhanced_zero_data_retention"])
def test_equal_is_quiet(retention: str) -> None:
    assert KIND.compare(desired_project(name="x", data_retention=retention), retention, world(MAM)) == []


def test_difference_is_one_update_of_type() -> None:
    [change] = KIND.compare(desired_project(name="x", data_retention=ZDR), "none", world(ZDR))
    assert (change.action, change.kind, change.project) == ("update", "project_data_retention", "x")
    assert change.fields == {"type": FieldChange("none", ZDR)}
    assert change.reason == "project data retention differs"


def test_new_project_is_set_after_creation_with_no_before() -> None:
    [change] = KIND.compare(desired_project(name="x", data_retention=ZDR), NOT_CREATED, world(ZDR))
    assert change.action == "update"
    assert change.fields == {"type": FieldChange(None, ZDR)}
    assert change.reason == "set on the new project"
    assert change.order > 0  # after the create (order 0)


@pytest.mark.parametrize(
    ("observed", "wanted", "organization", "severity"),
    [
        pytest.param("organization_default", ZDR, ZDR, "normal", id="org-default-resolves-to-same"),
        pytest.param(ZDR, "organization_default", ZDR, "normal", id="to-org-default-same-strength"),
        pytest.param("organization_default", ZDR, MAM, "normal", id="live-inherits-weaker"),
        pytest.param(ZDR, "organization_default", MAM, "critical", id="inheriting-weakens"),
        pytest.param("none", MAM, ZDR, "normal", id="live-has-none"),
        pytest.param(MAM, "none", ZDR, "critical", id="leaves-mam"),
        pytest.param(MAM, ZDR, None, "normal", id="no-org-needed"),
        pytest.param("organization_default", ZDR, None, "normal", id="org-not-read"),
        pytest.param("organization_default", ZDR, Unreadable("403"), "normal", id="org-unreadable"),
        pytest.param("organization_default", ZDR, "future_value", "normal", id="org-unknown"),
        pytest.param("future_value", ZDR, ZDR, "normal", id="live-unknown"),
    ],
)
def test_severity(observed: str, wanted: str, organization: object, severity: str) -> None:
    # Critical only when the change weakens retention; moving to stronger retention, even from an unknown
    # one, tightens (normal): it is what the file asks, and it cuts no traffic off.
    [change] = KIND.compare(desired_project(name="x", data_retention=wanted), observed, world(organization))
    assert change.severity == severity


@pytest.mark.parametrize(
    ("wanted", "organization", "severity"),
    [
        pytest.param(ZDR, ZDR, "normal", id="same-as-inherited"),
        pytest.param(ZDR, MAM, "normal", id="stronger-than-inherited"),
        pytest.param("none", ZDR, "critical", id="weaker-than-inherited"),
        pytest.param("organization_default", ZDR, "normal", id="inherits"),
        pytest.param(ZDR, None, "normal", id="org-not-read"),
    ],
)
def test_new_project_severity_measures_against_inheriting(wanted: str, organization: object, severity: str) -> None:
    # A new project starts out inheriting the organization's retention.
    [change] = KIND.compare(desired_project(name="x", data_retention=wanted), NOT_CREATED, world(organization))
    assert change.severity == severity
