"""Hard spend limits and spend alerts, for the organization and for each project.

Every method takes `project_id=None` for the organization's own limit or alerts, or a project id.

- Spend limit (`.../spend_limit`): one per scope. POST creates or replaces it (the whole body each time),
  DELETE removes it. A GET when none is set is undocumented; the API is expected to answer 404, which
  `get_limit` turns into None. `enforcement` is read-only state, never something to set.
- Spend alerts (`.../spend_alerts`): many per scope, each with an opaque id. The same body creates and
  updates, so an update replaces the alert whole. Style-A list pagination. Alerts have no name: one with the
  same threshold and channel is the same alert, which `create_alert_once` checks for before and after the
  POST, so two runs racing leave one (`one_writer`; alerts carry no `created_at`, the first listed is kept).

Amounts are integers in cents; the currency is always USD and the interval always a month (the only values
the spec allows in requests). Responses read them as open strings, as the spec says.
"""

from __future__ import annotations

from typing import Any, Final

from datacontrols.adminapi.base import ApiModel, Family, parse
from datacontrols.adminapi.one_writer import Claim, create_once, first_listed
from datacontrols.adminapi.transport import Route, route

__all__ = [
    "CURRENCY",
    "INTERVAL",
    "NotificationChannel",
    "Spend",
    "SpendAlert",
    "SpendLimit",
    "SpendLimitEnforcement",
]

CURRENCY: Final = "USD"
INTERVAL: Final = "month"

ORG_LIMIT = "/organization/spend_limit"
PROJECT_LIMIT = "/organization/projects/{project_id}/spend_limit"
ORG_ALERTS = "/organization/spend_alerts"
ORG_ALERT = "/organization/spend_alerts/{alert_id}"
PROJECT_ALERTS = "/organization/projects/{project_id}/spend_alerts"
PROJECT_ALERT = "/organization/projects/{project_id}/spend_alerts/{alert_id}"


class SpendLimitEnforcement(ApiModel):
    status: str  # inactive | enforcing, and values the API may add


class SpendLimit(ApiModel):
    object: str = "project.spend_limit"
    threshold_amount: int  # cents
    currency: str = CURRENCY
    interval: str = INTERVAL
    enforcement: SpendLimitEnforcement | None = None


class NotificationChannel(ApiModel):
    type: str = "email"
    recipients: list[str]
    subject_prefix: str | None = None


class SpendAlert(ApiModel):
    id: str
    object: str = "project.spend_alert"
    threshold_amount: int  # cents
    currency: str = CURRENCY
    interval: str = INTERVAL
    notification_channel: NotificationChannel


def _limit_route(project_id: str | None) -> Route:
    return route(ORG_LIMIT) if project_id is None else route(PROJECT_LIMIT, project_id=project_id)


def _alerts_route(project_id: str | None) -> Route:
    return route(ORG_ALERTS) if project_id is None else route(PROJECT_ALERTS, project_id=project_id)


def _alert_route(alert_id: str, project_id: str | None) -> Route:
    if project_id is None:
        return route(ORG_ALERT, alert_id=alert_id)
    return route(PROJECT_ALERT, project_id=project_id, alert_id=alert_id)


def _alert_body(threshold_amount: int, recipients: list[str], subject_prefix: str | None) -> dict[str, Any]:
    return {
        "threshold_amount": threshold_amount,
        "currency": CURRENCY,
        "interval": INTERVAL,
        "notification_channel": {"type": "email", "recipients": list(recipients), "subject_prefix": subject_prefix},
    }


def _alert_is(alert: SpendAlert, threshold_amount: int, recipients: list[str], subject_prefix: str | None) -> bool:
    channel = alert.notification_channel
    return (
        alert.threshold_amount == threshold_amount
        and sorted(channel.recipients) == sorted(recipients)
        and channel.subject_prefix == subject_prefix
    )


