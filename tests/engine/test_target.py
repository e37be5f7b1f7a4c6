"""Targets: which projects a run reads and plans (`--project`, and what a pull request can change)."""

from __future__ import annotations

from typing import Any

import pytest

from datacontrols.desired.schema import DesiredState, OrganizationFile, ProjectFile
from datacontrols.errors import ConfigError
from datacontrols.target import EVERYTHING, Target, changed_by, select


def state(organization: dict[str, Any] | None = None, **projects: dict[str, Any]) -> DesiredState:
    return DesiredState(
        organization=OrganizationFile.model_validate(organization or {}),
        projects=tuple(ProjectFile.model_validate({"name": name, **body}) for name, body in projects.items()),
    )


ZDR = "zero_data_retention"
DEFAULTS: dict[str, Any] = {"project_defaults": {"hosted_tools": {"web_search": False}}}
PROJECTS: dict[str, dict[str, Any]] = {
    "Alpha": {"data_retention": ZDR},
    "Beta": {},
    "Gamma": {"hosted_tools": {"web_search": True}},
}
BASE = state(DEFAULTS, **PROJECTS)


def head(organization: dict[str, Any] = DEFAULTS, **projects: dict[str, Any] | None) -> DesiredState:
    """The base with these project files changed (None: removed) and this organization file."""
    merged = {**PROJECTS, **projects}
    return state(organization, **{name: body for name, body in merged.items() if body is not None})


def test_a_pull_request_that_changes_one_project_targets_that_project() -> None:
    target = changed_by(BASE, head(Alpha={"data_retention": "modified_abuse_monitoring"}))
    assert target == Target(projects=frozenset({"Alpha"}), organization=True, why="unchanged by this pull request")
    assert changed_by(BASE, BASE).projects == frozenset()  # nothing changed: no project read


def test_added_and_removed_projects_are_targeted() -> None:
    assert changed_by(BASE, head(Beta=None, Delta={})).projects == {"Beta", "Delta"}


def test_a_default_change_targets_exactly_the_projects_that_inherit_it() -> None:
    changed = head({"project_defaults": {"hosted_tools": {"web_search": True}}})
    assert changed_by(BASE, changed).projects == {"Alpha", "Beta"}  # Gamma sets its own: unchanged


@pytest.mark.parametrize(
    "organization",
    [
        {"project_defaults": {"hosted_tools": {"web_search": False}}, "unmanaged_projects": "archive"},
        {"project_defaults": {"hosted_tools": {"web_search": False}}, "enforcement": {"default": "report"}},
        {"project_defaults": {"hosted_tools": {"web_search": False}}, "organization": {"data_retention": ZDR}},
    ],
    ids=["unmanaged policy", "enforcement", "organization settings"],
)  # fmt: skip
def test_an_organization_change_beyond_the_defaults_reads_everything(organization: dict[str, Any]) -> None:
    head = BASE.model_copy(update={"organization": OrganizationFile.model_validate(organization)})
    assert changed_by(BASE, head) is EVERYTHING


def test_project_options_select_and_exclude_by_exact_name() -> None:
    assert select(BASE) is EVERYTHING
    only = select(BASE, ["Alpha", "Gamma"])
    assert (only.projects, only.organization) == ({"Alpha", "Gamma"}, False)
    assert only.includes("Alpha") and not only.includes("Beta") and not only.includes(None)
    assert select(BASE, exclude=["Beta"]).projects == {"Alpha", "Gamma"}
    assert select(BASE, ["Alpha", "Beta"], ["Beta"]).projects == {"Alpha"}
    with pytest.raises(ConfigError, match=r"'alpha' is not a project of the desired state \(its projects: Alpha"):
        select(BASE, ["alpha"])
    with pytest.raises(ConfigError, match="leave no project"):
        select(BASE, ["Alpha"], ["Alpha"])


def test_targets_combine_and_survive_a_saved_plan() -> None:
    narrowed = select(BASE, ["Alpha", "Beta"]).within(Target(projects=frozenset({"Beta", "Gamma"})))
    assert (narrowed.projects, narrowed.organization) == ({"Beta"}, False)
    assert select(BASE, ["Alpha"]).within(EVERYTHING) == select(BASE, ["Alpha"])
    for target in (EVERYTHING, narrowed, changed_by(BASE, BASE)):
        assert Target.from_json(target.to_json()) == target
    assert Target.from_json(None) is EVERYTHING  # a plan saved before targets existed
    assert narrowed.left_out(["Alpha", "Beta", "Gamma"]) == ["Alpha", "Gamma"]
