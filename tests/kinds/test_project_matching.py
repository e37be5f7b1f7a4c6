"""Pairing desired projects with live ones: by id pin, else by name among active projects; never a guess."""

from __future__ import annotations

import itertools

import pytest
from kinds_support import desired_project, live_project

from datacontrols.adminapi.projects import Project
from datacontrols.kinds.base import DesiredProject
from datacontrols.kinds.project import match_projects


def pairs_by_name(desired: list[DesiredProject], live: list[Project]) -> dict[str, str | None]:
    """desired name -> matched live id (None: to be created)."""
    return {d.name: (p.id if p is not None else None) for d, p in match_projects(desired, live).pairs}


@pytest.mark.parametrize(
    ("files", "live", "expected"),
    [
        pytest.param([{"name": "x"}], [live_project("p1", "x")], {"x": "p1"}, id="by-name"),
        pytest.param([{"name": "x"}], [], {"x": None}, id="not-live-is-created"),
        pytest.param([{"name": "x"}], [live_project("p1", "X")], {"x": None}, id="names-are-case-sensitive"),
        pytest.param(
            [{"name": "x"}],
            [live_project("p1", "x", status="archived")],
            {"x": None},
            id="archived-live-never-matched-by-name",
        ),
        pytest.param(
            [{"name": "x"}],
            [live_project("p1", "x", archived_at=5), live_project("p2", "x")],
            {"x": "p2"},
            id="one-active-among-archived-namesakes",
        ),
        pytest.param([{"name": "y", "id": "p1"}], [live_project("p1", "x")], {"y": "p1"}, id="pin-ignores-name"),
        pytest.param(
            [{"name": "x", "id": "p1"}],
            [live_project("p1", "x", status="archived")],
            {"x": "p1"},
            id="pin-reaches-archived",
        ),
        pytest.param(
            [{"name": "a"}, {"name": "b"}],
            [live_project("p2", "b"), live_project("p1", "a")],
            {"a": "p1", "b": "p2"},
            id="several",
        ),
    ],
)
def test_matches(files: list[dict[str, str]], live: list[Project], expected: dict[str, str | None]) -> None:
    desired = [desired_project(None, **f) for f in files]
    result = match_projects(desired, live)
    assert pairs_by_name(desired, live) == expected
    assert result.unmatchable == []


def test_two_active_namesakes_are_uncorrectable_not_guessed() -> None:
    desired = [desired_project(name="x")]
    live = [live_project("p2", "x"), live_project("p1", "x")]
    result = match_projects(desired, live)
    assert result.pairs == []
    assert result.unmanaged == []  # both are claimed by the ambiguous file, not reported as strays
    [change] = result.unmatchable
    assert (change.action, change.kind, change.project, change.severity) == ("uncorrectable", "project", "x", "high")
    assert "(p1, p2)" in change.reason
    assert "pin one with `id:`" in change.reason


def test_pin_that_is_not_live_is_uncorrectable_and_never_created() -> None:
    desired = [desired_project(name="x", id="p9")]
    result = match_projects(desired, [live_project("p1", "x")])
    assert result.pairs == []
    [change] = result.unmatchable
    assert change.action == "uncorrectable"
    assert "pins id p9" in change.reason
    assert [p.id for p in result.unmanaged] == ["p1"]  # a pin never falls back to the name


def test_same_id_pinned_by_two_files_is_uncorrectable_for_both() -> None:
    desired = [desired_project(name="a", id="p1"), desired_project(name="b", id="p1")]
    result = match_projects(desired, [live_project("p1", "a")])
    assert result.pairs == []
    assert sorted(str(c.project) for c in result.unmatchable) == ["a", "b"]
    assert all(c.action == "uncorrectable" for c in result.unmatchable)
    assert result.unmanaged == []


@pytest.mark.parametrize("reverse", [False, True])
def test_a_pin_claims_its_project_before_names_are_matched_whatever_the_file_order(reverse: bool) -> None:
    # Two live projects share the name "x"; one file pins p1 (renaming it), another matches "x" by name.
    # The pinned project is not a name candidate, so "x" matches p2 alone, in either order of files.
    desired = [desired_project(name="x"), desired_project(name="y", id="p1")]
    if reverse:
        desired.reverse()
    live = [live_project("p1", "x"), live_project("p2", "x")]
    result = match_projects(desired, live)
    assert result.unmatchable == []
    assert pairs_by_name(desired, live) == {"x": "p2", "y": "p1"}
    assert [d.name for d, _ in result.pairs] == [d.name for d in desired]  # pairs keep the files' order


def test_unmanaged_are_active_unclaimed_sorted_by_id() -> None:
    desired = [desired_project(name="a")]
    live = [
        live_project("p3", "z"),
        live_project("p1", "a"),
        live_project("p4", "old", status="archived"),
        live_project("p2", "z"),
        live_project("p5", None),
    ]
    for ordering in itertools.permutations(live):
        assert [p.id for p in match_projects(desired, list(ordering)).unmanaged] == ["p2", "p3", "p5"]


def test_a_live_project_without_a_name_is_never_matched_by_name() -> None:
    desired = [desired_project(name="p5")]
    result = match_projects(desired, [live_project("p5", None)])
    assert pairs_by_name(desired, [live_project("p5", None)]) == {"p5": None}
    assert [p.id for p in result.unmanaged] == ["p5"]
