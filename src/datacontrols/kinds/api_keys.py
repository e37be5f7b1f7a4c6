"""A project's API keys (`keys:` hygiene rules): an inventory with findings, and optional pruning.

Every key of the project is listed with `owner_project_access=any` (the default visibility hides some). A key
is checked against the rules:

    max_age_days    created more than N days ago                                      flagged
    max_idle_days   not used for N days (`last_used_at`; never used: since creation)  flagged
    require_expiry  never expires (`expires_at` null, the SDK's field)                flagged
    max_lifetime_days  expires more than N days after creation, or never               flagged
    require_spend_limit  no per-key spend cap (`spend_limit` null, the SDK's field)    noted, not flagged
    max_spend_limit_usd  no per-key monthly cap, or a cap above N dollars               noted, not flagged
    allowed_scopes  a scope outside the list, or all permissions (audit log)          flagged, high
                    no record of its scopes in the audit log                          noted, not flagged
    (always)        its owner no longer has access to the project (`inactive`)        flagged, high
    (always)        its spend limit is reached: the API refuses its requests now (`enforcing`)  noted, high
    user_keys       owned by a user: `report` notes it; `forbidden` flags it (high)

With `fix: expiry` a key that never expires or lives longer than `max_lifetime_days` is an `update`: its
expiry is set to its creation + `max_lifetime_days` through the SDK's key update (SDK-NEWER.md section 4;
the pinned spec lacks it), which covers service accounts' keys too. A key already older than that would
expire at once, so it stays a `report` that says to rotate it; so does an expired key, which the API
refuses to update. The default is `report`: a shorter life can stop a workload that still uses the key.
`prune: delete` comes first: a key it deletes is not updated.

With `fix: spend_limit` a key without a cap, or with a cap above `max_spend_limit_usd`, is an `update` that
sets its monthly cap (USD) to `max_spend_limit_usd`, through the same call; with both fixes one update
carries both. The API blocks a capped key's requests once it has spent that much in a month, so the change
says so (`disrupts`), and the default stays `report`.

A key's scopes are not in the listing; `allowed_scopes` reads them from the audit log, one listing per
project and only when the rule is declared (`key_scopes.py`, which also says what `fix: scopes` does).

A missing or high `spend_limit` is only noted, never flagged: no cap is no reason to delete a key, and the
tool caps one only at the amount the file gives.

Each key with findings is one change, its subject the key's redacted value and id (nothing else of a key is
ever shown; the API never returns more). With `prune: report` (the default) it is a `report`. With
`prune: delete` a flagged user-owned key is a `delete`; a flagged key owned by a service account stays a
`report` that says why: the API refuses to delete such keys one by one, and deleting the account revokes
them. Findings are reports, so they never make a plan "have changes" and the next plan still shows them.

Age and idleness need "now". It is taken when the keys are read, from the kind's injectable clock, and kept
in the observed value, so `compare` stays pure and tests use fixed times. (The observed value, and with it
`Observed.digest()`, therefore changes on every read: a key can go stale without anything else moving.)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

import structlog

from datacontrols.adminapi.api_keys import ProjectApiKey
from datacontrols.desired.limits import format_usd
from datacontrols.desired.members import KeyHygiene
from datacontrols.kinds.base import NOT_CREATED, DesiredProject, ProjectKind, World
from datacontrols.kinds.key_scopes import (
    KeyScopes,
    held_scopes,
    read_scopes,
    scope_fix,
    scope_problems,
    shown_scopes,
)
from datacontrols.kinds.membership import ORDER_KEYS
from datacontrols.plan import Change, Facts, FieldChange, Severity

if TYPE_CHECKING:
    from datacontrols.adminapi import AdminApi
    from datacontrols.adminapi.projects import Project
    from datacontrols.desired.policy import Policy

__all__ = [
    "PROJECT_API_KEY",
    "KeyFacts",
    "KeyFinding",
    "ObservedKeys",
    "ProjectApiKeys",
    "describe_fixes",
    "key_findings",
]

PROJECT_API_KEY = "project_api_key"
DAY = 86_400
log = structlog.get_logger("datacontrols.kinds")


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyFacts(Facts):
    """The key a finding is about; a failed key deletion does not doom the project's other changes."""

    independent: ClassVar[bool] = True
    api_key_id: str
    expires_at: int | None = None  # an expiry fix: when the key is to expire (Unix seconds)
    spend_limit_cents: int | None = None  # a spend fix: the key's monthly cap (USD cents)
    scopes: tuple[str, ...] | None = None  # a scope fix: what the key may do from now on (never empty)


