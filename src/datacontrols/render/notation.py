"""What every plan renderer shares: the action symbols, the compact value notation, redaction, count phrases.

Kept in one place so the text output and the markdown diff blocks cannot drift apart: a change reads the
same in a terminal and in a pull-request comment.

Symbols, as in `terraform plan`, with one addition:

    +  create         ~  update         -  delete or archive
    !  uncorrectable (the API cannot change it; a human must)
    #  report (nothing to change, something to say): `#` because, as in a shell or a Terraform plan, it
       marks a line that is read, not executed
"""

from __future__ import annotations

import dataclasses
import enum
import re
from collections.abc import Callable, Mapping
from typing import Any, Final

from datacontrols.plan import ACTIONS, APPLIED_ACTIONS, SEVERITIES, Action, Change, FieldChange, Plan, Severity
from datacontrols.redaction import redact, redact_value

__all__ = [
    "LOUD_SEVERITIES",
    "NO_CHANGES",
    "SEVERITY_RANK",
    "SYMBOLS",
    "Paint",
    "block_title",
    "change_lines",
    "counts_phrase",
    "fields_phrase",
    "format_value",
    "plain",
    "printable",
    "quote",
    "redact_plan",
]

SYMBOLS: Final[Mapping[Action, str]] = {
    "create": "+",
    "update": "~",
    "delete": "-",
    "archive": "-",
    "uncorrectable": "!",
    "report": "#",
}
SEVERITY_RANK: Final[Mapping[Severity, int]] = {severity: rank for rank, severity in enumerate(SEVERITIES)}
# Severities worth a tag on the change line and a row in the markdown attention table.
LOUD_SEVERITIES: Final = frozenset({"critical", "high"})
NO_CHANGES: Final = "No changes. The organization matches the desired state."

# Paint(role, text): roles are the actions, the severities, "header" and "summary". The plain painter
# leaves text alone; the text renderer passes an ANSI one when asked for color.
Paint = Callable[[str, str], str]


def plain(role: str, text: str) -> str:
    return text


def redact_plan(plan: Plan) -> Plan:
    """The same plan with every user-visible string scrubbed: the last net before anything is printed.

    Field values go through `redact_value` (key-shaped strings anywhere, secret-named keys in nested
    mappings). Field *names* are not treated as secret names on purpose: `is_secret_key` matches "token",
    which would hide rate-limit fields such as `max_tokens_per_1_minute`. Plan order is kept as it was.
    """
    return Plan(tuple(_redact_change(change) for change in plan.changes))


def _redact_change(change: Change) -> Change:
    return dataclasses.replace(
        change,
        project=None if change.project is None else redact(change.project),
        subject=None if change.subject is None else redact(change.subject),
        reason=redact(change.reason),
        weakens=None if change.weakens is None else redact(change.weakens),
        disrupts=None if change.disrupts is None else redact(change.disrupts),
        exposes=None if change.exposes is None else redact(change.exposes),
        fields={
            redact(name): FieldChange(redact_value(fc.before), redact_value(fc.after))
            for name, fc in change.fields.items()
        },
    )


# Strings that would read as another value, or as the notation itself, are quoted.
_RESERVED = frozenset({"", "(none)", "true", "false", "null"})
_STRUCTURAL = re.compile(r'[\[\]{}"]|, |->|^\s|\s$')
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


_ESCAPES: Final = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def printable(text: str) -> str:
    """`text` with every character a terminal could act on (newlines, ESC, C1 controls, bidi overrides)
    written as an escape, so a name read from the API cannot forge a line or recolor the screen."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else _ESCAPES.get(ch) or f"\\u{ord(ch):04x}" for ch in text)


def quote(text: str) -> str:
    """A double-quoted string: quotes and backslashes escaped, then anything unprintable (JSON style)."""
    return '"' + printable(text.replace("\\", "\\\\").replace('"', '\\"')) + '"'


def format_value(value: Any) -> str:
    """Compact, deterministic notation: (none), true/false, [a, b], {k: v} with keys sorted."""
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, enum.Enum) and not isinstance(value, str | int):
        return format_value(value.value)
    if isinstance(value, str):
        text = str.__str__(value)  # a str-based enum's value, not its repr
        bare = text.isprintable() and text not in _RESERVED and not _STRUCTURAL.search(text)
        return text if bare and not _NUMBER.match(text) else quote(text)
    if isinstance(value, int | float):
        return repr(value) if isinstance(value, float) else str(int(value))
    if isinstance(value, Mapping):
        items = sorted(value.items(), key=lambda item: str(item[0]))
        return "{" + ", ".join(f"{format_value(k)}: {format_value(v)}" for k, v in items) + "}"
    if isinstance(value, set | frozenset):
        return "[" + ", ".join(sorted(format_value(v) for v in value)) + "]"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    return format_value(str(value))


def fields_phrase(change: Change) -> str:
    """`name: before -> after` for each field, names sorted, joined by `; ` (commas belong to lists)."""
    return "; ".join(
        f"{printable(name)}: {format_value(fc.before)} -> {format_value(fc.after)}"
        for name, fc in sorted(change.fields.items())
    )


def change_lines(change: Change, paint: Paint = plain) -> list[str]:
    """The change line (symbol, kind, subject, loud severity, fields), then the reason, indented by four, then
    what the severity stands for in words: what applying it may interrupt, and what the live state exposes."""
    head = f"{paint(change.action, SYMBOLS[change.action])} {change.kind}"
    if change.subject is not None:
        head += f" {quote(change.subject)}"
    if change.severity in LOUD_SEVERITIES:
        head += " " + paint(change.severity, f"[{change.severity}]")
    if change.fields:
        head += "  " + fields_phrase(change)
    lines = [head]
    # A reason is our own prose, but it may quote a name; each of its lines gets the indent.
    lines.extend(f"    {printable(line)}" for line in change.reason.splitlines() if line.strip())
    if change.disrupts is not None:
        lines.append(f"    may interrupt: {printable(change.disrupts)}")
    if change.exposes is not None:
        lines.append(f"    live exposes: {printable(change.exposes)}")
    return lines


def block_title(project: str | None) -> str:
    """`organization`, or `project "Support Bot"` (quoted, so a name cannot forge another line)."""
    return "organization" if project is None else f"project {quote(project)}"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def counts_phrase(summary: Mapping[str, int], *, only_nonzero: bool = False) -> str:
    """`1 to create, 3 to update, 0 to delete, 1 to archive; 1 uncorrectable, 2 reports`.

    With `only_nonzero`, actions without a change are left out and the parts are joined by commas only
    (`1 to create, 2 reports`), for the summary of one project.
    """

    def shown(action: str) -> bool:
        return bool(summary.get(action, 0)) or not only_nonzero

    applied = [f"{summary.get(a, 0)} to {a}" for a in ACTIONS if a in APPLIED_ACTIONS and shown(a)]
    said = []
    if shown("uncorrectable"):
        said.append(f"{summary.get('uncorrectable', 0)} uncorrectable")
    if shown("report"):
        said.append(_count(summary.get("report", 0), "report"))
    if only_nonzero:
        return ", ".join(applied + said)
    return ", ".join(applied) + "; " + ", ".join(said)
