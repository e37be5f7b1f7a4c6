"""A project's API keys (`keys:` hygiene rules): an inventory with findings, and optional pruning.

Every key of the project is listed with `owner_project_access=any` (the default visibility hides some). A key
is checked against the rules:

    max_age_days    created more than N days ago                                      flagged
    max_idle_days   not used for N days (`last_used_at`; never used: since creation)  flagged
    require_expiry  never expires (`expires_at` null, the SDK's field)                flagged
    max_lifetime_days  expires more than N days after creation, or never               flagged
    require_spend_limit  no per-key spend cap (`spend_limit` null, the SDK's field)    noted, not flagged
    (always)        its owner no longer has access to the project (`inactive`)        flagged, high
    user_keys       owned by a user: `report` notes it; `forbidden` flags it (high)

With `fix: expiry` a key that never expires or lives longer than `max_lifetime_days` is an `update`: its
expiry is set to its creation + `max_lifetime_days` through the SDK's key update (SDK-NEWER.md section 4;
the pinned spec lacks it), which covers service accounts' keys too. A key already older than that would
expire at once, so it stays a `report` that says to rotate it; so does an expired key, which the API
refuses to update. The default is `report`: a shorter life can stop a workload that still uses the key.
`prune: delete` comes first: a key it deletes is not updated.

Scopes are not checked: the SDK's update sets them, but list and retrieve do not return them, so there is
nothing to compare. A missing `spend_limit` is only noted: no cap is no reason to delete a key, and this tool
does not choose an amount for one.

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
from datacontrols.desired.members import KeyHygiene
from datacontrols.kinds.base import NOT_CREATED, DesiredProject, ProjectKind, World
from datacontrols.kinds.membership import ORDER_KEYS
from datacontrols.plan import Change, Facts, FieldChange, Severity

if TYPE_CHECKING:
    from datacontrols.adminapi import AdminApi
    from datacontrols.adminapi.projects import Project

__all__ = [
    "PROJECT_API_KEY",
    "KeyFacts",
    "KeyFinding",
    "ObservedKeys",
    "ProjectApiKeys",
    "describe_expiry_fix",
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


@dataclass(frozen=True)
class ObservedKeys:
    """The project's keys and the time they were read (Unix seconds)."""

    keys: tuple[ProjectApiKey, ...]
    # When, not what: not part of the value's equality, so a saved plan's digest of what was read
    # (datacontrols.planfile) does not change with the clock. A key that went stale since changes the plan.
    now: int = field(compare=False)


@dataclass(frozen=True)
class KeyFinding:
    """What is wrong with one key. `flagged`: prune may delete it; `severity`: the worst problem's."""

    key: ProjectApiKey
    problems: tuple[str, ...]
    flagged: bool
    severity: Severity

    @property
    def label(self) -> str:
        """How a key is named anywhere a person reads: its redacted value and its id, nothing else."""
        return f"{self.key.redacted_value} ({self.key.id})"


