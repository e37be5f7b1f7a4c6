"""A project's own lifecycle: create (with residency), rename by pin, external key, archive, residency, strays."""

from __future__ import annotations

from typing import Any

import pytest
from kinds_support import desired_project, live_project

from datacontrols.kinds.base import ARCHIVE_ORDER
from datacontrols.kinds.project import ProjectFacts, compare_project, compare_unmanaged, match_projects
from datacontrols.plan import FieldChange


def test_create_carries_name_and_residency() -> None:
    [change] = compare_project(desired_project(name="x", residency="EU_STORAGE_PROCESSING"), None)
    assert (change.action, change.kind, change.project, change.severity) == ("create", "project", "x", "normal")
    assert change.fields == {
        "name": FieldChange(None, "x"),
        "residency": FieldChange(None, "EU_STORAGE_PROCESSING"),
    }
    assert change.facts == ProjectFacts(residency="EU_STORAGE_PROCESSING")
    assert change.order < 10  # before every setting of the new project


def test_create_without_residency_leaves_it_to_the_api() -> None:
    [change] = compare_project(desired_project(name="x"), None)
    assert change.fields == {"name": FieldChange(None, "x")}
    assert change.facts == ProjectFacts()


@pytest.mark.parametrize(
    ("file", "expected"),
    [
        pytest.param({}, None, id="absent-is-unmanaged"),
        pytest.param({"external_key_id": "key_1"}, FieldChange(None, "key_1"), id="set"),
        pytest.param({"external_key_id": None}, None, id="null-on-create-is-nothing-to-send"),
    ],
)
def test_create_with_external_key(file: dict[str, Any], expected: FieldChange | None) -> None:
    [change] = compare_project(desired_project(name="x", **file), None)
    assert change.fields.get("external_key_id") == expected


def test_archived_and_not_live_is_neither_created_nor_archived() -> None:
    assert compare_project(desired_project(name="x", status="archived"), None) == []


@pytest.mark.parametrize("archived", [{"status": "archived"}, {"archived_at": 1700000000}])
def test_archived_live_and_archived_desired_is_quiet(archived: dict[str, Any]) -> None:
    live = live_project("p1", "old name", residency="GLOBAL", **archived)
    assert compare_project(desired_project(name="x", id="p1", status="archived", residency="JP_STORAGE"), live) == []


def test_archived_live_cannot_be_revived() -> None:
    [change] = compare_project(desired_project(name="x", id="p1"), live_project("p1", "x", status="archived"))
    assert change.action == "uncorrectable"
    assert "archive is one-way" in change.reason
    assert change.facts == ProjectFacts(project_id="p1")


def test_archive_is_one_way_high_and_last() -> None:
    [change] = compare_project(desired_project(name="x", status="archived"), live_project("p1", "x"))
    assert (change.action, change.severity, change.order) == ("archive", "high", ARCHIVE_ORDER)
    assert change.fields == {"status": FieldChange("active", "archived")}
    assert change.facts == ProjectFacts(project_id="p1")


@pytest.mark.parametrize(
    ("live_fields", "desired", "before"),
    [
        pytest.param({"residency": "GLOBAL"}, "EU_STORAGE_PROCESSING", "GLOBAL", id="differs"),
        pytest.param({}, "EU_STORAGE_PROCESSING", "GLOBAL", id="missing-live-is-global"),
        pytest.param({"geography": "JP_STORAGE"}, "KR_STORAGE", "JP_STORAGE", id="older-geography-field"),
    ],
)
def test_residency_difference_is_uncorrectable_never_recreated(
    live_fields: dict[str, Any], desired: str, before: str
) -> None:
    changes = compare_project(desired_project(name="x", residency=desired), live_project("p1", "x", **live_fields))
    [change] = changes
    assert (change.action, change.severity) == ("uncorrectable", "critical")
    assert change.fields == {"residency": FieldChange(before, desired)}
    assert "cannot be changed" in change.reason
    assert not any(c.action in ("archive", "create") for c in changes)


