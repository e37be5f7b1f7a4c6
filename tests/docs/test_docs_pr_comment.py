"""docs/pr-comment.md is the demo's first plan as a pull-request comment; it must not go stale.

Regenerate with `UPDATE_DOCS=1 uv run pytest tests/docs`.
"""

from __future__ import annotations

import os
from pathlib import Path

from datacontrols.demo import run_demo_scenario
from datacontrols.render import render_markdown

DOC = Path(__file__).resolve().parents[2] / "docs" / "pr-comment.md"
HEADER = (
    "<!-- Generated from `uv run reconcile demo`'s first plan by tests/docs/test_docs_pr_comment.py; "
    "regenerate with UPDATE_DOCS=1 uv run pytest tests/docs -->\n\n"
    "This is the comment `reconcile --dry-run --format markdown` posts on a pull request, here for the demo "
    "organization (`uv run reconcile demo`). GitHub renders it with each project collapsed; "
    "[pr-comment.png](pr-comment.png) shows it expanded.\n\n"
)


async def test_the_pr_comment_example_is_the_demo_plan() -> None:
    run = await run_demo_scenario()
    expected = HEADER + render_markdown(run.before)
    if os.environ.get("UPDATE_DOCS"):
        DOC.write_text(expected, encoding="utf-8")
    assert DOC.read_text(encoding="utf-8") == expected, "docs/pr-comment.md is stale; see the module docstring"