class Spend(Family):
    # --- hard spend limit ------------------------------------------------------------------------------

    async def get_limit(self, *, project_id: str | None = None) -> SpendLimit | None:
        """The hard limit of the organization (no project id) or of a project; None when none is set."""
        return await self._get_or_none(SpendLimit, _limit_route(project_id))

    async def set_limit(self, threshold_amount: int, *, project_id: str | None = None) -> SpendLimit:
        """Create or replace the hard limit: `threshold_amount` cents a month."""

        async def recheck() -> SpendLimit | None:
            observed = await self.get_limit(project_id=project_id)
            return observed if observed is not None and observed.threshold_amount == threshold_amount else None

        where = _limit_route(project_id)
        body = {"threshold_amount": threshold_amount, "currency": CURRENCY, "interval": INTERVAL}
        return parse(SpendLimit, await self._t.write("POST", where, body=body, recheck=recheck), where)

    async def delete_limit(self, *, project_id: str | None = None) -> None:
        """Remove the hard limit. Already absent counts as done."""
        await self._delete(_limit_route(project_id), lambda: self.get_limit(project_id=project_id))

    # --- spend alerts ----------------------------------------------------------------------------------

    async def list_alerts(self, *, project_id: str | None = None) -> list[SpendAlert]:
        where = _alerts_route(project_id)
        return [parse(SpendAlert, alert, where) async for alert in self._t.paginate(where)]

    async def get_alert(self, alert_id: str, *, project_id: str | None = None) -> SpendAlert | None:
        """One alert; None when it does not exist."""
        return await self._get_or_none(SpendAlert, _alert_route(alert_id, project_id))

    async def create_alert(
        self,
        threshold_amount: int,
        recipients: list[str],
        *,
        subject_prefix: str | None = None,
        project_id: str | None = None,
    ) -> SpendAlert:
        """A new alert at `threshold_amount` cents a month, by email to `recipients`."""

        async def recheck() -> SpendAlert | None:
            # Alerts have no natural key; one with exactly this threshold and channel is taken as ours (the
            # planner creates an alert only where none at its threshold was seen).
            matches = await self.alerts_like(threshold_amount, recipients, subject_prefix, project_id=project_id)
            return matches[0] if matches else None

        where = _alerts_route(project_id)
        body = _alert_body(threshold_amount, recipients, subject_prefix)
        return parse(SpendAlert, await self._t.write("POST", where, body=body, recheck=recheck), where)

    async def alerts_like(
        self, threshold_amount: int, recipients: list[str], subject_prefix: str | None, *, project_id: str | None
    ) -> list[SpendAlert]:
        """The alerts with exactly this threshold and channel, in the API's order."""
        alerts = await self.list_alerts(project_id=project_id)
        return [alert for alert in alerts if _alert_is(alert, threshold_amount, recipients, subject_prefix)]

    async def create_alert_once(
        self,
        threshold_amount: int,
        recipients: list[str],
        *,
        subject_prefix: str | None = None,
        project_id: str | None = None,
    ) -> Claim[SpendAlert]:
        """Create the alert unless one with this threshold and channel exists; of racing duplicates the first
        listed is kept and this run deletes its own. See `one_writer`."""

        async def discard(alert: SpendAlert) -> None:
            await self.delete_alert(alert.id, project_id=project_id)

        return await create_once(
            find=lambda: self.alerts_like(threshold_amount, recipients, subject_prefix, project_id=project_id),
            create=lambda: self.create_alert(
                threshold_amount, recipients, subject_prefix=subject_prefix, project_id=project_id
            ),
            discard=discard,
            settle=None,
            keep=first_listed,
        )

    async def update_alert(
        self,
        alert_id: str,
        threshold_amount: int,
        recipients: list[str],
        *,
        subject_prefix: str | None = None,
        project_id: str | None = None,
    ) -> SpendAlert:
        """Replace the alert whole: every field is sent, `subject_prefix=None` included (no prefix)."""

        async def recheck() -> SpendAlert | None:
            observed = await self.get_alert(alert_id, project_id=project_id)
            done = observed is not None and _alert_is(observed, threshold_amount, recipients, subject_prefix)
            return observed if done else None

        where = _alert_route(alert_id, project_id)
        body = _alert_body(threshold_amount, recipients, subject_prefix)
        return parse(SpendAlert, await self._t.write("POST", where, body=body, recheck=recheck), where)

    async def delete_alert(self, alert_id: str, *, project_id: str | None = None) -> None:
        """Delete the alert. Already absent counts as done."""
        await self._delete(_alert_route(alert_id, project_id), lambda: self.get_alert(alert_id, project_id=project_id))
