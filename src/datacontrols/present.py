"""How every front end shows a reconcile's outcome: the plan (or the pull request's part of it) and the verdict.

    text      the plan, then `Apply would be refused:` and one `!` line per reason, when apply would refuse
    json      plan JSON v1 plus `refused`: null, or {reasons, guards, needs_approval, thresholds, plan_digest,
              approve_with}
    markdown  the comment, with the refusal as a blockquote right under its heading, where a reviewer looks

Pure: a function of the plan, its pull-request view and its refusal; no I/O.
"""

from __future__ import annotations

import json
from typing import Final

from datacontrols.plan import Plan
from datacontrols.prview import PullRequestPlan, render_pull_request
from datacontrols.redaction import redact, redact_value
from datacontrols.render import Format, render, render_json
from datacontrols.render.markdown import escape_markdown
from datacontrols.render.notation import printable
from datacontrols.verdict import Refusal

__all__ = ["REFUSED_HEADING", "render_outcome"]

REFUSED_HEADING: Final = "Apply would be refused"


def render_outcome(
    plan: Plan, refusal: Refusal | None, fmt: Format, *, view: PullRequestPlan | None = None, color: bool = False
) -> str:
    """Render `plan` (or `view`, the pull request's part of it) with the verdict on the whole plan."""
    if fmt == "json":
        return _json(plan, refusal, view)
    text = render_pull_request(view, fmt, color=color) if view is not None else render(plan, fmt, color=color)
    if refusal is None:
        return text
    if fmt == "markdown":
        return _markdown(text, refusal)
    return _text(text, refusal, color=color)


def _json(plan: Plan, refusal: Refusal | None, view: PullRequestPlan | None) -> str:
    refused = refusal.to_json() if refusal is not None else None
    if view is None:
        return render_json(plan, refused=refused)
    document = {**view.to_json(), "refused": redact_value(refused)}
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
