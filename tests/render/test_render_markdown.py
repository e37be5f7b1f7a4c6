"""The pull-request comment. Golden files: regenerate with `UPDATE_GOLDEN=1 uv run pytest tests/render`
(otherwise they are compared exactly; see conftest.py)."""

from __future__ import annotations

import re

import pytest
from render_plans import CheckGolden, representative_changes

from datacontrols.plan import Change, FieldChange, Plan
from datacontrols.render import render_markdown

FENCED = re.compile(r"^(`{3,})diff\n.*?^\1$", re.S | re.M)


def outside_code(markdown: str) -> str:
    return FENCED.sub("", markdown)


def test_representative_plan_matches_golden(plan: Plan, check_golden: CheckGolden) -> None:
    check_golden("plan.md", render_markdown(plan))


def test_empty_plan_matches_golden(empty_plan: Plan, check_golden: CheckGolden) -> None:
    out = render_markdown(empty_plan)
    check_golden("empty.md", out)
    assert out == "### Data controls plan: no changes\n\nNo changes. The organization matches the desired state.\n"


def test_reports_only_plan_matches_golden(reports_plan: Plan, check_golden: CheckGolden) -> None:
    out = render_markdown(reports_plan)
    check_golden("reports.md", out)
    assert out.startswith("### Data controls plan: no changes, 2 reports\n\nNo changes.")
    assert out.count("<details>") == 2


def test_truncated_plan_matches_golden(plan: Plan, check_golden: CheckGolden) -> None:
    out = render_markdown(plan, max_chars=1500)
    check_golden("truncated.md", out)
    assert len(out) <= 1500


def test_heading_counts_then_attention_table_then_blocks(plan: Plan) -> None:
    out = render_markdown(plan, title="Acme *prod*")
    assert out.startswith(
        "### Acme \\*prod\\*: 2 to create, 5 to update, 1 to delete, 1 to archive; 1 uncorrectable, 2 reports\n"
    )
    table = out.index("| Severity | Action | Where | Change |")
    assert table < out.index("<details>")
    rows = [line for line in out.splitlines() if line.startswith("| **")]
    assert [row.split(" | ")[0] for row in rows] == ["| **critical**"] + ["| **high**"] * 4


def test_blocks_most_severe_first_and_critical_first_within(plan: Plan) -> None:
    out = render_markdown(plan)
    summaries = re.findall(r"<summary><b>(.*?)</b>", out)
    assert summaries == [
        "Project Data &#124; Science &lt;beta&gt;",
        "Project Ünïcode 研究 &#96;tick&#96; @\u2060team",
        "Organization",
        "Project Support Bot",
    ]
    data_science = out.split("<details>")[1]
    first_change = data_science.split("```diff\n")[1].splitlines()[0]
    assert first_change.startswith("! project [critical]")


def test_user_strings_are_escaped_outside_code(plan: Plan) -> None:
    out = render_markdown(plan)
    prose = outside_code(out)
    assert "<beta>" not in prose
    assert "Data \\| Science &lt;beta&gt;" in prose  # table cell: the pipe cannot split the row
    assert "\\*bold\\*" in prose  # a model id cannot turn bold
    assert "@team" not in prose  # no mention of a team
    # inside the diff blocks the names are shown as they are
    assert "model_ids: [o3] -> [gpt-4.1, ft:gpt-4o:acme:*bold*:1]" in out


def test_backticks_in_content_lengthen_the_fence() -> None:
    plan = Plan.of([Change("report", "project", "P", subject="a ```` b", reason="x")])
    out = render_markdown(plan)
    assert "`````diff\n" in out
    assert out.count("`````") == 2


def test_every_table_row_has_four_cells(plan: Plan) -> None:
    for line in render_markdown(plan).splitlines():
        if line.startswith("| "):
            cells = re.split(r"(?<!\\)\|", line)[1:-1]
            assert len(cells) == 4, line


@pytest.mark.parametrize("max_chars", [400, 700, 1000, 1500, 2000, 2500])
def test_truncation_keeps_whole_blocks_and_counts_the_rest(plan: Plan, max_chars: int) -> None:
    out = render_markdown(plan, max_chars=max_chars)
    assert len(out) <= max_chars
    assert out.count("<details>") == out.count("</details>")
    assert len(FENCED.findall(out)) == out.count("<details>")
    shown = len(re.findall(r"^[+~\-!#] ", out, re.M))
    assert shown < len(plan)
    assert out.endswith("The text or JSON output of the plan has every change._\n")
    left_out = re.search(r"_(\d+) changes? (?:is|are) not shown", out)
    assert left_out is not None
    assert shown + int(left_out.group(1)) == len(plan)


@pytest.mark.parametrize("max_chars", [0, 10, 200])
def test_below_heading_and_closing_line_the_comment_is_cut(plan: Plan, max_chars: int) -> None:
    out = render_markdown(plan, max_chars=max_chars)
    assert len(out) == max_chars
    heading = "### Data controls plan: 2 to create, 5 to update, 1 to delete, 1 to archive; 1 uncorrectable"
    assert heading.startswith(out) or out.startswith(heading)


def test_large_plan_fits_a_github_comment() -> None:
    changes = [
        Change("update", "project_model_permissions", f"project {i:04}", {"model_ids": FieldChange([], ["m"] * 30)})
        for i in range(2000)
    ]
    out = render_markdown(Plan.of(changes))
    assert len(out) <= 60000
    assert "changes are not shown" in out


def test_no_truncation_when_it_fits(plan: Plan) -> None:
    full = render_markdown(plan)
    assert render_markdown(plan, max_chars=len(full)) == full
    assert "not shown" not in full


def test_same_plan_same_bytes() -> None:
    assert render_markdown(Plan.of(representative_changes())) == render_markdown(
        Plan.of(reversed(representative_changes()))
    )


def test_a_project_creation_stays_first_in_its_block_even_below_louder_changes() -> None:
    """The settings of a new project read as nonsense above the line that creates it."""
    plan = Plan.of(
        [
            Change("create", "project", "New", {"name": FieldChange(None, "New")}),
            Change(
                "create",
                "project_user",
                "New",
                {"role": FieldChange(None, "owner")},
                weakens="gives a@x.io access to the project (owner)",
                subject="a@x.io",
                order=20,
            ),
        ]
    )
    block = render_markdown(plan).split("<details>", 1)[1]
    assert block.index("+ project ") < block.index("+ project_user")
