"""The pull-request view: only the changes a pull request introduces, with pre-existing drift counted apart.

`reconcile --dry-run --base-desired-state BASE_DIR` plans twice against ONE reading of the organization:
the head files (the pull request) and the base files (the target branch). Both plans are pure functions of
the same observation, so their difference is exactly what the pull request changes (safe-settings does the
same with the base branch's config). Each thing is read once: the second observation goes through
`adminapi.read_cache.ReadCache`, an HTTP transport that answers a GET it has answered before.

A change's identity is (action, kind, project, subject, fields, enforcement); reason and severity are words
about it. Then:

    introduced     in the head plan and not in the base plan: what merging would do that is not done now
    pre_existing   in both: drift that exists whatever the pull request says (counted, shown collapsed)

Changes only the base plan has (drift the pull request stops correcting) are not shown: merging adds no
write for them. The detailed exit code follows `introduced`. The head plan as a whole is still what a later
apply does, so safety checks and a saved plan (`--out`) use it, not the split.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any, Final

from datacontrols.plan import Change, Plan
from datacontrols.render import render, render_markdown

__all__ = ["PullRequestPlan", "identity", "render_pull_request", "split"]

_COMMENT_CHARS: Final = 60000  # what render_markdown allows a whole comment (GitHub's cap is 65,536)
_PRE_EXISTING_TITLE: Final = "Pre-existing drift"


def identity(change: Change) -> Hashable:
    fields = json.dumps({k: v.to_json() for k, v in change.fields.items()}, sort_keys=True, default=str)
    return (change.action, change.kind, change.project, change.subject, fields, change.enforcement)


@dataclass(frozen=True)
class PullRequestPlan:
    head: Plan  # everything merging leads to; what an apply would do
    introduced: Plan
    pre_existing: Plan

    def to_json(self) -> dict[str, Any]:
        """Plan JSON v1 of the introduced changes, plus the count of pre-existing ones."""
        return {**self.introduced.to_json(), "pre_existing": len(self.pre_existing)}


def split(head: Plan, base: Plan) -> PullRequestPlan:
    """Separate what the pull request introduces from what was planned already. Pure.

    A multiset comparison: two identical changes in head and one in base leave one introduced.
    """
    remaining: Counter[Hashable] = Counter(identity(c) for c in base.changes)
    introduced: list[Change] = []
    pre_existing: list[Change] = []
    for change in head.changes:
        key = identity(change)
        if remaining[key] > 0:
            remaining[key] -= 1
            pre_existing.append(change)
        else:
            introduced.append(change)
    return PullRequestPlan(head=head, introduced=Plan.of(introduced), pre_existing=Plan.of(pre_existing))


def render_pull_request(view: PullRequestPlan, fmt: str, *, color: bool = False) -> str:
    """The introduced changes in `fmt`, and the pre-existing drift apart (collapsed in markdown)."""
    count = len(view.pre_existing)
    if fmt == "json":
        return json.dumps(view.to_json(), indent=2, sort_keys=True)
    if fmt == "markdown":
        return _markdown(view)
    shown = render(view.introduced, "text", color=color)
    if not count:
        return shown
    noun = "change was" if count == 1 else "changes were"
    return (
        shown.rstrip("\n") + f"\n\n{count} pre-existing {noun} planned before this change as well (drift not "
        "introduced by it); they are not shown. Run without --base-desired-state to see every change.\n"
    )


def _markdown(view: PullRequestPlan) -> str:
    count = len(view.pre_existing)
    if not count:
        return render_markdown(view.introduced, max_chars=_COMMENT_CHARS)
    main = render_markdown(view.introduced, max_chars=_COMMENT_CHARS * 3 // 4)
    noun = "change" if count == 1 else "changes"
    opening = (
        f"<details><summary>{_PRE_EXISTING_TITLE}: {count} {noun} not introduced by this pull request</summary>\n\n"
    )
    closing = "\n</details>\n"
    room = _COMMENT_CHARS - len(main) - len(opening) - len(closing) - 2
    if room < 400:  # too little left for even a heading: the summary line alone says it
        return f"{main}\n{opening}_Not shown: the comment is full._\n{closing}"
    body = render_markdown(view.pre_existing, title=_PRE_EXISTING_TITLE, max_chars=room)
    return f"{main}\n{opening}{body}{closing}"