@pytest.mark.parametrize(
    ("live_fields", "desired"),
    [
        pytest.param({}, "GLOBAL", id="missing-live-equals-global"),
        pytest.param({"residency": "EU_STORAGE_PROCESSING"}, "EU_STORAGE_PROCESSING", id="equal"),
        pytest.param({"geography": "EU_STORAGE_PROCESSING"}, "EU_STORAGE_PROCESSING", id="equal-older-field"),
        pytest.param({"residency": "JP_STORAGE"}, None, id="unmanaged"),
    ],
)
def test_residency_in_agreement(live_fields: dict[str, Any], desired: str | None) -> None:
    file: dict[str, Any] = {"name": "x"} if desired is None else {"name": "x", "residency": desired}
    assert compare_project(desired_project(**file), live_project("p1", "x", **live_fields)) == []


def test_pinned_id_with_another_live_name_is_renamed() -> None:
    [change] = compare_project(desired_project(name="new", id="p1"), live_project("p1", "old"))
    assert (change.action, change.kind, change.project) == ("update", "project", "new")
    assert change.fields == {"name": FieldChange("old", "new")}
    assert change.facts == ProjectFacts(project_id="p1")


@pytest.mark.parametrize(
    ("file", "live_key", "expected"),
    [
        pytest.param({"external_key_id": "k2"}, "k1", {"external_key_id": FieldChange("k1", "k2")}, id="differs"),
        pytest.param({"external_key_id": None}, "k1", {"external_key_id": FieldChange("k1", None)}, id="null-clears"),
        pytest.param({}, "k1", None, id="absent-is-unmanaged"),
        pytest.param({"external_key_id": "k1"}, "k1", None, id="equal"),
    ],
)
def test_external_key(file: dict[str, Any], live_key: str | None, expected: dict[str, FieldChange] | None) -> None:
    changes = compare_project(desired_project(name="x", **file), live_project("p1", "x", external_key_id=live_key))
    if expected is None:
        assert changes == []
    else:
        [change] = changes
        # Replacing or removing the customer-managed key weakens who holds the data's key.
        assert (change.action, change.fields, change.severity) == ("update", expected, "critical")


def test_a_project_in_agreement_has_no_lifecycle_change() -> None:
    assert compare_project(desired_project(name="x", id="p1"), live_project("p1", "x")) == []


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        pytest.param("ignore", [], id="ignore"),
        pytest.param("report", [("report", "normal")], id="report"),
        pytest.param("archive", [("archive", "high")], id="archive"),
    ],
)
def test_unmanaged_policy(policy: str, expected: list[tuple[str, str]]) -> None:
    changes = compare_unmanaged(live_project("p7", "stray"), policy)
    assert [(c.action, c.severity) for c in changes] == expected
    for change in changes:
        assert (change.kind, change.project, change.facts) == ("project", "stray", ProjectFacts(project_id="p7"))


def test_unmanaged_archive_is_last_and_one_way() -> None:
    [change] = compare_unmanaged(live_project("p7", "stray"), "archive")
    assert change.order == ARCHIVE_ORDER
    assert change.fields == {"status": FieldChange("active", "archived")}


def test_unmanaged_without_a_name_is_named_by_id() -> None:
    [change] = compare_unmanaged(live_project("p7", None), "report")
    assert change.project == "p7"
    assert "p7" in change.reason


def test_a_project_archived_by_hand_is_created_anew_and_the_plan_says_why() -> None:
    archived = live_project("p_old", "Bot", status="archived", archived_at=1)
    matching = match_projects([desired_project(name="Bot")], [archived])
    assert matching.pairs[0][1] is None
    [create] = compare_project(matching.pairs[0][0], None, matching.archived_namesakes["Bot"])
    assert create.action == "create" and create.severity == "normal"
    assert "p_old of this name is archived (archive is one-way), so a new project is created" in create.reason
    [quiet] = compare_project(desired_project(name="Other"), None)
    assert quiet.severity == "normal" and quiet.reason == "declared in the desired state and not present live"
