"""The ratchet: a change that weakens a data control is applied only when a person approves the exact plan.

Each kind says, on the change it plans, whether applying it weakens a data control (`Change.weakens`, in
words): data retention moved away from zero data retention or toward a longer retention, a hosted tool
enabled, a model policy widened or removed, a hard spend limit raised or removed, a customer-managed
encryption key removed or replaced, someone given access to a project or made its owner, an invitation
into the organization. Tightening and correcting are never held, nor are changes inside a project the same
plan creates (nothing exists there yet to weaken; the creates threshold bounds new projects).

Why a person, and why the exact plan: one bad merge, or one compromised pull request, must not be able to
turn off zero data retention for a whole organization unattended. The approval is the one the thresholds
already use, `--allow-unsafe PLAN_DIGEST`: the digest names this plan and nothing else, so an approval
cannot be reused for a plan that weakens something else. An acknowledgement in the desired state itself
was rejected: the pull request that weakens a control could approve itself.

- `reconcile --auto-approve` and `reconcile apply PLAN` refuse a plan with a weakening change, before any
  write, unless `--allow-unsafe` names its digest (`safety.enforce`).
- `reconcile serve --mode enforce` never applies one: `hold_weakening` turns each into a held change that
  is reported and alerted (critical) while the rest of the plan is applied.
- A dry run says first what needs approval (`approval_lines`), and the pull-request comment too.
"""

from __future__ import annotations

import dataclasses
from typing import Final

from datacontrols.plan import Change, Plan

__all__ = [
    "APPROVAL_HEADING",
    "APPROVAL_WHY",
    "approval_items",
    "approval_lines",
    "hold_weakening",
    "needing_approval",
    "weakening",
]

APPROVAL_WHY: Final = "it weakens a data control, and only a person's approval of the exact plan applies that"
APPROVAL_HEADING: Final = (
    "Needs approval: these changes weaken data controls (apply them with --allow-unsafe PLAN_DIGEST)"
)


def needing_approval(plan: Plan) -> list[Change]:
    """The changes apply would write that weaken a data control, in plan order.

    Changes inside a project that the same plan creates are not held: nothing exists there yet to weaken
    (no data, no one with access), the same rule the thresholds follow. The project's creation itself is
    bounded by the creates threshold.
    """
    created = {c.project for c in plan.project_creations}
    return [change for change in plan.changes if change.needs_approval and change.project not in created]


def weakening(change: Change) -> str:
    """`<where>: <what it weakens>`, the one wording of a weakening change in lines, lists and refusals."""
    return f"{change.where}: {change.weakens}"


def approval_items(plan: Plan) -> list[str]:
    """`<where>: <what it weakens>`, one per change that needs approval."""
    return [weakening(c) for c in needing_approval(plan)]


def approval_lines(plan: Plan) -> list[str]:
    """`needs approval: <where>: <what it weakens>`, one per weakening change."""
    return [f"needs approval: {item}" for item in approval_items(plan)]


def hold_weakening(plan: Plan) -> Plan:
    """The plan with every weakening change held back (shown, alerted, never applied): the daemon's rule."""
    held = {id(change) for change in needing_approval(plan)}
    if not held:
        return plan
    return Plan.of(
        dataclasses.replace(
            change,
            enforcement="report",
            severity="critical",
            reason=f"{change.reason} (not applied: {APPROVAL_WHY})".lstrip(),
        )
        if id(change) in held
        else change
        for change in plan.changes
    )
