"""Spend alerts (`spend_alert`): the organization's (`project` null in the plan) and each project's.

Alerts have no name, only an id the API gives them, so they are matched by threshold within their scope.
When `spend_alerts` is declared, the list is authoritative for its scope: a desired alert without a live one
at its threshold is created, a live one with other recipients (compared as a set, case-insensitively) or
another managed subject prefix is updated in one change (the API replaces an alert whole), and a live alert
at a threshold the file does not list is deleted. Each change's `subject` is the threshold (`"250.00 USD"`).

Severity: a new alert is `low`; an update only adding recipients is `low`, any other update `medium`;
deleting an alert (spend at that level goes unreported) is `high`. A project alert above the project's hard
limit can only come from `project_defaults` (within one file it is refused at load time); it is reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from datacontrols.adminapi.spend import CURRENCY, INTERVAL, SpendAlert
from datacontrols.desired.limits import SpendAlert as DesiredAlert
from datacontrols.desired.limits import SpendLimit as DesiredSpendLimit
from datacontrols.desired.limits import format_usd, from_cents
from datacontrols.desired.schema import DesiredState
from datacontrols.kinds.base import NOT_CREATED, DesiredProject, NotExportable, OrganizationKind, ProjectKind, World
from datacontrols.kinds.organization_retention import Unreadable
from datacontrols.kinds.spend_limit import read_safely
from datacontrols.plan import Change, Facts, FieldChange, required

if TYPE_CHECKING:
    from datacontrols.adminapi import AdminApi
    from datacontrols.adminapi.one_writer import Claim
    from datacontrols.adminapi.projects import Project

__all__ = ["KIND", "AlertFacts", "OrganizationSpendAlerts", "ProjectSpendAlerts", "compare_spend_alerts"]

KIND = "spend_alert"
ORDER = 18


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertFacts(Facts):
    """A spend alert change: the live alert (None on a create) and, on a create or update, the whole alert
    to send (the API replaces an alert whole)."""

    alert_id: str | None = None
    threshold_amount: int | None = None  # cents
    recipients: tuple[str, ...] = ()
    subject_prefix: str | None = None


def compare_spend_alerts(project: str | None, want: list[DesiredAlert] | None, observed: Any) -> list[Change]:
    """Pure: the changes that make the observed alerts (a list, NOT_CREATED or `Unreadable`) of one scope
    (`project` None: the organization) equal to `want`."""
    if want is None:
        return []
    if isinstance(observed, Unreadable):
        return [
            Change(action="report", kind=KIND, order=ORDER, project=project, severity="high", reason=observed.reason)
        ]
    live: list[SpendAlert] = [] if observed is NOT_CREATED else list(observed)
    by_threshold: dict[int, list[SpendAlert]] = {}
    for alert in live:
        by_threshold.setdefault(alert.threshold_amount, []).append(alert)

    changes: list[Change] = []
    for desired in sorted(want, key=lambda a: a.cents):
        candidates = by_threshold.pop(desired.cents, [])
        # Of several live alerts at one threshold keep the one already right, if any; the others go.
        match = next((a for a in candidates if not _differences(a, desired)), candidates[0] if candidates else None)
        if match is None:
            new = observed is NOT_CREATED
            changes.append(_create(project, desired, "set on the new project" if new else "no alert at this threshold"))
        else:
            fields = _differences(match, desired)
            if fields:
                changes.append(_update(project, match, desired, fields))
        changes += [
            _delete(project, extra, f"a second alert at {format_usd(extra.threshold_amount)}")
            for extra in candidates
            if extra is not match
        ]
    for leftovers in by_threshold.values():
        changes += [_delete(project, alert, "not in the desired state") for alert in leftovers]
    return changes


def _recipient_set(recipients: list[str]) -> set[str]:
    return {address.casefold() for address in recipients}


def _differences(live: SpendAlert, desired: DesiredAlert) -> dict[str, FieldChange]:
    fields: dict[str, FieldChange] = {}
    channel = live.notification_channel
    if _recipient_set(channel.recipients) != _recipient_set(desired.recipients):
        fields["recipients"] = FieldChange(sorted(channel.recipients), sorted(desired.recipients))
    if desired.manages_subject_prefix and channel.subject_prefix != desired.subject_prefix:
        fields["subject_prefix"] = FieldChange(channel.subject_prefix, desired.subject_prefix)
    for name, value in (("currency", CURRENCY), ("interval", INTERVAL)):
        if getattr(live, name) != value:
            fields[name] = FieldChange(getattr(live, name), value)
    return fields


def _create(project: str | None, desired: DesiredAlert, reason: str) -> Change:
    fields = {
        "threshold_amount": FieldChange(None, format_usd(desired.cents)),
        "recipients": FieldChange(None, sorted(desired.recipients)),
    }
    if desired.subject_prefix is not None:
        fields["subject_prefix"] = FieldChange(None, desired.subject_prefix)
    return Change(
        action="create",
        kind=KIND,
        project=project,
        subject=format_usd(desired.cents),
        fields=fields,
        reason=reason,
        order=ORDER,
        facts=AlertFacts(
            threshold_amount=desired.cents,
            recipients=tuple(desired.recipients),
            subject_prefix=desired.subject_prefix,
        ),
    )


def _update(project: str | None, live: SpendAlert, desired: DesiredAlert, fields: dict[str, FieldChange]) -> Change:
    removed = _recipient_set(live.notification_channel.recipients) - _recipient_set(desired.recipients)
    only_added = set(fields) == {"recipients"} and not removed
    reason = "adds recipients" if only_added else "changes who is notified, or how"
    # The API replaces an alert whole: an unmanaged subject prefix is sent back as it is.
    prefix = desired.subject_prefix if desired.manages_subject_prefix else live.notification_channel.subject_prefix
    return Change(
        action="update",
        kind=KIND,
        project=project,
        subject=format_usd(desired.cents),
        fields=fields,
        reason=reason,
        order=ORDER,
        facts=AlertFacts(
            alert_id=live.id,
            threshold_amount=desired.cents,
            recipients=tuple(desired.recipients),
            subject_prefix=prefix,
        ),
    )


def _delete(project: str | None, live: SpendAlert, reason: str) -> Change:
    amount = format_usd(live.threshold_amount)
    return Change(
        action="delete",
        kind=KIND,
        project=project,
        subject=amount,
        fields={
            "threshold_amount": FieldChange(amount, None),
            "recipients": FieldChange(sorted(live.notification_channel.recipients), None),
        },
        reason=f"{reason}: spend reaching {amount} would no longer be reported",
        order=ORDER,
        facts=AlertFacts(alert_id=live.id),
    )


async def _apply(api: AdminApi, change: Change, project_id: str | None) -> Claim[SpendAlert] | None:
    facts = change.facts_as(AlertFacts)
    if change.action == "delete":
        await api.spend.delete_alert(required(facts.alert_id, "alert id"), project_id=project_id)
        return None
    amount = required(facts.threshold_amount, "threshold amount")
    if change.action == "create":  # checked before and after: two runs racing leave one alert
        return await api.spend.create_alert_once(
            amount, list(facts.recipients), subject_prefix=facts.subject_prefix, project_id=project_id
        )
    await api.spend.update_alert(
        required(facts.alert_id, "alert id"),
        amount,
        list(facts.recipients),
        subject_prefix=facts.subject_prefix,
        project_id=project_id,
    )
    return None


def export_spend_alerts(observed: Any) -> dict[str, Any] | None:
    """`spend_alerts: [...]` for the live alerts (their subject prefix when set); nothing when there are none."""
    if isinstance(observed, Unreadable):
        raise NotExportable(f"they could not be read: {observed.reason}")
    alerts = [a for a in observed or () if isinstance(a, SpendAlert)]
    if not alerts:
        return None
    thresholds = [a.threshold_amount for a in alerts]
    if len(set(thresholds)) != len(thresholds):
        raise NotExportable("two alerts share a threshold, and the files match alerts by threshold")
    exported = []
    for alert in sorted(alerts, key=lambda a: a.threshold_amount):
        if (alert.currency, alert.interval) != (CURRENCY, INTERVAL):
            raise NotExportable(f"an alert is in {alert.currency} a {alert.interval}; the files hold USD a month")
        entry: dict[str, Any] = {
            "threshold_usd": from_cents(alert.threshold_amount),
            "recipients": sorted(alert.notification_channel.recipients),
        }
        if alert.notification_channel.subject_prefix is not None:
            entry["subject_prefix"] = alert.notification_channel.subject_prefix
        exported.append(entry)
    return {"spend_alerts": exported}


class OrganizationSpendAlerts(OrganizationKind):
    name = KIND
    group = "limits"
    order = ORDER
    audit_event_types = ()
    exports = True

    def manages(self, desired: DesiredState) -> bool:
        return desired.organization.organization.spend_alerts is not None

    async def observe(self, api: AdminApi) -> list[SpendAlert] | Unreadable:
        return await read_safely(api.spend.list_alerts(), "the organization's spend alerts")

    def compare(self, desired: DesiredState, observed: Any, world: World) -> list[Change]:
        return compare_spend_alerts(None, desired.organization.organization.spend_alerts, observed)

    async def apply(self, api: AdminApi, change: Change) -> Claim[SpendAlert] | None:
        return await _apply(api, change, None)

    def export(self, observed: Any) -> dict[str, Any] | None:
        return export_spend_alerts(observed)


class ProjectSpendAlerts(ProjectKind):
    name = KIND
    group = "limits"
    order = ORDER
    audit_event_types = ()
    exports = True

    def manages(self, project: DesiredProject) -> bool:
        return project.settings.spend_alerts is not None

    async def observe(self, api: AdminApi, project: Project) -> list[SpendAlert]:
        return await api.spend.list_alerts(project_id=project.id)

    def compare(self, project: DesiredProject, observed: Any, world: World) -> list[Change]:
        want = project.settings.spend_alerts
        changes = compare_spend_alerts(project.name, want, observed)
        limit = project.settings.spend_limit
        if want and isinstance(limit, DesiredSpendLimit):
            changes += [
                Change(
                    action="report",
                    kind=KIND,
                    project=project.name,
                    subject=format_usd(alert.cents),
                    severity="normal",
                    reason=(
                        f"the alert at {format_usd(alert.cents)} is above the project's hard spend limit "
                        f"{format_usd(limit.cents)} and can never fire"
                    ),
                    order=ORDER,
                )
                for alert in want
                if alert.cents > limit.cents
            ]
        return changes

    async def apply(self, api: AdminApi, change: Change, project_id: str) -> Claim[SpendAlert] | None:
        return await _apply(api, change, project_id)

    def export(self, observed: Any) -> dict[str, Any] | None:
        return export_spend_alerts(observed)
