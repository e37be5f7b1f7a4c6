"""The organization's admin API keys (`organization: admin_keys:` rules): an inventory with findings, report only.

All admin keys are read in one listing (`GET /organization/admin_api_keys`), only when the rules are declared.
A key is checked against the rules:

    max_age_days     created more than N days ago                                      normal
    max_idle_days    not used for N days (`last_used_at`; never used: since creation)  normal
    require_expiry   never expires (`expires_at` null, in the spec)                    normal
    owners           owned by someone not listed (by owner id or name: the list's       high
                     owner object has no email)

Each key with findings is one `report`, its subject the key's redacted value and id; nothing else of a key is
shown, and the API never returns more. The key this tool is running with is named as such in its finding
(matched by `Transport.admin_key_matches`, which answers yes or no and never hands out the key), so a person
knows that rotating it means updating the tool's credential first.

Never deleted, never changed: the tool authenticates with an admin key, and deleting one (perhaps its own)
would stop every later run, and whatever else uses it, with no way back through this tool. `apply` refuses.
No audit event types are declared: the spec records admin keys only as `tenant.admin_api_key.*`, which are
returned only with `tenant_only=true` and cannot share a query with the other kinds' types; nothing here is
applied, so there is no drift to attribute.

"now" is taken from the kind's clock when the keys are read and kept in the observed value (as for project
keys), so `compare` stays pure.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from datacontrols.adminapi.api_keys import AdminApiKey
from datacontrols.desired.admin_keys import AdminKeyRules
from datacontrols.desired.schema import DesiredState
from datacontrols.kinds.base import OrganizationKind, World
from datacontrols.kinds.membership import ORDER_KEYS
from datacontrols.plan import Change, Facts, Severity

if TYPE_CHECKING:
    from datacontrols.adminapi import AdminApi

__all__ = ["ADMIN_KEY_KIND", "AdminKeyFacts", "AdminKeyFinding", "ObservedAdminKeys", "OrganizationAdminKeys"]

ADMIN_KEY_KIND = "organization_admin_api_key"
DAY = 86_400
REPORT_ONLY = "report only: admin keys are never deleted or changed here, since the tool runs on one"


@dataclass(frozen=True, slots=True, kw_only=True)
class AdminKeyFacts(Facts):
    independent: ClassVar[bool] = True
    admin_key_id: str


@dataclass(frozen=True)
class ObservedAdminKeys:
    """The organization's admin keys, which of them is the one in use, and when they were read."""

    keys: tuple[AdminApiKey, ...]
    in_use: frozenset[str] = frozenset()  # ids of the keys whose redacted form fits the key in use
    now: int = field(default=0, compare=False)  # when, not what (see kinds/api_keys.py)


@dataclass(frozen=True)
class AdminKeyFinding:
    key: AdminApiKey
    problems: tuple[str, ...]
    severity: Severity
    in_use: bool

    @property
    def label(self) -> str:
        return f"{self.key.redacted_value} ({self.key.id})"


def admin_key_findings(
    keys: Iterable[AdminApiKey], rules: AdminKeyRules, now: int, in_use: frozenset[str] = frozenset()
) -> list[AdminKeyFinding]:
    """Pure: the findings for each admin key that has any, in the order given."""
    findings = []
    for key in keys:
        problems: list[str] = []
        severity: Severity = "normal"
        if rules.max_age_days is not None and (age := (now - key.created_at) // DAY) > rules.max_age_days:
            problems.append(f"created {age} days ago ({_date(key.created_at)}; max_age_days: {rules.max_age_days})")
        if rules.max_idle_days is not None:
            idle = (now - (key.last_used_at if key.last_used_at is not None else key.created_at)) // DAY
            if idle > rules.max_idle_days:
                used = f"last used {idle} days ago" if key.last_used_at is not None else f"never used in {idle} days"
                problems.append(f"{used} (max_idle_days: {rules.max_idle_days})")
        if rules.require_expiry and key.expires_at is None:
            problems.append("never expires (require_expiry)")
        if rules.owners is not None and not _allowed(key, rules.owners):
            problems.append(f"owned by {_owner(key)}, who is not in admin_keys.owners")
            severity = "high"
        if problems:
            findings.append(AdminKeyFinding(key, tuple(problems), severity, key.id in in_use))
    return findings


def _allowed(key: AdminApiKey, owners: list[str]) -> bool:
    return any(value is not None and value in owners for value in (key.owner.id, key.owner.name))


def _owner(key: AdminApiKey) -> str:
    kind = "service account" if key.owner.type == "service_account" else "user"
    if key.owner.name and key.owner.id:
        return f"{kind} {key.owner.name} ({key.owner.id})"
    return f"{kind} {key.owner.name or key.owner.id or '(unknown)'}"


class OrganizationAdminKeys(OrganizationKind):
    name = ADMIN_KEY_KIND
    group = "keys"
    order = ORDER_KEYS
    audit_event_types = ()  # tenant.admin_api_key.* need tenant_only=true; see the module docstring
    exports = True

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock

    def manages(self, desired: DesiredState) -> bool:
        return desired.organization.organization.admin_keys is not None

    def export(self, observed: Any) -> dict[str, Any] | None:
        """`reconcile export`: an inventory, not desired state; rules are a choice to write."""
        return None

    def count_items(self, value: Any) -> int:
        return len(value.keys) if isinstance(value, ObservedAdminKeys) else 0

    async def observe(self, api: AdminApi) -> ObservedAdminKeys:
        keys = tuple(await api.admin_api_keys.list())
        in_use = frozenset(k.id for k in keys if api.transport.admin_key_matches(k.redacted_value))
        return ObservedAdminKeys(keys=keys, in_use=in_use, now=int(self._clock()))

    def compare(self, desired: DesiredState, observed: Any, world: World) -> list[Change]:
        rules = desired.organization.organization.admin_keys
        if rules is None or not isinstance(observed, ObservedAdminKeys):
            return []
        return [self._report(f) for f in admin_key_findings(observed.keys, rules, observed.now, observed.in_use)]

    def _report(self, finding: AdminKeyFinding) -> Change:
        own = "This is the admin key this tool runs with: give the tool a new key before revoking it. " * finding.in_use
        return Change(
            action="report",
            kind=self.name,
            order=self.order,
            project=None,
            subject=finding.label,
            severity=finding.severity,
            reason=f"{'; '.join(finding.problems)}. {own}({REPORT_ONLY})",
            facts=AdminKeyFacts(admin_key_id=finding.key.id),
        )

    async def apply(self, api: AdminApi, change: Change) -> None:
        raise ValueError(f"{self.name} is report only: {REPORT_ONLY}")


def _date(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).date().isoformat()
