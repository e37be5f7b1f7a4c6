"""Service tiers: only the fields named are compared and sent; what may break is said (`disrupts`)."""

from __future__ import annotations

from typing import Any

import pytest
from kinds_support import desired_project, world
from pydantic import ValidationError

from datacontrols.adminapi.service_tiers import ServiceTierSettings
from datacontrols.desired.schema import ProjectDefaults, ProjectFile
from datacontrols.desired.service_tiers import ServiceTiersSetting
from datacontrols.kinds.base import NOT_CREATED
from datacontrols.kinds.service_tiers import ProjectServiceTiers
from datacontrols.plan import FieldChange

TIERS = ProjectServiceTiers()


def live(default: str = "standard", enabled: Any = "all") -> ServiceTierSettings:
    return ServiceTierSettings(default=default, enabled_tiers=enabled)


def compared(observed: Any, defaults: ProjectDefaults | None = None, **tiers: Any) -> Any:
    return TIERS.compare(desired_project(defaults, name="x", service_tiers=tiers), observed, world())


def test_only_the_fields_named_are_compared() -> None:
    assert compared(live(default="scale", enabled=["flex"]), enabled_tiers=["flex"]) == []
    assert compared(live(default="scale", enabled=["fast", "flex"]), enabled_tiers=["flex", "fast"]) == []
    [change] = compared(live(default="scale"), default="standard")
    assert change.fields == {"default": FieldChange("scale", "standard")}
    assert change.disrupts == "requests without service_tier move from scale to standard"
    assert change.severity == "high"


def test_dropping_a_tier_enabled_live_says_what_breaks() -> None:
    [change] = compared(live(enabled=["flex", "ultrafast"]), enabled_tiers=["flex"])
    assert change.fields == {"enabled_tiers": FieldChange(["flex", "ultrafast"], ["flex"])}
    assert change.disrupts == "requests asking for ultrafast will be refused"
    [from_all] = compared(live(enabled="all"), enabled_tiers=["fast", "flex", "ultrafast"])
    assert from_all.disrupts == "tiers OpenAI adds later will not be enabled"
    assert from_all.severity == "high"


def test_enabling_more_is_normal_and_a_new_project_is_set_after_creation() -> None:
    [wider] = compared(live(enabled=[]), enabled_tiers="all")
    assert (wider.severity, wider.disrupts, wider.weakens) == ("normal", None, None)
    [new] = compared(NOT_CREATED, default="fast", enabled_tiers=[])
    assert new.fields == {"default": FieldChange(None, "fast"), "enabled_tiers": FieldChange(None, [])}
    assert (new.reason, new.severity) == ("set on the new project", "normal")


def test_a_project_value_replaces_the_default_field_by_field() -> None:
    defaults = ProjectDefaults(service_tiers=ServiceTiersSetting(default="scale", enabled_tiers="all"))
    project = desired_project(defaults, name="x", service_tiers={"enabled_tiers": []})
    assert project.settings.service_tiers == ServiceTiersSetting(default="scale", enabled_tiers=[])


def test_export_writes_both_fields_so_the_plan_after_is_empty() -> None:
    exported = TIERS.export(live(default="fast", enabled=["ultrafast", "flex"]))
    assert exported == {"service_tiers": {"default": "fast", "enabled_tiers": ["flex", "ultrafast"]}}
    assert compared(live(default="fast", enabled=["ultrafast", "flex"]), **exported["service_tiers"]) == []


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (None, "null is ambiguous"),
        ({}, "name default, enabled_tiers or both"),
        ({"enabled_tiers": ["flex", "flex"]}, "listed twice"),
        ({"default": "flex"}, "Input should be 'standard', 'fast' or 'scale'"),
        ({"enabled_tiers": "everything"}, "Input should be 'all'"),
    ],
)
def test_the_file_refuses_what_would_be_ambiguous_or_wrong(value: Any, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ProjectFile.model_validate({"name": "x", "service_tiers": value})
