"""Plan JSON format version 1. Golden files: regenerate with `UPDATE_GOLDEN=1 uv run pytest tests/render`
(otherwise they are compared exactly; see conftest.py)."""

from __future__ import annotations

import json
import random

import pytest
from render_plans import CheckGolden, representative_changes

from datacontrols.plan import Plan
from datacontrols.render import render_json

V1_CHANGE_KEYS = {"action", "kind", "project", "fields", "severity", "reason"}
V1_SUMMARY_KEYS = {"create", "update", "delete", "archive", "uncorrectable", "report"}


def test_representative_plan_matches_golden(plan: Plan, check_golden: CheckGolden) -> None:
    check_golden("plan.json", render_json(plan))


def test_empty_plan_matches_golden(empty_plan: Plan, check_golden: CheckGolden) -> None:
    check_golden("empty.json", render_json(empty_plan))


def test_has_exactly_the_v1_keys(plan: Plan) -> None:
    doc = json.loads(render_json(plan))
    assert set(doc) == {"format_version", "changes", "summary"}
    assert doc["format_version"] == 1
    assert set(doc["summary"]) == V1_SUMMARY_KEYS
    assert doc["summary"] == {
        "create": 2,
        "update": 5,
        "delete": 1,
        "archive": 1,
        "uncorrectable": 1,
        "report": 2,
    }
    for change, source in zip(doc["changes"], plan.changes, strict=True):
        expected = V1_CHANGE_KEYS | ({"subject"} if source.subject is not None else set())
        expected |= {name for name in ("weakens", "disrupts") if getattr(source, name) is not None}
        assert set(change) == expected
        for field in change["fields"].values():
            assert set(field) == {"before", "after"}


def test_is_the_plan_value_itself(plan: Plan) -> None:
    assert json.loads(render_json(plan)) == json.loads(json.dumps(plan.to_json()))


def test_example_change_shape() -> None:
    doc = json.loads(render_json(Plan.of(representative_changes()[:1])))
    assert doc["changes"] == [
        {
            "action": "update",
            "kind": "organization_data_retention",
            "project": None,
            "fields": {"type": {"before": "none", "after": "zero_data_retention"}},
            "severity": "normal",
            "reason": "organization data retention differs from the desired state",
        }
    ]


def test_sorted_keys_two_space_indent_trailing_newline_utf8(plan: Plan) -> None:
    out = render_json(plan)
    assert out == json.dumps(json.loads(out), sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    assert "Ünïcode 研究" in out


def test_extra_top_level_keys(plan: Plan) -> None:
    doc = json.loads(render_json(plan, digest=plan.digest(), revision="abc123"))
    assert doc["digest"] == plan.digest()
    assert doc["revision"] == "abc123"


def test_extra_may_not_replace_v1_keys(plan: Plan) -> None:
    with pytest.raises(ValueError, match="summary"):
        render_json(plan, summary={})


def test_same_changes_in_any_order_give_the_same_bytes() -> None:
    changes = representative_changes()
    first = render_json(Plan.of(changes))
    for seed in range(5):
        random.Random(seed).shuffle(changes)
        assert render_json(Plan.of(changes)) == first
