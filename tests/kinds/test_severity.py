"""Severity across kinds: weakening data protection (or live already weaker) is critical; equal strength is
medium; archive is high; unknowable strength is high."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from kinds_support import desired_project, live_project, permissions, policy, tools, world

from datacontrols.kinds.base import NOT_CREATED
from datacontrols.kinds.hosted_tools import ProjectHostedTools
from datacontrols.kinds.model_permissions import ProjectModelPermissions
from datacontrols.kinds.project import compare_project, compare_unmanaged, match_projects
from datacontrols.kinds.protection import effective_retention, retention_severity, retention_strength
from datacontrols.plan import Change

ZDR, MAM, EZDR, EMAM = (
    "zero_data_retention",
    "modified_abuse_monitoring",
    "enhanced_zero_data_retention",
    "enhanced_modified_abuse_monitoring",
)


@pytest.mark.parametrize(
    ("weaker", "stronger"),
    [("none", MAM), (MAM, EMAM), (EMAM, ZDR), (ZDR, EZDR), ("none", ZDR), (MAM, ZDR)],
)
def test_retention_strength_orders_protection(weaker: str, stronger: str) -> None:
    assert retention_strength(weaker) < retention_strength(stronger)  # type: ignore[operator]


@pytest.mark.parametrize(
    ("before", "after", "severity"),
    [
        (ZDR, MAM, "critical"),  # leaves ZDR
        (MAM, "none", "critical"),  # leaves MAM
        (EZDR, ZDR, "critical"),  # leaves the enhanced variant
        ("none", ZDR, "critical"),  # live weaker than desired: drift in the weakening direction
        (ZDR, ZDR, "medium"),
        (None, ZDR, "high"),
        (ZDR, None, "high"),
        ("future", ZDR, "high"),
    ],
)
def test_retention_severity(before: str | None, after: str | None, severity: str) -> None:
    assert retention_severity(before, after) == severity


@pytest.mark.parametrize(
    ("project_type", "organization_type", "effective"),
    [
        ("organization_default", ZDR, ZDR),
        ("organization_default", None, None),
        ("none", ZDR, "none"),
        (MAM, ZDR, MAM),
        (None, ZDR, None),
    ],
)
def test_effective_retention(project_type: str | None, organization_type: str | None, effective: str | None) -> None:
    assert effective_retention(project_type, organization_type) == effective


TOOLS = ProjectHostedTools()
MODELS = ProjectModelPermissions()


def only(changes: list[Change]) -> Change:
    [change] = changes
    return change


Case = Callable[[], Change]
CASES: list[tuple[str, Case, str]] = [
    (
        "tool-enabled",
        lambda: only(TOOLS.compare(desired_project(name="x", hosted_tools={"mcp": True}), tools(), world())),
        "critical",
    ),
    (
        "tool-found-enabled",
        lambda: only(TOOLS.compare(desired_project(name="x", hosted_tools={"mcp": False}), tools("mcp"), world())),
        "critical",
    ),
    (
        "tool-enabled-on-new-project",
        lambda: only(TOOLS.compare(desired_project(name="x", hosted_tools={"mcp": True}), NOT_CREATED, world())),
        "critical",
    ),
    (
        "tool-disabled-on-new-project",
        lambda: only(TOOLS.compare(desired_project(name="x", hosted_tools={"mcp": False}), NOT_CREATED, world())),
        "medium",
    ),
    (
        "model-policy-removed",
        lambda: only(
            MODELS.compare(
                desired_project(name="x", model_permissions="unrestricted"), permissions("deny_list", "o3"), world()
            )
        ),
        "critical",
    ),
    (
        "model-allow-list-widened",
        lambda: only(
            MODELS.compare(
                desired_project(name="x", model_permissions=policy("allow_list", "o3", "gpt-4.1")),
                permissions("allow_list", "o3"),
                world(),
            )
        ),
        "critical",
    ),
    (
        "model-deny-list-shrunk",
        lambda: only(
            MODELS.compare(
                desired_project(name="x", model_permissions=policy("deny_list", "o3")),
                permissions("deny_list", "o3", "gpt-4.1"),
                world(),
            )
        ),
        "critical",
    ),
    (
        "model-live-wider-than-desired",
        lambda: only(
            MODELS.compare(
                desired_project(name="x", model_permissions=policy("allow_list", "o3")),
                permissions("allow_list", "o3", "gpt-4.1"),
                world(),
            )
        ),
        "critical",
    ),
    (
        "model-live-has-no-policy",
        lambda: only(
            MODELS.compare(desired_project(name="x", model_permissions=policy("allow_list", "o3")), None, world())
        ),
        "critical",
    ),
    (
        "model-policy-on-new-project",
        lambda: only(
            MODELS.compare(
                desired_project(name="x", model_permissions=policy("allow_list", "o3")), NOT_CREATED, world()
            )
        ),
        "medium",
    ),
    (
        "archive",
        lambda: only(compare_project(desired_project(name="x", status="archived"), live_project("p1", "x"))),
        "high",
    ),
    ("unmanaged-archive", lambda: only(compare_unmanaged(live_project("p1", "x"), "archive")), "high"),
    (
        "residency-uncorrectable",
        lambda: only(
            compare_project(desired_project(name="x", residency="EU_STORAGE_PROCESSING"), live_project("p1", "x"))
        ),
        "critical",
    ),
    (
        "ambiguous-name",
        lambda: only(
            match_projects([desired_project(name="x")], [live_project("p1", "x"), live_project("p2", "x")]).unmatchable
        ),
        "high",
    ),
    ("create", lambda: only(compare_project(desired_project(name="x"), None)), "low"),
    (
        "rename",
        lambda: only(compare_project(desired_project(name="x", id="p1"), live_project("p1", "y"))),
        "low",
    ),
]


@pytest.mark.parametrize(("case", "severity"), [pytest.param(c, s, id=i) for i, c, s in CASES])
def test_severity_by_kind(case: Case, severity: str) -> None:
    assert case().severity == severity
