"""Hard spend limits and spend alerts, for the organization and for each project.

- Spend limit: GET answers the limit, or 404 `not_found` when none is set (the spec leaves that case
  undocumented; 404 is what REFERENCE.md section 17 expects). POST creates or replaces it and needs the whole
  body (`threshold_amount` >= 1 cent, `currency: USD`, `interval: month`); DELETE removes it, or answers 404
  when there is none. `enforcement.status` is `inactive`: the emulator serves no traffic, so spend is 0.
- Spend alerts: list (style A, `limit` 0..100 default 20, `order` asc|desc by creation, `after`/`before`),
  create, get, update (the same body as create: a full replace) and delete. `threshold_amount` >= 0 (the
  spec's `minimum: 0`); `recipients` may be empty and alerts may share a threshold, as the spec forbids
  neither. An integer field accepts `83.0` (`routing.WholeNumber`).
- Writes to an archived project are refused (400). The spec has no audit event type for spend limits or
  alerts, so none is recorded.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from datacontrols.emulator.errors import ApiFailure
from datacontrols.emulator.paging import in_order, style_a_page
from datacontrols.emulator.routing import ApiRoute, Call, WholeNumber
from datacontrols.emulator.state import OrganizationRecord, ProjectRecord, SpendAlertRecord

__all__ = ["ROUTES"]

ORG_LIMIT = "/organization/spend_limit"
PROJECT_LIMIT = "/organization/projects/{project_id}/spend_limit"
ORG_ALERTS = "/organization/spend_alerts"
ORG_ALERT = "/organization/spend_alerts/{alert_id}"
PROJECT_ALERTS = "/organization/projects/{project_id}/spend_alerts"
PROJECT_ALERT = "/organization/projects/{project_id}/spend_alerts/{alert_id}"

Owner = OrganizationRecord | ProjectRecord


class _LimitBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    threshold_amount: WholeNumber
    currency: Literal["USD"]
    interval: Literal["month"]


class _Channel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    type: Literal["email"]
    recipients: list[str]
    subject_prefix: str | None = None


class _AlertBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    threshold_amount: WholeNumber
    currency: Literal["USD"]
    interval: Literal["month"]
    notification_channel: _Channel


def _scope(call: Call, *, write: bool = False) -> tuple[Owner, str]:
    """The organization or the project the path names, and the `object` prefix of its answers."""
    if "project_id" not in call.params:
        return call.state.organization, "organization"
    return (call.writable_project() if write else call.project()), "project"


def _where(owner: Owner) -> str:
    return f"project '{owner.id}'" if isinstance(owner, ProjectRecord) else "the organization"


# --- hard spend limit ----------------------------------------------------------------------------------


def _limit_object(cents: int, prefix: str) -> dict[str, Any]:
    return {
        "object": f"{prefix}.spend_limit",
        "threshold_amount": cents,
        "currency": "USD",
        "interval": "month",
        "enforcement": {"status": "inactive"},
    }


def get_limit(call: Call) -> dict[str, Any]:
    owner, prefix = _scope(call)
    if owner.spend_limit is None:
        raise ApiFailure.not_found(f"No hard spend limit is set for {_where(owner)}.")
    return _limit_object(owner.spend_limit, prefix)


def set_limit(call: Call) -> dict[str, Any]:
    owner, prefix = _scope(call, write=True)
    body = call.body(_LimitBody)
    if body.threshold_amount < 1:
        raise ApiFailure.bad_request(
            "Invalid 'threshold_amount': must be at least 1 (cent).", param="threshold_amount", code="invalid_value"
        )
    owner.spend_limit = body.threshold_amount
    return _limit_object(owner.spend_limit, prefix)


def delete_limit(call: Call) -> dict[str, Any]:
    owner, prefix = _scope(call, write=True)
    if owner.spend_limit is None:
        raise ApiFailure.not_found(f"No hard spend limit is set for {_where(owner)}.")
    owner.spend_limit = None
    return {"object": f"{prefix}.spend_limit.deleted", "deleted": True}


# --- spend alerts --------------------------------------------------------------------------------------


def _alert_object(alert: SpendAlertRecord, prefix: str) -> dict[str, Any]:
    return {
        "id": alert.id,
        "object": f"{prefix}.spend_alert",
        "threshold_amount": alert.threshold_amount,
        "currency": "USD",
        "interval": "month",
        "notification_channel": {
            "type": "email",
            "recipients": list(alert.recipients),
            "subject_prefix": alert.subject_prefix,
        },
    }


def _alert_body(call: Call) -> _AlertBody:
    body = call.body(_AlertBody)
    if body.threshold_amount < 0:
        raise ApiFailure.bad_request(
            "Invalid 'threshold_amount': must not be negative.", param="threshold_amount", code="invalid_value"
        )
    return body


def _find_alert(call: Call, owner: Owner) -> SpendAlertRecord:
    alert_id = call.params["alert_id"]
    for alert in owner.spend_alerts:
        if alert.id == alert_id:
            return alert
    raise ApiFailure.not_found(f"No spend alert found with id '{alert_id}' for {_where(owner)}.", param="alert_id")


def _new_alert_id(call: Call) -> str:
    taken = {a.id for a in call.state.organization.spend_alerts} | {
        a.id for p in call.state.projects.values() for a in p.spend_alerts
    }
    return call.ids.unused("alert_", taken)


def list_alerts(call: Call) -> dict[str, Any]:
    owner, prefix = _scope(call)
    limit = call.int_query("limit", default=20, minimum=0, maximum=100)
    alerts = [_alert_object(alert, prefix) for alert in in_order(call, owner.spend_alerts, default="asc")]
    return style_a_page(call, alerts, limit, "spend alert")


def create_alert(call: Call) -> dict[str, Any]:
    owner, prefix = _scope(call, write=True)
    body = _alert_body(call)
    alert = SpendAlertRecord(
        id=_new_alert_id(call),
        threshold_amount=body.threshold_amount,
        recipients=list(body.notification_channel.recipients),
        subject_prefix=body.notification_channel.subject_prefix,
    )
    owner.spend_alerts.append(alert)
    return _alert_object(alert, prefix)


def get_alert(call: Call) -> dict[str, Any]:
    owner, prefix = _scope(call)
    return _alert_object(_find_alert(call, owner), prefix)


def update_alert(call: Call) -> dict[str, Any]:
    owner, prefix = _scope(call, write=True)
    alert = _find_alert(call, owner)
    body = _alert_body(call)
    alert.threshold_amount = body.threshold_amount
    alert.recipients = list(body.notification_channel.recipients)
    alert.subject_prefix = body.notification_channel.subject_prefix
    return _alert_object(alert, prefix)


def delete_alert(call: Call) -> dict[str, Any]:
    owner, prefix = _scope(call, write=True)
    alert = _find_alert(call, owner)
    owner.spend_alerts.remove(alert)
    return {"id": alert.id, "object": f"{prefix}.spend_alert.deleted", "deleted": True}


ROUTES = (
    ApiRoute("GET", ORG_LIMIT, get_limit),
    ApiRoute("POST", ORG_LIMIT, set_limit),
    ApiRoute("DELETE", ORG_LIMIT, delete_limit),
    ApiRoute("GET", PROJECT_LIMIT, get_limit),
    ApiRoute("POST", PROJECT_LIMIT, set_limit),
    ApiRoute("DELETE", PROJECT_LIMIT, delete_limit),
    ApiRoute("GET", ORG_ALERTS, list_alerts),
    ApiRoute("POST", ORG_ALERTS, create_alert),
    ApiRoute("GET", ORG_ALERT, get_alert),
    ApiRoute("POST", ORG_ALERT, update_alert),
    ApiRoute("DELETE", ORG_ALERT, delete_alert),
    ApiRoute("GET", PROJECT_ALERTS, list_alerts),
    ApiRoute("POST", PROJECT_ALERTS, create_alert),
    ApiRoute("GET", PROJECT_ALERT, get_alert),
    ApiRoute("POST", PROJECT_ALERT, update_alert),
    ApiRoute("DELETE", PROJECT_ALERT, delete_alert),
)
