"""Guards: rules a plan must pass before any of it is written. A plan that breaks one is refused whole.

    1. A project keeps at least one owner. Owners are users with role `owner` and groups granted the owner
       role (service accounts do not count: they cannot administer a project in the dashboard). A plan
       whose removals and demotions, net of its additions and promotions, would leave a project that has
       owners with none is refused.
    2. The identity behind the admin key in use (when it could be identified, see `kinds.directory`) is
       never removed from a project or demoted from owner: the run would cut off the person or account
       that runs it.

`check_guards(plan)` is pure and runs at the start of `engine.apply`, before the first write, for the CLI
and the daemon alike; it looks only at the changes that would be applied (held-back and report changes
cannot lock anyone out). It works from the `MemberFacts` the member kinds give each change when the plan
was made (`kinds.membership`): the principal, its owner status before and after, and the
project's owners as observed. Checking the plan being applied, rather than trusting a verdict computed
earlier, keeps the rule right for a filtered plan too (dropping an owner's addition from a plan that also
removes the old owner makes it unsafe).

`guard_violations(plan)` returns the messages without raising, for a dry run that wants to show them.
"""

from __future__ import annotations

from collections.abc import Iterable

from datacontrols.errors import UnsafePlanError
from datacontrols.kinds.membership import MEMBER_KINDS, MemberFacts
from datacontrols.plan import Change, Plan

__all__ = ["check_guards", "guard_message", "guard_violations"]

_OWNER_PRINCIPALS = ("user:", "group:")


def check_guards(plan: Plan) -> None:
    """Raise `UnsafePlanError` naming each project and rule the plan breaks; return when it breaks none."""
    problems = guard_violations(plan)
    if problems:
        raise UnsafePlanError(guard_message(problems))


def guard_message(problems: list[str]) -> str:
    """The one-line refusal for these broken guards."""
    return f"refusing to apply the plan, nothing was written: {'; '.join(problems)}"


def guard_violations(plan: Plan) -> list[str]:
    """One message per broken rule and project, in plan order."""
    by_project: dict[str, list[tuple[Change, MemberFacts]]] = {}
    for change in plan.applicable:
        if change.kind in MEMBER_KINDS and change.project is not None and isinstance(change.facts, MemberFacts):
            by_project.setdefault(change.project, []).append((change, change.facts))
    problems: list[str] = []
    for project, changes in by_project.items():
        problems += _last_owner(project, changes)
        problems += _own_identity(project, changes)
    return problems


def _last_owner(project: str, changes: list[tuple[Change, MemberFacts]]) -> list[str]:
    owners: set[str] = set()
    for _, facts in changes:
        owners.update(facts.guard.owners)
    owners = {o for o in owners if o.startswith(_OWNER_PRINCIPALS)}
    losing = [(c, f) for c, f in changes if _counts(f) and f.loses_owner]
    gaining = {f.principal for _, f in changes if _counts(f) and f.gains_owner}
    if not owners or not losing:
        return []
    remaining = (owners - {f.principal for _, f in losing}) | gaining
    if remaining:
        return []
    return [
        f"project {project!r} would be left without an owner (it removes or demotes {_names(losing)}); "
        "keep at least one owner in members.users or members.groups"
    ]


def _own_identity(project: str, changes: list[tuple[Change, MemberFacts]]) -> list[str]:
    hits = [
        (c, f)
        for c, f in changes
        if f.guard.admin_identity is not None
        and f.principal == f.guard.admin_identity
        and (c.action == "delete" or f.loses_owner)
    ]
    if not hits:
        return []
    verb = "remove" if any(c.action == "delete" for c, _ in hits) else "demote"
    return [
        f"project {project!r}: the plan would {verb} {_names(hits)}, the owner of the admin key this run uses; "
        "list it in the file, or make that change by hand"
    ]


def _counts(facts: MemberFacts) -> bool:
    return facts.principal.startswith(_OWNER_PRINCIPALS)


def _names(changes: Iterable[tuple[Change, MemberFacts]]) -> str:
    return ", ".join(f"{c.kind.removeprefix('project_')} {c.subject}" for c, _ in changes)
