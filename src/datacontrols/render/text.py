"""The plan as a person reads it in a terminal or a CI log, in the manner of `terraform plan`.

    organization
      ~ organization_data_retention [critical]  type: none -> zero_data_retention
          organization data retention differs from the desired state

    project "Support Bot"
      + project  title: (none) -> Support Bot

    Plan: 1 to create, 1 to update, 0 to delete, 0 to archive; 0 uncorrectable, 0 reports.

One block per project, the organization first; one line per change (symbols in `notation.py`), its reason
indented beneath. A plan without drift ends with `No changes. The organization matches the desired state.`
and, when there are reports, their count (`... state. 2 reports.`). Color only when asked: the caller
knows whether it writes to a terminal, this function does not look.
"""

from __future__ import annotations

from typing import Final

from datacontrols.plan import Plan
from datacontrols.ratchet import APPROVAL_HEADING, approval_items
from datacontrols.redaction import redact
from datacontrols.render.notation import (
    NO_CHANGES,
    Paint,
    block_title,
    change_lines,
    counts_phrase,
    plain,
    printable,
    redact_plan,
)

__all__ = ["render_text"]

_RESET: Final = "\x1b[0m"
_STYLES: Final = {
    "create": "\x1b[32m",  # green
    "update": "\x1b[33m",  # yellow
    "delete": "\x1b[31m",  # red
    "archive": "\x1b[31m",
    "uncorrectable": "\x1b[35m",  # magenta
    "report": "\x1b[36m",  # cyan
    "critical": "\x1b[1;31m",  # bold red
    "high": "\x1b[1;33m",  # bold yellow
    "header": "\x1b[1m",
    "summary": "\x1b[1m",
}


def _ansi(role: str, text: str) -> str:
    style = _STYLES.get(role)
    return f"{style}{text}{_RESET}" if style else text


def render_text(plan: Plan, *, color: bool = False, title: str | None = None) -> str:
    """Render `plan` as terminal text; ANSI color codes only when `color` is true. Ends with a newline."""
    paint: Paint = _ansi if color else plain
    plan = redact_plan(plan)
    lines: list[str] = []
    if title:
        lines += [paint("header", printable(redact(title))), ""]
    approvals = approval_items(plan)
    if approvals:
        lines.append(paint("critical", f"{APPROVAL_HEADING}:"))
        lines += [f"  ! {printable(item)}" for item in approvals]
        lines.append("")
    for project, changes in plan.by_project().items():
        lines.append(paint("header", block_title(project)))
        for change in changes:
            lines.extend(f"  {line}" for line in change_lines(change, paint))
        lines.append("")
    summary = plan.summary()
    if plan.has_changes:
        lines.append(paint("summary", f"Plan: {counts_phrase(summary)}."))
    elif summary["report"]:
        lines.append(paint("summary", f"{NO_CHANGES} {counts_phrase(summary, only_nonzero=True)}."))
    else:
        lines.append(paint("summary", NO_CHANGES))
    return "\n".join(lines) + "\n"
