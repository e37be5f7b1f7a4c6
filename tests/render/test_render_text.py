"""The terminal renderer. Golden files: regenerate with `UPDATE_GOLDEN=1 uv run pytest tests/render`
(otherwise they are compared exactly; see conftest.py)."""

from __future__ import annotations

import enum

import pytest
from render_plans import CheckGolden

from datacontrols.plan import Change, FieldChange, Plan
from datacontrols.render import render_text
from datacontrols.render.notation import format_value


def test_representative_plan_matches_golden(plan: Plan, check_golden: CheckGolden) -> None:
    check_golden("plan.txt", render_text(plan))


def test_color_matches_golden(plan: Plan, check_golden: CheckGolden) -> None:
    check_golden("plan.color.txt", render_text(plan, color=True))


def test_empty_plan_matches_golden(empty_plan: Plan, check_golden: CheckGolden) -> None:
    out = render_text(empty_plan)
    check_golden("empty.txt", out)
    assert out == "No changes. The organization matches the desired state.\n"


def test_reports_only_plan_lists_reports_then_no_changes(reports_plan: Plan, check_golden: CheckGolden) -> None:
    out = render_text(reports_plan)
    check_golden("reports.txt", out)
    assert '  # project "Legacy sandbox"' in out
    assert '  # project_api_key "ci key"' in out
    assert out.endswith("No changes. The organization matches the desired state. 2 reports.\n")
    assert "Plan:" not in out


def test_blocks_organization_first_then_projects_in_plan_order(plan: Plan) -> None:
    headers = [line for line in render_text(plan).splitlines() if line and not line.startswith(" ")]
    assert headers == [
        "organization",
        'project "Data | Science <beta>"',
        'project "Support Bot"',
        'project "Ünïcode 研究 `tick` @team"',
        "Plan: 2 to create, 5 to update, 1 to delete, 1 to archive; 1 uncorrectable, 2 reports.",
    ]


def test_one_line_per_change_with_symbol_severity_subject_and_fields(plan: Plan) -> None:
    lines = render_text(plan).splitlines()
    assert "  ~ organization_data_retention  type: none -> zero_data_retention" in lines
    assert "  + project  geography: (none) -> EU; name: (none) -> Support Bot" in lines
    assert '  - project_user "bob@example.com" [high]  role: member -> (none)' in lines
    assert "  - project [high]  status: active -> archived" in lines
    assert "  ! project [critical]  geography: US -> EU" in lines
    assert '  # project_api_key "ci key"  last_used_at: (none) -> (none)' in lines
    # medium and low severities carry no tag
    assert "  + project_data_retention  type: (none) -> zero_data_retention" in lines
    # the reason sits on the next line, indented under the kind
    i = lines.index("  ! project [critical]  geography: US -> EU")
    assert lines[i + 1] == "      residency is chosen at creation and cannot be changed"


def test_rate_limit_fields_are_not_mistaken_for_secrets(plan: Plan) -> None:
    # redaction's secret-name pattern matches "token"; field names must not be judged by it
    assert "max_tokens_per_1_minute: 30000 -> 10000" in render_text(plan)


def test_uncorrectable_alone_is_drift_not_no_changes() -> None:
    plan = Plan.of([Change("uncorrectable", "project", "P", {"geography": FieldChange("US", "EU")}, "high")])
    assert render_text(plan).splitlines()[-1] == (
        "Plan: 0 to create, 0 to update, 0 to delete, 0 to archive; 1 uncorrectable, 0 reports."
    )


def test_title_comes_first() -> None:
    assert render_text(Plan(), title="Acme prod").startswith("Acme prod\n\nNo changes.")


def test_no_color_codes_unless_asked(plan: Plan) -> None:
    assert "\x1b" not in render_text(plan)
    colored = render_text(plan, color=True)
    assert "\x1b[32m+\x1b[0m project " in colored  # green create
    assert "\x1b[33m~\x1b[0m organization_data_retention" in colored  # yellow update
    assert "\x1b[31m-\x1b[0m project_user" in colored  # red delete
    assert "\x1b[35m!\x1b[0m project" in colored  # magenta uncorrectable
    assert "\x1b[1;31m[critical]\x1b[0m" in colored  # bold red critical
    # stripping the codes gives back the plain rendering
    import re

    assert re.sub(r"\x1b\[[0-9;]*m", "", colored) == render_text(plan)


def test_a_name_cannot_forge_a_line() -> None:
    evil = 'x"\n  + project_user "root'
    out = render_text(Plan.of([Change("report", "project", evil, subject=evil, reason="first\nsecond")]))
    assert out.splitlines() == [
        r'project "x\"\n  + project_user \"root"',
        r'  # project "x\"\n  + project_user \"root"',
        "      first",
        "      second",
        "",
        "No changes. The organization matches the desired state. 1 report.",
    ]


def test_terminal_controls_in_names_are_escaped() -> None:
    name = "evil\x1b[2J\u202e\x9b"
    out = render_text(Plan.of([Change("report", "project", name, subject=name, reason=f"about {name}")]))
    assert not any(not ch.isprintable() for ch in out.replace("\n", ""))
    assert 'project "evil\\u001b[2J\\u202e\\u009b"' in out
    assert "      about evil\\u001b[2J\\u202e\\u009b" in out


class _Color(enum.Enum):
    RED = "red"


class _Tool(enum.StrEnum):
    WEB = "web_search"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "(none)"),
        (True, "true"),
        (False, "false"),
        (0, "0"),
        (1.5, "1.5"),
        ("gpt-4.1", "gpt-4.1"),
        ("Support Bot", "Support Bot"),
        ("", '""'),
        ("true", '"true"'),
        ("(none)", '"(none)"'),
        ("42", '"42"'),
        (" padded", '" padded"'),
        ("a, b", '"a, b"'),
        ("line\nbreak", '"line\\nbreak"'),
        (["a", "b"], "[a, b]"),
        (("a",), "[a]"),
        ([], "[]"),
        (frozenset({"b", "a"}), "[a, b]"),
        ({"b": 1, "a": [True, None]}, "{a: [true, (none)], b: 1}"),
        (_Color.RED, "red"),
        (_Tool.WEB, "web_search"),
    ],
)
def test_format_value(value: object, expected: str) -> None:
    assert format_value(value) == expected
