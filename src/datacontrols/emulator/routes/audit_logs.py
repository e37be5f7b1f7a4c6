"""Audit logs: `GET /organization/audit_logs`, serving the events accepted writes recorded (`emulator.events`).

- Newest first (the spec's example order); style A pagination: `after=<last_id>` walks toward older events,
  `before=<first_id>` returns the page just newer than that event. An unknown cursor answers 400. Both at
  once are allowed, as the spec does not forbid it: the page is then the events strictly between the two,
  from `after` on.
- Filters, named as the spec names them: `effective_at[gt|gte|lt|lte]`, `event_types[]`, `resource_ids[]`
  (matched against the event's target id), `project_ids[]`, `actor_ids[]` (user, service account or key
  tracking id), `actor_emails[]`. `event_types[]` takes the spec's `AuditLogEventType` values (and the SDK's
  newer ones, `event_types.py`); anything else is a 400. `tenant_only=true` answers no events (none recorded
  here are tenant-scoped) and, as the spec says, refuses event types that are not tenant-scoped.
- Each event is the spec's `AuditLog`: `id`, `type`, `effective_at`, `actor`, `project` when scoped to one,
  and the details under a property named like the type. There is no `object` field.
- Actors: a write made with the admin key is by an `api_key` actor (`ADMIN_KEY_ACTOR`, tracking id
  `ADMIN_KEY_TRACKING_ID`) and, as the spec warns, is associated with the default project. A request that
  carries the test-only header `x-emulator-actor: <email>` is recorded as that person's `session`.
"""

from __future__ import annotations

import hashlib
from typing import Any, Final

from datacontrols.emulator.errors import ApiFailure
from datacontrols.emulator.event_types import EVENT_TYPES, is_tenant_scoped
from datacontrols.emulator.paging import envelope_a
from datacontrols.emulator.routing import ApiRoute, Call
from datacontrols.emulator.state import EmulatorState, Event

__all__ = ["ACTOR_HEADER", "ADMIN_KEY_ACTOR", "ADMIN_KEY_TRACKING_ID", "ROUTES", "audit_log_object", "session_actor"]

LIST = "/organization/audit_logs"
ACTOR_HEADER: Final = "x-emulator-actor"
ADMIN_KEY_TRACKING_ID: Final = "key_EmulatorAdminKey0001"
ADMIN_KEY_ACTOR: Final[dict[str, Any]] = {
    "type": "api_key",
    "api_key": {
        "id": ADMIN_KEY_TRACKING_ID,
        "type": "user",
        "user": {"id": "user-EmulatorOwner0001", "email": "owner@example.com"},
    },
}
_RANGE = ("gt", "gte", "lt", "lte")


def session_actor(email: str | None) -> dict[str, Any] | None:
    """The `session` actor of a person in the dashboard; None when no email is given."""
    if email is None or not email.strip():
        return None
    email = email.strip()
    user_id = "user-" + hashlib.sha256(email.lower().encode()).hexdigest()[:16]
    return {"type": "session", "session": {"user": {"id": user_id, "email": email}, "ip_address": "127.0.0.1"}}


def _actor(event: Event) -> dict[str, Any]:
    return event.actor if event.actor is not None else ADMIN_KEY_ACTOR


def _project_of(event: Event, state: EmulatorState) -> dict[str, Any] | None:
    # "Any admin actions taken via Admin API keys are associated with the default project."
    project_id = event.project_id
    if _actor(event)["type"] == "api_key" and (default := state.default_project()) is not None:
        project_id = default.id
    if project_id is None:
        return None
    project = state.projects.get(project_id)
    return {"id": project_id, "name": project.name} if project is not None else {"id": project_id}


def audit_log_object(event: Event, state: EmulatorState) -> dict[str, Any]:
    """The spec's `AuditLog` for one recorded event."""
    body: dict[str, Any] = {"id": event.id, "type": event.type, "effective_at": event.effective_at}
    project = _project_of(event, state)
    if project is not None:
        body["project"] = project
    body["actor"] = _actor(event)
    body[event.type] = event.details
    return body


