"""One reconcile, whole: observe -> diff -> guards and thresholds -> apply or not. Every front end calls this.

    outcome = await reconcile(api, desired, Intent(apply=True, allow_unsafe=digest), review=ask_a_person)

The CLI (`reconcile`, `reconcile apply PLAN`), the daemon and the demo differ only in what they do with the
`Outcome`: print it, save it, alert on it. None of them assembles the pipeline itself, so a dry run judges a
plan exactly as its apply will (`Outcome.refusal`), and a plan that apply would refuse fails in the pull
request, not after the merge.

`review` is called once the plan and its verdict are known, before any write, whether or not the run
applies: the CLI prints the plan there and asks for confirmation, `reconcile apply PLAN` checks that nothing
moved since the plan was saved, the daemon reads the audit log. Returning False declines the apply.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from datacontrols.adminapi import AdminApi
from datacontrols.desired.schema import DesiredState
from datacontrols.engine import DEFAULT_REGISTRY, ApplyResult, OnChange, Registry, apply, diff, observe
from datacontrols.identity import check_organization
from datacontrols.observed import Observed
from datacontrols.plan import Plan
from datacontrols.prview import PullRequestPlan, split
from datacontrols.ratchet import hold_weakening
from datacontrols.safety import SafetyCheck, restrict
from datacontrols.target import EVERYTHING, Target, changed_by
from datacontrols.verdict import Refusal, judge

__all__ = ["Intent", "Outcome", "Phase", "PhaseHook", "Reader", "Review", "reconcile"]


@dataclass(frozen=True)
class Intent:
    """What the caller asks of this run.

    `apply`: write the plan (else only plan; the client should then be read-only as well).
    `no_removals`: report every delete and archive instead of applying it.
    `allow_unsafe`: a person's approval of exactly one plan, by its digest (thresholds and the ratchet).
    `hold_weakening`: hold back every change that weakens a data control (the daemon's rule) instead of
    refusing the whole plan.
    `base`: the pull request's target branch; the outcome then also tells which changes this one introduces,
    and only the projects the pull request can change are read (`target.changed_by`).
    `target`: the projects to read, plan and apply (`--project`); all by default.
    `writable`: of the planned projects, those whose changes may be written (the daemon plans the whole
    organization from reads of different ages, and writes only what this run read afresh).
    """

    apply: bool = False
    no_removals: bool = False
    allow_unsafe: str | None = None
    hold_weakening: bool = False
    base: DesiredState | None = None
    target: Target = EVERYTHING
    writable: Target = EVERYTHING


@dataclass
class Outcome:
    """What one reconcile found, judged and did. Front ends render it; nothing in it is a secret."""

    desired: DesiredState
    observed: Observed
    plan: Plan  # the whole plan: what apply does
    safety: SafetyCheck
    refusal: Refusal | None  # set when apply would refuse the plan (and so did not apply it)
    view: PullRequestPlan | None = None
    result: ApplyResult | None = None  # set when changes were applied (or attempted)
    declined: bool = False  # the review said no
    unpinned: str | None = None  # the warning for a desired state that names no organization (identity)
    target: Target = EVERYTHING  # what was read and planned

    @property
    def not_read(self) -> list[str]:
        """The live projects this run did not read (its target left them out), by name."""
        return self.target.left_out(p.name or p.id for p in self.observed.projects if not p.archived)

    @property
    def not_read_note(self) -> tuple[int, str]:
        """How many live projects were not read, and why: what `present.render_outcome` says of them."""
        return len(self.not_read), self.target.why

    @property
    def project_ids(self) -> dict[str, str]:
        """The live id of each active project the shown plan names (one still to be created has none)."""
        named = {change.project for change in self.shown if change.project is not None}
        return {p.name: p.id for p in self.observed.projects if p.name in named and not p.archived}

    @property
    def shown(self) -> Plan:
        """What the output is about: the pull request's own changes in the PR view, else the whole plan."""
        return self.view.introduced if self.view is not None else self.plan

    @property
    def read_failures(self) -> dict[str, str]:
        return self.observed.failures


Review = Callable[[Outcome], Awaitable[bool]]
# How a run reads the organization for a desired state and a target; the default is `engine.observe`.
Reader = Callable[[DesiredState, Target], Awaitable[Observed]]
Phase = Literal["observe", "apply"]
PhaseHook = Callable[[Phase], None]


async def reconcile(
    api: AdminApi,
    desired: DesiredState,
    intent: Intent | None = None,
    *,
    registry: Registry = DEFAULT_REGISTRY,
    review: Review | None = None,
    stopping: asyncio.Event | None = None,
    on_change: OnChange | None = None,
    on_phase: PhaseHook | None = None,
    read: Reader | None = None,
) -> Outcome:
    """Run one reconcile. Raises only for what dooms the whole run (a bad key, an unreachable API).

    `read`: how the organization is read (the daemon's work queue answers from reads of its own)."""
    intent = intent or Intent()

    async def read_all(wanted: DesiredState, within: Target) -> Observed:
        return await observe(api, wanted, registry, target=within)

    read = read or read_all
    target = intent.target
    if intent.base is not None:
        target = target.within(changed_by(intent.base, desired))  # a pull request reads what it can change
    _phase(on_phase, "observe")
    observed = await read(desired, target)
    unpinned = check_organization(desired, observed.projects)  # another organization's key: stop here
    plan = restrict(diff(desired, observed, registry, target=target), desired, no_removals=intent.no_removals)
    if intent.hold_weakening:
        plan = hold_weakening(plan)  # the ratchet for unattended runs: a weakening change waits for a person
    view = None
    if intent.base is not None:
        base_observed = await read(intent.base, target)  # answered by the read cache
        base_plan = restrict(
            diff(intent.base, base_observed, registry, target=target), intent.base, no_removals=intent.no_removals
        )
        view = split(plan, base_plan)
    safety = SafetyCheck.of(desired, observed, allow_unsafe=intent.allow_unsafe)
    outcome = Outcome(desired, observed, plan, safety, judge(plan, safety), view, unpinned=unpinned, target=target)
    proceed = await review(outcome) if review is not None else True
    if not intent.apply or not plan.applicable:
        return outcome
    if not proceed:
        outcome.declined = True
        return outcome
    if outcome.refusal is not None:
        return outcome  # refused whole, before any write; the front end says why
    _phase(on_phase, "apply")
    written = plan if intent.writable.whole else Plan.of(c for c in plan if intent.writable.includes(c.project))
    outcome.result = await apply(api, written, registry, stopping=stopping, on_change=on_change, safety=safety)
    return outcome


def _phase(hook: PhaseHook | None, name: Phase) -> None:
    if hook is not None:
        hook(name)