@dataclass(frozen=True)
class ObservedKeys:
    """The project's keys and the time they were read (Unix seconds); `scopes`: what the audit log says
    they may do (None: not read, as when no `allowed_scopes` rule asks)."""

    keys: tuple[ProjectApiKey, ...]
    # When, not what: not part of the value's equality, so a saved plan's digest of what was read
    # (datacontrols.planfile) does not change with the clock. A key that went stale since changes the plan.
    now: int = field(compare=False)
    scopes: KeyScopes | None = None


@dataclass(frozen=True)
class KeyFinding:
    """What is wrong with one key. `flagged`: prune may delete it; `severity`: the worst problem's;
    `breaks`: those of `problems` that break a rule given (not what is noted of the key's state: an owner
    without access, a cap reached, scopes the audit log does not show, a user-owned key under `report`)."""

    key: ProjectApiKey
    problems: tuple[str, ...]
    flagged: bool
    severity: Severity
    breaks: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """How a key is named anywhere a person reads: its redacted value and its id, nothing else."""
        return f"{self.key.redacted_value} ({self.key.id})"


def key_findings(
    keys: Iterable[ProjectApiKey], rules: KeyHygiene | None, now: int, scopes: KeyScopes | None = None
) -> list[KeyFinding]:
    """Pure: the findings for each key that has any, in the order given. Without rules, only inactive owners.
    `scopes` None: the keys' scopes were not read, so `allowed_scopes` says nothing."""
    findings = []
    for key in keys:
        said: list[tuple[str, bool]] = []  # (problem, whether it breaks a rule given)
        flagged = False
        severity: Severity = "normal"
        if rules is not None and rules.max_age_days is not None:
            age = (now - key.created_at) // DAY
            if age > rules.max_age_days:
                said.append(
                    (f"created {age} days ago ({_date(key.created_at)}; max_age_days: {rules.max_age_days})", True)
                )
                flagged = True
        if rules is not None and rules.max_idle_days is not None:
            since = key.last_used_at if key.last_used_at is not None else key.created_at
            idle = (now - since) // DAY
            if idle > rules.max_idle_days:
                used = f"last used {idle} days ago" if key.last_used_at is not None else f"never used in {idle} days"
                said.append((f"{used} (max_idle_days: {rules.max_idle_days})", True))
                flagged = True
        if rules is not None and (expiry := _expiry_problems(key, rules)):
            said += [(problem, True) for problem in expiry]
            flagged = True
        if rules is not None:
            said += [(problem, True) for problem in _spend_problems(key, rules)]
            wrong, breaks = scope_problems(key, rules, scopes)
            said += [(problem, breaks) for problem in wrong]
            if breaks:
                flagged, severity = True, "high"
        if _blocked(key):
            cap = _cap_cents(key)
            spent = f" of {format_usd(cap)}" if cap is not None else ""
            said.append(
                (f"has reached its spend limit{spent} this month: the API refuses its requests until then", False)
            )
            severity = "high"
        if key.owner_project_access == "inactive":
            said.append((f"its owner ({key.owner.describe()}) no longer has access to the project", False))
            flagged, severity = True, "high"
        if rules is not None and not key.owner.is_service_account and rules.user_keys != "allowed":
            if rules.user_keys == "forbidden":
                said.append((f"owned by {key.owner.describe()}; user_keys: forbidden", True))
                flagged, severity = True, "high"
            else:
                said.append((f"owned by {key.owner.describe()} (user_keys: report)", False))
        if said:
            problems = tuple(problem for problem, _ in said)
            breaks_rule = tuple(problem for problem, breaking in said if breaking)
            findings.append(KeyFinding(key, problems, flagged, severity, breaks_rule))
    return findings


