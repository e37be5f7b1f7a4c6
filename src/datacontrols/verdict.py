"""The verdict: would applying this plan be refused, and why. Pure, and the same for every front end.

Three rules stand between a plan and its first write, in this order:

    guards      a project keeps an owner; the admin key's owner is never removed (`datacontrols.guards`).
                No approval lets such a plan through: the files must change.
    ratchet     a change that weakens a data control needs a person's approval of this exact plan
                (`datacontrols.ratchet`, `--allow-unsafe PLAN_DIGEST`).
    thresholds  bulk archives, removals, updates and creates over `safety:` (`datacontrols.safety`),
                with the same one-time approval.

`judge` runs all three without raising. A dry run renders the verdict (text, JSON `refused`, markdown) and
exits 1 when it refuses, so a pull request fails before the merge instead of its apply failing after it;
`reconcile` (the entry point) does not apply a refused plan; `engine.apply` checks again before writing, for
callers that reach it directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from datacontrols.guards import guard_message, guard_violations
from datacontrols.plan import Plan
from datacontrols.ratchet import approval_items, needing_approval
from datacontrols.safety import SafetyCheck, acknowledged, breaches, refusal

__all__ = ["Refusal", "judge"]


@dataclass(frozen=True)
class Refusal:
    """Why apply would refuse a plan: each broken guard, each weakening change, each threshold crossed."""

    digest: str
    guards: tuple[str, ...] = ()
    weakening: tuple[str, ...] = ()
    thresholds: tuple[str, ...] = ()
    message: str = ""  # the one line that apply prints when it refuses

    @property
    def approvable(self) -> bool:
        """Whether `--allow-unsafe DIGEST` would let it through (never when a guard is broken)."""
        return not self.guards

    @property
    def reasons(self) -> list[str]:
        return [
            *self.guards,
            *(f"needs approval: {item}" for item in self.weakening),
            *(f"exceeds a threshold: {item}" for item in self.thresholds),
        ]

    def to_json(self) -> dict[str, Any]:
        return {
            "reasons": self.reasons,
            "guards": list(self.guards),
            "needs_approval": list(self.weakening),
            "thresholds": list(self.thresholds),
            "plan_digest": self.digest,
            "approve_with": f"--allow-unsafe {self.digest}" if self.approvable else None,
        }

    def summary(self) -> str:
        """One line for a dry run: that apply would refuse, why, and what a person can do."""
        head = f"applying this plan will be refused: {'; '.join(self.reasons)}"
        if self.approvable:
            return f"{head}; to apply it anyway, a person approves this plan with --allow-unsafe {self.digest}"
        return f"{head}; change the files (no approval lets a plan through that breaks a guard)"


def judge(plan: Plan, safety: SafetyCheck) -> Refusal | None:
    """The refusal apply would give this plan under `safety`, or None when apply would go ahead. Pure."""
    guards = guard_violations(plan)
    found = breaches(plan, safety)
    weakening = needing_approval(plan)
    if not guards and ((not found and not weakening) or acknowledged(plan, safety.allow_unsafe)):
        return None
    # With a broken guard the other reasons are listed too, so that one round of edits can fix them all.
    if acknowledged(plan, safety.allow_unsafe):
        found, weakening = [], []
    digest = plan.digest()
    message = guard_message(guards) if guards else refusal(found, digest, safety.allow_unsafe, weakening=weakening)
    return Refusal(
        digest,
        guards=tuple(guards),
        weakening=tuple(approval_items(plan)) if weakening else (),
        thresholds=tuple(b.describe() for b in found),
        message=message,
    )