def _actor_ids(actor: dict[str, Any]) -> set[str]:
    session_user = (actor.get("session") or {}).get("user") or {}
    key = actor.get("api_key") or {}
    found = {session_user.get("id"), key.get("id"), (key.get("user") or {}).get("id")}
    found.add((key.get("service_account") or {}).get("id"))
    return {value for value in found if value}


def _actor_emails(actor: dict[str, Any]) -> set[str]:
    session_user = (actor.get("session") or {}).get("user") or {}
    key_user = (actor.get("api_key") or {}).get("user") or {}
    return {email for email in (session_user.get("email"), key_user.get("email")) if email}


def _range(call: Call) -> dict[str, int]:
    bounds: dict[str, int] = {}
    for name in _RANGE:
        raw = call.query.get(f"effective_at[{name}]")
        if raw is None:
            continue
        try:
            bounds[name] = int(raw)
        except ValueError:
            raise ApiFailure.bad_request(
                f"Invalid 'effective_at[{name}]': expected an integer.", param="effective_at", code="invalid_type"
            ) from None
    return bounds


def _within(moment: int, bounds: dict[str, int]) -> bool:
    return (
        ("gt" not in bounds or moment > bounds["gt"])
        and ("gte" not in bounds or moment >= bounds["gte"])
        and ("lt" not in bounds or moment < bounds["lt"])
        and ("lte" not in bounds or moment <= bounds["lte"])
    )


def _matches(event: Event, call: Call, state: EmulatorState, bounds: dict[str, int]) -> bool:
    types = call.list_query("event_types[]")
    resources = call.list_query("resource_ids[]")
    projects = call.list_query("project_ids[]")
    actor_ids = call.list_query("actor_ids[]")
    actor_emails = call.list_query("actor_emails[]")
    actor = _actor(event)
    project = _project_of(event, state)
    return (
        _within(event.effective_at, bounds)
        and (not types or event.type in types)
        and (not resources or event.details.get("id") in resources)
        and (not projects or (project is not None and project["id"] in projects))
        and (not actor_ids or bool(_actor_ids(actor) & set(actor_ids)))
        and (not actor_emails or bool(_actor_emails(actor) & set(actor_emails)))
    )


def _event_types(call: Call, *, tenant_only: bool) -> list[str]:
    """The `event_types[]` filter, each value checked against the enum (the value is not echoed back)."""
    types = call.list_query("event_types[]")
    for index, value in enumerate(types):
        if value not in EVENT_TYPES:
            raise ApiFailure.bad_request(
                f"Invalid 'event_types[{index}]': not an audit log event type.",
                param="event_types",
                code="invalid_value",
            )
        if tenant_only and not is_tenant_scoped(value):
            raise ApiFailure.bad_request(
                f"Invalid 'event_types[{index}]': with 'tenant_only' every event type must be tenant-scoped.",
                param="event_types",
                code="invalid_value",
            )
    return types


def list_audit_logs(call: Call) -> dict[str, Any]:
    # "Limit can range between 1 and 100": the spec states this one in the parameter's description.
    limit = call.int_query("limit", default=20, minimum=1, maximum=100)
    tenant_only = call.bool_query("tenant_only", default=False)
    _event_types(call, tenant_only=tenant_only)
    bounds = _range(call)
    # Newest first; events of one second keep their recording order, reversed.
    ordered = list(reversed(call.state.events))
    ordered.sort(key=lambda event: event.effective_at, reverse=True)
    visible = [] if tenant_only else [e for e in ordered if _matches(e, call, call.state, bounds)]
    ids = [event.id for event in visible]
    after, before = call.query.get("after"), call.query.get("before")
    start = _position(ids, after, "after") + 1 if after is not None else 0
    end = _position(ids, before, "before") if before is not None else len(visible)
    window = visible[start:end]
    backwards = before is not None and after is None  # then the page is the one just newer than `before`
    page = window[max(0, len(window) - limit) :] if backwards else window[:limit]
    return envelope_a([audit_log_object(event, call.state) for event in page], len(window) > len(page))


def _position(ids: list[str], cursor: str, name: str) -> int:
    try:
        return ids.index(cursor)
    except ValueError:
        raise ApiFailure.bad_request(
            f"Invalid '{name}': no audit log with id '{cursor}' in this listing.", param=name, code="invalid_value"
        ) from None


ROUTES = (ApiRoute("GET", LIST, list_audit_logs),)