def _expiry_problems(key: ProjectApiKey, rules: KeyHygiene) -> list[str]:
    """A key that never expires, or lives longer than `max_lifetime_days` (creation to expiry)."""
    if key.expires_at is None:
        if rules.max_lifetime_days is not None:
            return [f"never expires (max_lifetime_days: {rules.max_lifetime_days})"]
        return ["never expires (require_expiry)"] if rules.require_expiry else []
    lifetime = (key.expires_at - key.created_at) // DAY
    if rules.max_lifetime_days is not None and lifetime > rules.max_lifetime_days:
        return [f"lives {lifetime} days, to {_date(key.expires_at)} (max_lifetime_days: {rules.max_lifetime_days})"]
    return []


def _cap_cents(key: ProjectApiKey) -> int | None:
    """The key's monthly cap in cents (the SDK's `spend_limit.threshold_amount`); None: no cap."""
    amount = key.spend_limit.get("threshold_amount") if key.spend_limit is not None else None
    return amount if isinstance(amount, int) else None


def _blocked(key: ProjectApiKey) -> bool:
    """The SDK's `spend_limit.enforcement.status` is `enforcing`: requests with the key are refused now."""
    enforcement = key.spend_limit.get("enforcement") if key.spend_limit is not None else None
    return isinstance(enforcement, dict) and enforcement.get("status") == "enforcing"


def _spend_problems(key: ProjectApiKey, rules: KeyHygiene) -> list[str]:
    """No per-key cap (`require_spend_limit`, `max_spend_limit_usd`), or a cap above `max_spend_limit_usd`."""
    cap, most = _cap_cents(key), rules.max_spend_cents
    if key.spend_limit is None:
        if most is not None:
            return [f"has no spend limit (max_spend_limit_usd: {format_usd(most)})"]
        return ["has no spend limit (require_spend_limit)"] if rules.require_spend_limit else []
    if most is not None and cap is not None and cap > most:
        return [f"may spend {format_usd(cap)} a month (max_spend_limit_usd: {format_usd(most)})"]
    return []


