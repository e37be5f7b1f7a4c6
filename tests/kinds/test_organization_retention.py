"""The organization's data retention: compared only when the desired state names it."""

from __future__ import annotations

from typing import Any

import pytest
from kinds_support import world

from datacontrols.desired.schema import (
    DesiredState,
    OrganizationFile,
    OrganizationSettings,
    ProjectDefaults,
    ProjectFile,
)
from datacontrols.kinds.organization_retention import OrganizationDataRetention, Unreadable
from datacontrols.plan import FieldChange

KIND = OrganizationDataRetention()


def desired(retention: str | None, *projects: ProjectFile, defaults: ProjectDefaults | None = None) -> DesiredState:
    return DesiredState(
        organization=OrganizationFile(
            organization=OrganizationSettings(data_retention=retention),  # type: ignore[arg-type]
            project_defaults=defaults or ProjectDefaults(),
        ),
        projects=projects,
    )


def test_absent_is_not_managed_and_never_compared() -> None:
    state = desired(None)
    assert not KIND.manages(state)
    assert not KIND.reads(state)
    assert KIND.compare(state, "modified_abuse_monitoring", world()) == []


@pytest.mark.parametrize(
    "state",
    [
        pytest.param(desired(None, ProjectFile(name="x", data_retention="organization_default")), id="project-file"),
        pytest.param(
            desired(None, ProjectFile(name="x"), defaults=ProjectDefaults(data_retention="none")), id="default"
        ),
    ],
)
def test_read_without_being_managed_when_projects_manage_retention(state: DesiredState) -> None:
    # `organization_default` means the organization's value: its strength decides the projects' severity.
    assert not KIND.manages(state)
    assert KIND.reads(state)


@pytest.mark.parametrize(
    "retention",
    ["zero_data_retention", "modified_abuse_monitoring", "enhanced_zero_data_retention"],
)
def test_equal_is_quiet(retention: str) -> None:
    assert KIND.compare(desired(retention), retention, world()) == []


@pytest.mark.parametrize(
    ("observed", "wanted", "severity"),
    [
        pytest.param("zero_data_retention", "modified_abuse_monitoring", "critical", id="leaves-zdr"),
        pytest.param("modified_abuse_monitoring", "zero_data_retention", "normal", id="live-weaker"),
        pytest.param("enhanced_zero_data_retention", "zero_data_retention", "critical", id="leaves-enhanced"),
        pytest.param("some_future_value", "zero_data_retention", "normal", id="unknown-live-value"),
        pytest.param(None, "zero_data_retention", "normal", id="not-read"),
    ],
)
def test_difference_is_one_update(observed: Any, wanted: str, severity: str) -> None:
    [change] = KIND.compare(desired(wanted), observed, world())
    assert (change.action, change.kind, change.project, change.severity) == (
        "update",
        "organization_data_retention",
        None,
        severity,
    )
    assert change.fields == {"type": FieldChange(observed, wanted)}


def test_unreadable_is_reported_not_changed() -> None:
    [change] = KIND.compare(desired("zero_data_retention"), Unreadable("not entitled"), world())
    assert (change.action, change.severity) == ("report", "high")
    assert not change.applies
    assert "not entitled" in change.reason
