"""Rendering a plan for people and pipelines: pure functions from `Plan` to `str`, no I/O.

    render_text       terminal and CI logs, `terraform plan` style, optional ANSI color
    render_json       plan JSON format version 1, the machine contract
    render_markdown   a pull-request comment, collapsed per project, truncated to fit
    render            pick one of the three by name (the CLI's `--format`)

Every renderer scrubs field values, names and reasons with `datacontrols.redaction` before formatting,
as a last line of defence: a plan should never hold a secret, and if one slips in it is not printed.
"""

from __future__ import annotations

from typing import Literal, get_args

from datacontrols.plan import Plan
from datacontrols.render.json import render_json
from datacontrols.render.markdown import render_markdown
from datacontrols.render.text import render_text

__all__ = ["FORMATS", "Format", "render", "render_json", "render_markdown", "render_text"]

Format = Literal["text", "json", "markdown"]
FORMATS: tuple[Format, ...] = get_args(Format)


def render(plan: Plan, fmt: Format, *, color: bool = False) -> str:
    """Render `plan` in `fmt`; `color` applies to text only (JSON and markdown never carry escape codes)."""
    if fmt == "text":
        return render_text(plan, color=color)
    if fmt == "json":
        return render_json(plan)
    if fmt == "markdown":
        return render_markdown(plan)
    raise ValueError(f"unknown plan format {fmt!r}; expected one of: {', '.join(FORMATS)}")