class ProjectApiKeys(ProjectKind):
    name = PROJECT_API_KEY
    group = "keys"
    order = ORDER_KEYS
    audit_event_types = ("api_key.created", "api_key.updated", "api_key.deleted")
    exports = True

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock  # "now" for findings, and for the relative expiry an expiry fix sends

    def manages(self, project: DesiredProject) -> bool:
        return project.settings.keys is not None

    def count_items(self, value: Any) -> int:
        """For the safety thresholds: the keys inventoried."""
        return len(value.keys) if isinstance(value, ObservedKeys) else 0

    def export(self, observed: Any) -> dict[str, Any] | None:
        """`reconcile export`: keys are an inventory, not desired state; hygiene rules are a choice to write."""
        return None

    async def observe(self, api: AdminApi, project: Project) -> ObservedKeys:
        keys = await api.project_api_keys.list(project.id, owner_project_access="any")
        return ObservedKeys(keys=tuple(keys), now=int(self._clock()))

    async def observe_for(self, api: AdminApi, project: Project, desired: DesiredProject) -> ObservedKeys:
        """The keys, and their scopes from the audit log when `allowed_scopes` asks (one more listing)."""
        rules = desired.settings.keys
        return await self._read(api, project, with_scopes=rules is not None and rules.allowed_scopes is not None)

    async def observe_for_policy(self, api: AdminApi, project: Project, policy: Policy) -> ObservedKeys:
        """The keys, and their scopes when the policy's `keys.allowed_scopes` asks."""
        return await self._read(
            api, project, with_scopes=policy.keys is not None and policy.keys.allowed_scopes is not None
        )

    async def _read(self, api: AdminApi, project: Project, *, with_scopes: bool) -> ObservedKeys:
        found = await self.observe(api, project)
        if not with_scopes:
            return found
        return ObservedKeys(keys=found.keys, now=found.now, scopes=await read_scopes(api, found.keys))

    def compare(self, project: DesiredProject, observed: Any, world: World) -> list[Change]:
        rules = project.settings.keys
        if rules is None or observed is NOT_CREATED or not isinstance(observed, ObservedKeys):
            return []
        found = key_findings(observed.keys, rules, observed.now, observed.scopes)
        return [self._change(project, finding, rules, observed) for finding in found]

    def _change(self, project: DesiredProject, finding: KeyFinding, rules: KeyHygiene, seen: ObservedKeys) -> Change:
        found = "; ".join(finding.problems)
        facts = KeyFacts(api_key_id=finding.key.id)
        deletes = rules.prune == "delete" and finding.flagged and not finding.key.owner.is_service_account
        if not deletes:
            key, now = finding.key, seen.now
            expiry, spend = _expiry_fix(key, rules, now), _spend_fix(key, rules, now)
            scopes = scope_fix(key, rules, seen.scopes, now)
            cannot = " ".join(dict.fromkeys(fix for fix in (expiry, spend, scopes) if isinstance(fix, str)))
            narrowed = (scopes, held_scopes(seen.scopes, key)) if isinstance(scopes, tuple) else None
            if isinstance(expiry, int) or isinstance(spend, int) or narrowed is not None:
                fixed = (expiry if isinstance(expiry, int) else None, spend if isinstance(spend, int) else None)
                return self._update(project, finding, f"{found}. {cannot}" if cannot else found, *fixed, narrowed)
            if cannot:
                return self._report(project, finding, f"{found}. {cannot}", facts)
        if rules.prune == "delete" and finding.flagged:
            if finding.key.owner.is_service_account:
                reason = (
                    f"{found}. Not deleted: keys of a service account cannot be deleted one by one (the API refuses); "
                    "deleting the account revokes them (remove it from members.service_accounts in authoritative mode)"
                )
                return self._report(project, finding, reason, facts)
            return Change(
                action="delete",
                kind=self.name,
                project=project.name,
                subject=finding.label,
                reason=f"{found}; prune: delete",
                facts=facts,
                order=ORDER_KEYS,
                disrupts=f"requests with the key {finding.label} will be refused",
            )
        return self._report(project, finding, found, facts)

    def _report(self, project: DesiredProject, finding: KeyFinding, reason: str, facts: KeyFacts) -> Change:
        return Change(
            action="report",
            kind=self.name,
            project=project.name,
            subject=finding.label,
            severity=finding.severity,
            reason=reason,
            facts=facts,
            order=ORDER_KEYS,
        )

    def _update(
        self,
        project: DesiredProject,
        finding: KeyFinding,
        found: str,
        expires_at: int | None,
        cap: int | None,
        narrowed: tuple[tuple[str, ...], str] | None,
    ) -> Change:
        key = finding.key
        fields: dict[str, FieldChange] = {}
        fixes: list[str] = []
        stops: list[str] = []
        if expires_at is not None:
            fields["expires_at"] = FieldChange(_when(key.expires_at), _date(expires_at))
            fixes.append(f"fix: expiry sets it to expire on {_date(expires_at)} (its creation + max_lifetime_days)")
            stops.append(f"from {_date(expires_at)}")
        if cap is not None:
            current = _cap_cents(key)
            fields["spend_limit"] = FieldChange(
                f"{format_usd(current)} a month" if current is not None else "none", f"{format_usd(cap)} a month"
            )
            fixes.append(f"fix: spend_limit caps it at {format_usd(cap)} a month")
            stops.append(f"once it has spent {format_usd(cap)} in a month")
        scopes = narrowed[0] if narrowed is not None else None
        if narrowed is not None:
            fields["scopes"] = FieldChange(narrowed[1], shown_scopes(narrowed[0]))
            fixes.append(f"fix: scopes narrows it to {shown_scopes(narrowed[0])}")
            stops.append(f"for anything outside {shown_scopes(narrowed[0])}")
        return Change(
            action="update",
            kind=self.name,
            project=project.name,
            subject=finding.label,
            fields=fields,
            reason=f"{found}; {'; '.join(fixes)}",
            facts=KeyFacts(api_key_id=key.id, expires_at=expires_at, spend_limit_cents=cap, scopes=scopes),
            order=ORDER_KEYS,
            disrupts=f"requests with the key {finding.label} will be refused {' and '.join(stops)}",
        )

    async def apply(self, api: AdminApi, change: Change, project_id: str) -> None:
        facts = change.facts_as(KeyFacts)
        if change.action == "update" and (facts.expires_at, facts.spend_limit_cents, facts.scopes) != (None,) * 3:
            remaining = None
            if facts.expires_at is not None:
                # The API takes the expiry relative to the request; the plan fixed the date, so count to it now.
                remaining = facts.expires_at - int(self._clock())
                if remaining < 1:
                    raise ValueError(f"{change.subject} was to expire on {_date(facts.expires_at)}, which has passed")
            await api.project_api_keys.update(
                project_id,
                facts.api_key_id,
                expires_in_seconds=remaining,
                spend_limit_cents=facts.spend_limit_cents,
                scopes=facts.scopes,
            )
            return
        if change.action != "delete":
            raise ValueError(f"{self.name} changes of action {change.action!r} are not applied")
        if not await api.project_api_keys.delete(project_id, change.facts_as(KeyFacts).api_key_id):
            log.info("api_key_already_gone", project=change.project, subject=change.subject)


