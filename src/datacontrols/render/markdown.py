"""The plan as a pull-request comment (GitHub, GitLab): short enough to post, loud where it matters.

Layout:

    ### Data controls plan: 1 to create, 3 to update, 0 to delete, 1 to archive; 1 uncorrectable, 2 reports
    a table of the critical and high severity changes (at most `_ATTENTION_ROWS` rows)
    one collapsed <details> block per project, each holding a ```diff block (the text renderer's lines)

Order: blocks whose worst change is most severe come first (ties keep plan order, so the organization leads
among equals); within a block critical then high changes come first, the rest in plan order. When the
comment would exceed `max_chars` (GitHub caps a comment at 65,536 characters), whole blocks are left out
from the end, which is the least severe part, and a last line says how many changes are not shown.

Every user-provided string (project names, model ids, emails, titles) is escaped for where it lands:
markdown and HTML in table cells and headings, HTML (and markup, as character references) in <summary>,
nothing inside code fences (the fence is made longer than any run of backticks in its content). An `@`
that would mention someone gets a word joiner after it, so a project named `@security` does not page a
team.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Sequence
from typing import Final

from datacontrols.plan import Change, Plan
from datacontrols.ratchet import APPROVAL_HEADING, approval_items
from datacontrols.redaction import redact
from datacontrols.render.notation import (
    LOUD_SEVERITIES,
    NO_CHANGES,
    SEVERITY_RANK,
    SYMBOLS,
    change_lines,
    counts_phrase,
    fields_phrase,
    printable,
    redact_plan,
)

__all__ = ["DEFAULT_TITLE", "escape_html", "escape_markdown", "render_markdown"]

DEFAULT_TITLE: Final = "Data controls plan"
_ATTENTION_ROWS: Final = 10
_CELL_CHARS: Final = 120  # a table cell's field text is cut to this many characters, before escaping

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]|~#])")
_MENTION = re.compile(r"(?<![\w`])@(?=\w)")
_WORD_JOINER: Final = "\u2060"
_BACKTICKS = re.compile(r"`+")
_SEPARATOR: Final = "\n\n"


def _one_line(text: str) -> str:
    # Control characters (ESC, BEL, C1, bidi overrides) are written as escapes: a name read from the API
    # must not act on the terminal or the browser that shows the comment.
    return printable(" ".join(text.split()))


def _no_mention(text: str) -> str:
    return _MENTION.sub("@" + _WORD_JOINER, text)


def escape_markdown(text: str) -> str:
    """Text safe in a markdown paragraph, heading or table cell: one line, no HTML, no markup, no mentions."""
    escaped = _MARKDOWN_SPECIAL.sub(r"\\\1", html.escape(_one_line(text), quote=False))
    return _no_mention(escaped)


def escape_html(text: str) -> str:
    """Text safe inside an HTML element such as <summary>.

    GitHub leaves markdown inside an HTML line alone, GitLab may not: markup characters become numeric
    character references, which both show as the character itself.
    """
    escaped = html.escape(_one_line(text), quote=True)
    return _no_mention(_MARKDOWN_SPECIAL.sub(lambda m: f"&#{ord(m.group(1))};", escaped))


def _fence(content: str) -> str:
    longest = max((len(run) for run in _BACKTICKS.findall(content)), default=0)
    return "`" * max(3, longest + 1)


def _loud_first(change: Change) -> tuple[bool, int]:
    # A project's own creation stays on top: the rest of its block only makes sense after it.
    creates_project = change.kind == "project" and change.action == "create"
    rank = SEVERITY_RANK[change.severity] if change.severity in LOUD_SEVERITIES else len(SEVERITY_RANK)
    return (not creates_project, rank)


def _worst(changes: Sequence[Change]) -> int:
    return min(SEVERITY_RANK[c.severity] for c in changes)


def _heading(plan: Plan, title: str) -> str:
    summary = plan.summary()
    if plan.has_changes:
        counts = counts_phrase(summary)
    elif summary["report"]:
        counts = "no changes, " + counts_phrase(summary, only_nonzero=True)
    else:
        counts = "no changes"
    return f"### {escape_markdown(title)}: {counts}"


def _clip(text: str) -> str:
    return text if len(text) <= _CELL_CHARS else text[: _CELL_CHARS - 1] + "…"


def _attention(plan: Plan) -> str:
    loud = sorted((c for c in plan.changes if c.severity in LOUD_SEVERITIES), key=lambda c: SEVERITY_RANK[c.severity])
    if not loud:
        return ""
    rows = [
        "**Critical and high severity**",
        "",
        "| Severity | Action | Where | Change |",
        "| --- | --- | --- | --- |",
    ]
    for change in loud[:_ATTENTION_ROWS]:
        where = "Organization" if change.project is None else escape_markdown(change.project)
        what = f"`{change.kind}`"
        if change.subject is not None:
            what += " " + escape_markdown(change.subject)
        if change.fields:
            what += ": " + escape_markdown(_clip(fields_phrase(change)))
        symbol = escape_markdown(SYMBOLS[change.action])
        rows.append(f"| **{change.severity}** | {symbol} {change.action} | {where} | {what} |")
    if len(loud) > _ATTENTION_ROWS:
        rows += ["", f"_…and {len(loud) - _ATTENTION_ROWS} more in the blocks below._"]
    return "\n".join(rows)


def _approvals(plan: Plan) -> str:
    items = approval_items(plan)
    if not items:
        return ""
    rows = [f"**{escape_markdown(APPROVAL_HEADING)}**", ""]
    rows += [f"- :warning: {escape_markdown(item)}" for item in items]
    return "\n".join(rows)


def _block(project: str | None, changes: Sequence[Change]) -> str:
    # Critical, then high, lead; the rest keep plan order, which is the order apply would follow.
    ordered = sorted(changes, key=_loud_first)
    counts: Counter[str] = Counter(change.action for change in changes)
    label = "Organization" if project is None else f"Project {escape_html(project)}"
    summary = f"<b>{label}</b> · {counts_phrase(counts, only_nonzero=True)}"
    worst = min((c.severity for c in changes), key=SEVERITY_RANK.__getitem__)
    if worst in LOUD_SEVERITIES:
        summary += f" · <b>{worst}</b>"
    body = "\n".join(line for change in ordered for line in change_lines(change))
    fence = _fence(body)
    return f"<details><summary>{summary}</summary>\n\n{fence}diff\n{body}\n{fence}\n\n</details>"


def _left_out(count: int, max_chars: int) -> str:
    noun = "change is" if count == 1 else "changes are"
    return (
        f"_{count} {noun} not shown: this comment is limited to {max_chars} characters. "
        "The text or JSON output of the plan has every change._"
    )


def render_markdown(plan: Plan, *, title: str | None = None, max_chars: int = 60000) -> str:
    """Render `plan` as markdown for a pull-request comment of at most `max_chars` characters.

    If even the heading and the closing line do not fit, the result is cut at `max_chars` characters.
    """
    plan = redact_plan(plan)
    head = [_heading(plan, redact(title or DEFAULT_TITLE))]
    if not plan.has_changes:
        head.append(NO_CHANGES)
    attention = "\n\n".join(part for part in (_approvals(plan), _attention(plan)) if part)
    groups = sorted(plan.by_project().items(), key=lambda item: _worst(item[1]))
    blocks = [(_block(project, changes), len(changes)) for project, changes in groups]

    sections = [*head, *([attention] if attention else []), *(block for block, _ in blocks)]
    everything = _SEPARATOR.join(sections) + "\n"
    if len(everything) <= max_chars:
        return everything

    # Keep whole sections while they fit, with room for the closing line as if every change were left
    # out (a smaller count is never a longer line). The attention table goes if it alone does not fit.
    budget = max_chars - len(_left_out(len(plan), max_chars)) - len(_SEPARATOR) - 1
    kept = list(head)
    used = len(_SEPARATOR.join(kept))
    if attention and used + len(_SEPARATOR) + len(attention) <= budget:
        kept.append(attention)
        used += len(_SEPARATOR) + len(attention)
    shown = 0
    for block, count in blocks:
        if used + len(_SEPARATOR) + len(block) > budget:
            break
        kept.append(block)
        used += len(_SEPARATOR) + len(block)
        shown += count
    kept.append(_left_out(len(plan) - shown, max_chars))
    return (_SEPARATOR.join(kept) + "\n")[:max_chars]
