"""Safety: what a plan may do before a human has to say "yes, this one".

Two mechanisms, both pure functions of plain values:

**Holding changes back** (`restrict`). A held change stays in the plan, with its action, and its reason ends
with `(not applied: why)`; apply skips it (`Change.enforcement == "report"`, the engine's own mechanism for
`enforcement: report`). It runs before rendering, so the printed plan says what will not happen:

- a project file with `protected: true` is never archived and never loses an owner: its archive, and any
  member change that removes or demotes an owner (`project_user`, `project_group`,
  `project_service_account`), are held, whatever the plan says. `engine.diff` applies this to every plan.
- `--no-removals` holds every `delete` and every `archive`: the plan reports them instead.

**Thresholds** (`breaches`, `enforce`), checked at the start of `engine.apply`, before any write, for the
CLI and the daemon alike. Four categories; only applicable changes count, and changes on projects that the
same plan creates do not count (nothing exists there to lose):

    category  counts                          against (what is managed, as observed)
    archives  `archive` changes               live active projects
    removals  `delete` changes, kind by kind  the live items of that kind (members, keys, policies...)
    updates   `update` changes                every managed setting (all observed values, and the projects)
    creates   project creations               (by count only: refused above max_changes, default 20)

**The ratchet** (`datacontrols.ratchet`), checked with the thresholds: a change that weakens a data control
needs the same one-plan acknowledgement.

Items are counted generically from `Observed` values: None -> 0, a list, tuple, set or mapping -> its length,
anything else -> 1; a kind counts its own values with `Kind.count_items(value) -> int` (e.g. a value object
holding a list). Removals are judged kind by kind, so that removing 3 of 4 members is not diluted by the many
settings of other kinds, and one policy plus one alert do not add up to a bulk removal. A category (a kind,
for removals) is breached when its changes exceed `max_changes`, or when there are at least `min_changes` of
them and they are more than `max_percent` of its population (`SafetySettings`, from `safety:` in
organization.yaml; defaults: archives and removals 25% from 2 changes, updates 50% from 10). When the
population is unknown (apply was not given the observation), the changes are taken to be all there is
(100%): the safe default refuses bulk changes rather than guess.

A breached plan raises `UnsafePlanError` naming the threshold, the numbers and the plan digest, unless the
caller acknowledges that very plan: `allow_unsafe` equal to `plan.digest()` (`--allow-unsafe PLAN_DIGEST`).
An acknowledgement is for one plan only: if anything in the plan changes, so does its digest.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Literal

from datacontrols.desired.safety import CreatesThreshold, SafetySettings, Threshold
from datacontrols.errors import UnsafePlanError
from datacontrols.kinds import DesiredProject, Kind, OrganizationKind, ProjectKind, Scope, kind_for
from datacontrols.kinds import project as project_kind
from datacontrols.kinds.membership import MemberFacts
from datacontrols.kinds.policy import RULE_KINDS
from datacontrols.plan import Change, Plan
from datacontrols.ratchet import needing_approval
from datacontrols.ratchet import weakening as describe_weakening

if TYPE_CHECKING:
    from datacontrols.desired.schema import DesiredState
    from datacontrols.observed import Observed

__all__ = [
    "CATEGORIES",
    "MEMBER_KINDS",
    "Breach",
    "Category",
    "Population",
    "SafetyCheck",
    "acknowledged",
    "breaches",
    "count_items",
    "enforce",
    "hold",
    "loses_owner",
    "population",
    "refusal",
    "restrict",
]

Category = Literal["archives", "removals", "updates", "creates"]
CATEGORIES: Final[tuple[Category, ...]] = ("archives", "removals", "updates", "creates")
_ACTIONS: Final[dict[Category, str]] = {
    "archives": "archive",
    "removals": "delete",
    "updates": "update",
    "creates": "create",
}
_PROJECT_KIND: Final = "project"
MEMBER_KINDS: Final = frozenset({"project_user", "project_group", "project_service_account"})

PROTECTED_WHY: Final = "the project is protected"
NO_REMOVALS_WHY: Final = "--no-removals"


# --- holding changes back ---------------------------------------------------------------------------------


def loses_owner(change: Change) -> bool:
    """Whether a member change removes an owner or demotes one. Unknown role on a delete: assume an owner."""
    if change.kind not in MEMBER_KINDS or change.action not in ("delete", "update"):
        return False
    if isinstance(change.facts, MemberFacts):  # the member kinds record what the guards need
        return change.facts.loses_owner
    role = change.fields.get("role")
    if role is not None:
        return bool(role.before == "owner" and (change.action == "delete" or role.after != "owner"))
    return change.action == "delete"


def restrict(plan: Plan, desired: DesiredState, *, no_removals: bool = False) -> Plan:
    """Hold back what protected projects and `--no-removals` forbid. Pure; idempotent."""
    protected = {p.name for p in desired.projects if p.protected}
    if not protected and not no_removals:
        return plan
    changes = []
    for change in plan.changes:
        why = _forbidden(change, protected, no_removals) if change.applies else None
        changes.append(change if why is None else hold(change, why))
    return Plan.of(changes)


def hold(change: Change, why: str) -> Change:
    """The change, shown but never applied; the reason says why (the engine's wording for held changes)."""
    return dataclasses.replace(change, enforcement="report", reason=f"{change.reason} (not applied: {why})".lstrip())


def _forbidden(change: Change, protected: set[str], no_removals: bool) -> str | None:
    if change.project in protected and (
        (change.kind == _PROJECT_KIND and change.action == "archive") or loses_owner(change)
    ):
        return PROTECTED_WHY
    if no_removals and change.action in ("delete", "archive"):
        return NO_REMOVALS_WHY
    return None


# --- thresholds -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Population:
    """What is managed, as observed: the denominators of the thresholds."""

    live_projects: int = 0
    items_by_kind: Mapping[str, int] = field(default_factory=dict)  # kind name -> items observed, all projects
    settings: int = 0  # every observed value's items, plus one per live active project (its own attributes)

    def of(self, category: Category, kind: str | None = None) -> int:
        if category == "archives":
            return self.live_projects
        if category == "removals":
            return self.items_by_kind.get(kind or "", 0)
        return self.settings


def count_items(value: Any, kind: Kind | None = None) -> int:
    """How many managed items an observed value holds (see the module docstring): as the kind counts them."""
    if kind is not None:
        return kind.count_items(value)
    if value is None:
        return 0
    if isinstance(value, Mapping | list | tuple | set | frozenset):
        return len(value)
    return 1


def _kind(name: str, scope: Scope) -> Kind | None:
    try:
        return kind_for(name, scope)
    except KeyError:
        return None  # a kind a test registry added: counted generically


def population(observed: Observed, desired: DesiredState | None = None) -> Population:
    """The population of each category from one observation.

    With `desired`, an organization-wide value read only for the projects' sake (the organization's users,
    say) is not counted: it is not a managed setting, and counting it would dilute every share.
    """
    items: dict[str, int] = {}
    policy_only = _read_for_policy(observed, desired) if desired is not None else {}
    for project_id, values in observed.settings.items():
        for name, value in values.items():
            if name in policy_only.get(project_id, ()):
                continue  # read for the organization policy's sake only: not a managed setting (as above)
            items[name] = items.get(name, 0) + count_items(value, _kind(name, "project"))
    for name, value in observed.organization.items():
        kind = _kind(name, "organization")
        if desired is not None and isinstance(kind, OrganizationKind) and not kind.manages(desired):
            continue
        items[name] = items.get(name, 0) + count_items(value, kind)
    live = sum(1 for p in observed.projects if not p.archived)
    return Population(live_projects=live, items_by_kind=items, settings=sum(items.values()) + live)


def _read_for_policy(observed: Observed, desired: DesiredState) -> dict[str, frozenset[str]]:
    """Project id -> the kinds read only for the policy: every kind of a project without a file, and the
    policy's kinds a file leaves unmanaged."""
    if desired.organization.policy is None:
        return {}
    files = [DesiredProject(file=p, settings=desired.effective(p)) for p in desired.projects]
    matching = project_kind.match_projects(files, observed.projects)
    found = {live.id: frozenset(observed.settings.get(live.id, ())) for live in matching.unmanaged}
    for project, live in matching.pairs:
        if live is not None:
            kinds = (kind_for(name, "project") for name in RULE_KINDS.values() if name != project_kind.KIND)
            found[live.id] = frozenset(k.name for k in kinds if isinstance(k, ProjectKind) and not k.manages(project))
    return found


@dataclass(frozen=True)
class SafetyCheck:
    """Everything the threshold check needs besides the plan. The default knows no population: safe."""

    settings: SafetySettings = field(default_factory=SafetySettings)
    population: Population | None = None
    allow_unsafe: str | None = None

    @classmethod
    def of(cls, desired: DesiredState, observed: Observed, *, allow_unsafe: str | None = None) -> SafetyCheck:
        return cls(
            settings=desired.organization.safety, population=population(observed, desired), allow_unsafe=allow_unsafe
        )


_NOUNS: Final[dict[Category, tuple[str, str]]] = {
    "archives": ("project archived", "projects archived"),
    "removals": ("item deleted", "items deleted"),
    "updates": ("setting updated", "settings updated"),
    "creates": ("project created", "projects created"),
}


@dataclass(frozen=True)
class Breach:
    """One category (for removals: one kind) over its threshold."""

    category: Category
    count: int
    population: int | None  # None: unknown
    threshold: Threshold | CreatesThreshold
    by_count: bool  # over `max_changes` (else over `max_percent`)
    kind: str | None = None  # removals are judged kind by kind

    @property
    def percent(self) -> float:
        if not self.population:
            return 100.0
        return 100.0 * self.count / self.population

    def describe(self) -> str:
        what = _NOUNS[self.category][0 if self.count == 1 else 1]
        if isinstance(self.threshold, CreatesThreshold):
            return f"creates: {self.count} {what}, more than safety.creates.max_changes {self.threshold.max_changes}"
        against = {
            "archives": "live active projects",
            "removals": f"live {self.kind} items",
            "updates": "managed settings",
        }[self.category]
        of = f"of {self.population} {against}" if self.population is not None else "(how many are managed is unknown)"
        label = f"{self.category} ({self.kind})" if self.kind else self.category
        head = f"{label}: {self.count} {what} {of}, {_percent(self.percent)},"
        if self.by_count:
            return f"{head} more than safety.{self.category}.max_changes {self.threshold.max_changes}"
        return (
            f"{head} more than safety.{self.category}.max_percent {_percent(self.threshold.max_percent)} "
            f"(which applies from {self.threshold.min_changes} changes)"
        )


def _percent(value: float) -> str:
    return f"{value:.0f}%" if value == int(value) else f"{value:.1f}%"


def _counted(plan: Plan, category: Category) -> list[Change]:
    if category == "creates":
        return list(plan.project_creations)
    new = {c.project for c in plan.project_creations}
    return [c for c in plan.changes if c.applies and c.action == _ACTIONS[category] and c.project not in new]


def _judge(
    category: Category, count: int, total: int | None, threshold: Threshold, kind: str | None = None
) -> Breach | None:
    if threshold.max_changes is not None and count > threshold.max_changes:
        return Breach(category, count, total, threshold, by_count=True, kind=kind)
    share = 100.0 * count / total if total else 100.0
    if count >= threshold.min_changes and share > threshold.max_percent:
        return Breach(category, count, total, threshold, by_count=False, kind=kind)
    return None


def breaches(plan: Plan, check: SafetyCheck) -> list[Breach]:
    """The categories over their thresholds. Pure.

    Removals are judged kind by kind (deleting 3 of 4 members is not diluted by 40 model ids elsewhere);
    archives and updates as a whole.
    """
    found: list[Breach | None] = []
    known = check.population
    for category in CATEGORIES:
        changes = _counted(plan, category)
        if not changes:
            continue
        if category == "creates":
            limit = check.settings.creates
            if len(changes) > limit.max_changes:  # by count alone: the population is not part of the verdict
                found.append(Breach(category, len(changes), None, limit, by_count=True))
            continue
        threshold: Threshold = getattr(check.settings, category)
        if category == "removals":
            per_kind = Counter(c.kind for c in changes)
            for kind, count in sorted(per_kind.items()):
                total = known.of(category, kind) if known is not None else None
                found.append(_judge(category, count, total, threshold, kind))
        else:
            total = known.of(category) if known is not None else None
            found.append(_judge(category, len(changes), total, threshold))
    return [breach for breach in found if breach is not None]


def acknowledged(plan: Plan, allow_unsafe: str | None) -> bool:
    """Whether `--allow-unsafe` names this very plan."""
    return allow_unsafe is not None and allow_unsafe.strip().lower() == plan.digest()


def enforce(plan: Plan, check: SafetyCheck) -> None:
    """Raise `UnsafePlanError` when the plan breaches a threshold or weakens a data control (the ratchet) and
    this plan is not acknowledged."""
    found = breaches(plan, check)
    weakening = needing_approval(plan)
    if (not found and not weakening) or acknowledged(plan, check.allow_unsafe):
        return
    raise UnsafePlanError(refusal(found, plan.digest(), check.allow_unsafe, weakening=weakening))


def _reasons(found: list[Breach], weakening: list[Change]) -> str:
    """`the plan weakens ...: where: what; and it exceeds a safety threshold: ...`, whichever apply."""
    parts = []
    if weakening:
        listed = "; ".join(describe_weakening(c) for c in weakening)
        parts.append(f"the plan weakens data controls and needs a person's approval: {listed}")
    if found:
        subject = "it" if parts else "the plan"
        parts.append(f"{subject} exceeds a safety threshold: {'; '.join(b.describe() for b in found)}")
    return "; and ".join(parts)


def refusal(
    found: list[Breach], digest: str, allow_unsafe: str | None = None, *, weakening: list[Change] | None = None
) -> str:
    """The one-line refusal: what needs approval, the thresholds and numbers, and the one-time override."""
    other = (
        f" (--allow-unsafe was given for {allow_unsafe.strip()[:12]}…, which is not this plan)" if allow_unsafe else ""
    )
    how = "change the threshold under safety: in organization.yaml" if found and not weakening else "change the files"
    return (
        f"refusing to apply: {_reasons(found, weakening or [])}. Nothing was written{other}. A person who has "
        f"reviewed exactly this plan approves it (this plan only) with --allow-unsafe {digest}, or {how}"
    )