def _expiry_fix(key: ProjectApiKey, rules: KeyHygiene, now: int) -> int | str | None:
    """`fix: expiry`: when the key is to expire; a string when it cannot be fixed (why); None: nothing to fix."""
    if "expiry" not in rules.fixes or rules.max_lifetime_days is None or not _expiry_problems(key, rules):
        return None
    if key.expires_at is not None and key.expires_at <= now:
        return "Its expiry cannot be set: it has expired (the API refuses to update an expired key)"
    target = key.created_at + rules.max_lifetime_days * DAY
    if target <= now:
        return (
            f"Its expiry is not set: it is older than max_lifetime_days ({rules.max_lifetime_days}), so it would "
            "expire at once; rotate it"
        )
    return target


def _spend_fix(key: ProjectApiKey, rules: KeyHygiene, now: int) -> int | str | None:
    """`fix: spend_limit`: the key's new cap in cents; a string when it cannot be set (why); None: nothing."""
    most = rules.max_spend_cents
    if "spend_limit" not in rules.fixes or most is None or not _spend_problems(key, rules):
        return None
    if key.expires_at is not None and key.expires_at <= now:
        return "Its spend limit cannot be set: it has expired (the API refuses to update an expired key)"
    return most


def describe_fixes(
    key: ProjectApiKey, rules: KeyHygiene | None, now: int, scopes: KeyScopes | None = None
) -> str | None:
    """What `fix` does to this key, in words (for `reconcile explain`); None: nothing."""
    if rules is None:
        return None
    expiry, spend = _expiry_fix(key, rules, now), _spend_fix(key, rules, now)
    narrowed = scope_fix(key, rules, scopes, now)
    said = [
        expiry if isinstance(expiry, str) else None,
        f"fix: expiry sets it to expire on {_date(expiry)}" if isinstance(expiry, int) else None,
        spend if isinstance(spend, str) else None,
        f"fix: spend_limit caps it at {format_usd(spend)} a month" if isinstance(spend, int) else None,
        narrowed if isinstance(narrowed, str) else None,
        f"fix: scopes narrows it to {shown_scopes(narrowed)}" if isinstance(narrowed, tuple) else None,
    ]
    return "; ".join(dict.fromkeys(s for s in said if s)) or None


def _when(timestamp: int | None) -> str:
    return "never" if timestamp is None else _date(timestamp)


def _date(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).date().isoformat()