def key_findings(keys: Iterable[ProjectApiKey], rules: KeyHygiene | None, now: int) -> list[KeyFinding]:
    """Pure: the findings for each key that has any, in the order given. Without rules, only inactive owners."""
    findings = []
    for key in keys:
        problems: list[str] = []
        flagged = False
        severity: Severity = "normal"
        if rules is not None and rules.max_age_days is not None:
            age = (now - key.created_at) // DAY
            if age > rules.max_age_days:
                problems.append(f"created {age} days ago ({_date(key.created_at)}; max_age_days: {rules.max_age_days})")
                flagged = True
        if rules is not None and rules.max_idle_days is not None:
            since = key.last_used_at if key.last_used_at is not None else key.created_at
            idle = (now - since) // DAY
            if idle > rules.max_idle_days:
                used = f"last used {idle} days ago" if key.last_used_at is not None else f"never used in {idle} days"
                problems.append(f"{used} (max_idle_days: {rules.max_idle_days})")
                flagged = True
        if rules is not None and (expiry := _expiry_problems(key, rules)):
            problems += expiry
            flagged = True
        if rules is not None and rules.require_spend_limit and key.spend_limit is None:
            problems.append("has no spend limit (require_spend_limit)")
        if key.owner_project_access == "inactive":
            problems.append(f"its owner ({key.owner.describe()}) no longer has access to the project")
            flagged, severity = True, "high"
        if rules is not None and not key.owner.is_service_account and rules.user_keys != "allowed":
            if rules.user_keys == "forbidden":
                problems.append(f"owned by {key.owner.describe()}; user_keys: forbidden")
                flagged, severity = True, "high"
            else:
                problems.append(f"owned by {key.owner.describe()} (user_keys: report)")
        if problems:
            findings.append(KeyFinding(key, tuple(problems), flagged, severity))
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

    def compare(self, project: DesiredProject, observed: Any, world: World) -> list[Change]:
        rules = project.settings.keys
        if rules is None or observed is NOT_CREATED or not isinstance(observed, ObservedKeys):
            return []
        found = key_findings(observed.keys, rules, observed.now)
        return [self._change(project, finding, rules, observed.now) for finding in found]

    def _change(self, project: DesiredProject, finding: KeyFinding, rules: KeyHygiene, now: int) -> Change:
        found = "; ".join(finding.problems)
        facts = KeyFacts(api_key_id=finding.key.id)
        deletes = rules.prune == "delete" and finding.flagged and not finding.key.owner.is_service_account
        if not deletes and (fix := _expiry_fix(finding.key, rules, now)) is not None:
            if isinstance(fix, str):
                return self._report(project, finding, f"{found}. {fix}", facts)
            return self._expiry_update(project, finding, found, fix)
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

    def _expiry_update(self, project: DesiredProject, finding: KeyFinding, found: str, expires_at: int) -> Change:
        key = finding.key
        return Change(
            action="update",
            kind=self.name,
            project=project.name,
            subject=finding.label,
            fields={"expires_at": FieldChange(_when(key.expires_at), _date(expires_at))},
            reason=f"{found}; fix: expiry sets it to expire on {_date(expires_at)} (its creation + max_lifetime_days)",
            facts=KeyFacts(api_key_id=key.id, expires_at=expires_at),
            order=ORDER_KEYS,
            disrupts=f"requests with the key {finding.label} will be refused from {_date(expires_at)}",
        )

    async def apply(self, api: AdminApi, change: Change, project_id: str) -> None:
        facts = change.facts_as(KeyFacts)
        if change.action == "update" and facts.expires_at is not None:
            # The API takes the expiry relative to the request; the plan fixed the date, so count to it now.
            remaining = facts.expires_at - int(self._clock())
            if remaining < 1:
                raise ValueError(f"{change.subject} was to expire on {_date(facts.expires_at)}, which has passed")
            await api.project_api_keys.set_expiry(project_id, facts.api_key_id, remaining)
            return
        if change.action != "delete":
            raise ValueError(f"{self.name} changes of action {change.action!r} are not applied")
        if not await api.project_api_keys.delete(project_id, change.facts_as(KeyFacts).api_key_id):
            log.info("api_key_already_gone", project=change.project, subject=change.subject)


def _expiry_fix(key: ProjectApiKey, rules: KeyHygiene, now: int) -> int | str | None:
    """`fix: expiry`: when the key is to expire; a string when it cannot be fixed (why); None: nothing to fix."""
    if rules.fix != "expiry" or rules.max_lifetime_days is None or not _expiry_problems(key, rules):
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


def describe_expiry_fix(key: ProjectApiKey, rules: KeyHygiene | None, now: int) -> str | None:
    """What `fix: expiry` does to this key, in words (for `reconcile explain`); None: nothing."""
    fix = _expiry_fix(key, rules, now) if rules is not None else None
    if fix is None or isinstance(fix, str):
        return fix
    return f"fix: expiry sets it to expire on {_date(fix)}"


def _when(timestamp: int | None) -> str:
    return "never" if timestamp is None else _date(timestamp)


def _date(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).date().isoformat()
