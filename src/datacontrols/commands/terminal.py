"""What the plan and apply commands print on a terminal: the plan, the progress of an apply, its result,
the confirmation prompt. Plain writes to stdout and stderr; the rendering itself is `present`'s."""

from __future__ import annotations

import sys
from typing import Any, TextIO

from datacontrols.colors import wants_color
from datacontrols.engine import ApplyResult
from datacontrols.plan import Change, Plan

__all__ = ["color", "confirm", "emit", "print_progress", "print_result", "report_read_failures"]


def emit(text: str) -> None:
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    sys.stdout.flush()


def color(stream: Any) -> bool:
    """Whether the plan printed to `stream` is coloured (`colors.wants_color`)."""
    return wants_color(stream)


def report_read_failures(failures: dict[str, str]) -> bool:
    for name, why in sorted(failures.items()):
        print(f"error: could not read project {name!r}: {why}", file=sys.stderr)
    return bool(failures)


def confirm(plan: Plan) -> bool:
    count = len(plan.applicable)
    if not sys.stdin.isatty():
        print(
            "error: refusing to apply without confirmation: there is no terminal to ask on; "
            "pass --auto-approve to apply, or --dry-run to only plan",
            file=sys.stderr,
        )
        return False
    # The question goes to stderr: stdout holds only what the command prints (a plan, a JSON document).
    print(f"\nApply {count} change{'s' if count != 1 else ''}? Only 'yes' will be accepted: ", end="", file=sys.stderr)
    sys.stderr.flush()
    answer = input()
    if answer.strip() != "yes":
        print("Apply cancelled; nothing was written.", file=sys.stderr)
        return False
    return True


_SYMBOLS = {"create": "+", "update": "~", "delete": "-", "archive": "-"}


def print_progress(change: Change, outcome: str, stream: TextIO | None = None) -> None:
    where = f"project {change.project!r}" if change.project else "organization"
    subject = f" {change.subject}" if change.subject else ""
    line = f"  {outcome:<8} {_SYMBOLS.get(change.action, '?')} {change.kind}{subject} ({where})"
    print(line, flush=True, file=stream or sys.stdout)


def print_result(result: ApplyResult, stream: TextIO | None = None) -> None:
    """The apply's summary (on stdout, or on stderr when stdout holds JSON), its notes, then its failures."""
    out = stream or sys.stdout
    print(
        f"Apply {'complete' if result.ok else 'incomplete'}: {len(result.applied)} applied, "
        f"{len(result.failed)} failed, {len(result.skipped)} skipped.",
        file=out,
    )
    for change, note in result.notes:  # a create another writer raced: the reader should know who made it
        print(f"note: {change.kind} {change.action} for {change.where}: {note}", file=out)
    for change, why in result.failed:
        print(f"error: {change.kind} {change.action} for {change.where} failed: {why}", file=sys.stderr)
