"""A project's hosted tools: only the tools named are managed; one update lists only those that differ."""

from __future__ import annotations

from typing import Any

import pytest
from kinds_support import desired_project, tools, world

from datacontrols.desired.schema import ProjectDefaults
from datacontrols.kinds.base import NOT_CREATED
from datacontrols.kinds.hosted_tools import ProjectHostedTools
from datacontrols.plan import FieldChange

KIND = ProjectHostedTools()


@pytest.mark.parametrize("setting", [None, {}])
def test_unmanaged_when_no_tool_is_named(setting: dict[str, bool] | None) -> None:
    project = desired_project(name="x", hosted_tools=setting)
    assert not KIND.manages(project)


def test_unnamed_tools_are_left_alone() -> None:
    project = desired_project(name="x", hosted_tools={"code_interpreter": False})
    assert KIND.compare(project, tools("web_search", "mcp", "file_search"), world()) == []


def test_one_update_lists_only_differing_tools() -> None:
    project = desired_project(
        name="x", hosted_tools={"code_interpreter": False, "mcp": False, "web_search": True, "file_search": True}
    )
    [change] = KIND.compare(project, tools("code_interpreter", "file_search"), world())
    assert (change.action, change.kind, change.project) == ("update", "project_hosted_tools", "x")
    assert change.fields == {
        "code_interpreter": FieldChange(True, False),
        "web_search": FieldChange(False, True),
    }
    assert list(change.fields) == sorted(change.fields)  # a stable order for the plan's digest
    assert change.reason == "enables web_search"


def test_disabling_only() -> None:
    [change] = KIND.compare(desired_project(name="x", hosted_tools={"mcp": False}), tools("mcp"), world())
    assert change.fields == {"mcp": FieldChange(True, False)}
    assert change.reason == "disables tools that are enabled live"


def test_new_project_sets_every_named_tool_with_no_before() -> None:
    project = desired_project(name="x", hosted_tools={"mcp": False, "file_search": True})
    [change] = KIND.compare(project, NOT_CREATED, world())
    assert change.fields == {"file_search": FieldChange(None, True), "mcp": FieldChange(None, False)}
    assert change.reason == "set on the new project"
    assert change.order > 0


@pytest.mark.parametrize(
    ("defaults", "own", "expected"),
    [
        pytest.param({"mcp": False}, None, {"mcp": False}, id="default-applies"),
        pytest.param(
            {"mcp": False, "web_search": False},
            {"web_search": True},
            {"mcp": False, "web_search": True},
            id="merged-per-tool",
        ),
        pytest.param(None, {"image_generation": True}, {"image_generation": True}, id="file-alone"),
    ],
)
def test_defaults_merge_per_tool(
    defaults: dict[str, bool] | None, own: dict[str, bool] | None, expected: dict[str, bool]
) -> None:
    project = desired_project(ProjectDefaults(hosted_tools=defaults), name="x", hosted_tools=own)  # type: ignore[arg-type]
    assert project.settings.hosted_tools == expected
    [change] = KIND.compare(project, NOT_CREATED, world())
    assert {tool: fc.after for tool, fc in change.fields.items()} == expected


def test_a_tool_missing_from_the_observed_value_is_set() -> None:
    observed: dict[str, Any] = {"mcp": False}
    [change] = KIND.compare(desired_project(name="x", hosted_tools={"web_search": False}), observed, world())
    assert change.fields == {"web_search": FieldChange(None, False)}
