"""How every front end shows a reconcile's outcome: the plan (or the pull request's part of it) and the verdict.

    text      the plan, then `Apply would be refused:` and one `!` line per reason, when apply would refuse
    json      plan JSON v1 plus `refused`: null, or {reasons, guards, needs_approval, thresholds, plan_digest,
              approve_with}; with a target, `not_read`: {projects, why}
    markdown  the comment, with the refusal as a blockquote right under its heading, where a reviewer looks

A run with a target (`--project`, or a pull request's view) ends the text and markdown with one line saying
how many projects it did not read and why.

Pure: a function of the plan, its pull-request view and its refusal; no I/O.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

from datacontrols.plan import Plan
from datacontrols.prview import PullRequestPlan, render_pull_request
from datacontrols.redaction import redact, redact_value
from datacontrols.render import Format, render, render_json
from datacontrols.render.markdown import escape_markdown
from datacontrols.render.notation import printable
from datacontrols.verdict import Refusal

__all__ = ["REFUSED_HEADING", "NotRead", "render_outcome"]

REFUSED_HEADING: Final = "Apply would be refused"
# How many live projects a targeted run did not read, and why ("unchanged by this pull request").
NotRead = tuple[int, str]


def render_outcome(
    plan: Plan,
    refusal: Refusal | None,
    fmt: Format,
    *,
    view: PullRequestPlan | None = None,
    color: bool = False,
    not_read: NotRead | None = None,
    extra: Mapping[str, Any] | None = None,
) -> str:
    """Render `plan` (or `view`, the pull request's part of it) with the verdict on the whole plan, and what
    the run's target left unread (`not_read`: how many live projects, and why). `extra`: more top-level keys
    of the JSON document (the project ids, an apply's result); other formats print those their own way."""
    if fmt == "json":
        return _json(plan, refusal, view, not_read, extra or {})
    text = render_pull_request(view, fmt, color=color) if view is not None else render(plan, fmt, color=color)
    if not_read is not None and not_read[0]:
        text = text.rstrip("\n") + f"\n\n{_scope_line(not_read)}\n"
    if refusal is None:
        return text
    if fmt == "markdown":
        return _markdown(text, refusal)
    return _text(text, refusal, color=color)


def _scope_line(not_read: NotRead) -> str:
    count, why = not_read
    return f"{count} project{'s' if count != 1 else ''} not read: {why}."


def _json(
    plan: Plan,
    refusal: Refusal | None,
    view: PullRequestPlan | None,
    not_read: NotRead | None,
    extra: Mapping[str, Any],
) -> str:
    refused = refusal.to_json() if refusal is not None else None
    scope = {"not_read": {"projects": not_read[0], "why": not_read[1]}} if not_read and not_read[0] else {}
    if view is None:
        return render_json(plan, refused=refused, **scope, **extra)
    document = {**view.to_json(), "refused": redact_value(refused), **scope, **redact_value(dict(extra))}
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n"


def _text(text: str, refusal: Refusal, *, color: bool) -> str:
    heading = f"{REFUSED_HEADING}:"
    lines = [f"\x1b[1;31m{heading}\x1b[0m" if color else heading]
    lines += [f"  ! {printable(redact(reason))}" for reason in refusal.reasons]
    if refusal.approvable:
        lines.append(f"  A person who has reviewed exactly this plan approves it with --allow-unsafe {refusal.digest}")
    else:
        lines.append("  No approval lets a plan through that breaks a guard: change the files.")
    return text.rstrip("\n") + "\n\n" + "\n".join(lines) + "\n"


def _markdown(text: str, refusal: Refusal) -> str:
    quote = f"> **Safety:** {_escape(refusal.summary())}\n"
    head, sep, rest = text.partition("\n")
    if head.startswith("#") and sep:
        return f"{head}\n\n{quote}\n{rest.lstrip(chr(10))}"
    return f"{quote}\n{text}"


def _escape(text: str) -> str:
    return escape_markdown(printable(redact(text)))
