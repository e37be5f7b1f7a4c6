"""Audit logs (`GET /organization/audit_logs`): who changed what, and when. Read-only.

The list is style A (`first_id`/`last_id`/`has_more`), newest first; `after` walks toward older events.
The query is encoded the way the spec names it and the official SDK sends it: array filters carry brackets
in their names (`event_types[]=a&event_types[]=b`), and `effective_at` is a bracketed object
(`effective_at[gte]=1720000000`).

An `AuditLog` has no `object` field. Its details sit under a property named exactly like its `type`
(`"project.updated": {"id": ..., "changes_requested": {...}}`); `AuditLog.details` returns it. The actor is a
`session` (a person in the dashboard) or an `api_key` (identified by its tracking id, never its value).
Retention, residency, model and hosted-tool permissions, and spend emit no event at all.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from datacontrols.adminapi.base import ApiModel, Family, parse
from datacontrols.adminapi.transport import route

__all__ = [
    "KEY_SCOPE_EVENTS",
    "AuditLog",
    "AuditLogActor",
    "AuditLogApiKey",
    "AuditLogPage",
    "AuditLogProject",
    "AuditLogServiceAccount",
    "AuditLogSession",
    "AuditLogUser",
    "AuditLogs",
    "audit_log_query",
    "scopes_set",
]

LIST_PATH = "/organization/audit_logs"
_RANGE_KEYS = ("gt", "gte", "lt", "lte")
MAX_PAGE = 100
# The events that say what an API key may do: `api_key.created{data.scopes}`, `api_key.updated
# {changes_requested.scopes}` (the spec's payloads). Listing and retrieving a key never answer its scopes.
KEY_SCOPE_EVENTS = ("api_key.created", "api_key.updated")
_IDS_PER_QUERY = 50  # resource_ids[] per request: a project's keys, in a URL of a sane length


class AuditLogUser(ApiModel):
    id: str | None = None
    email: str | None = None


class AuditLogSession(ApiModel):
    user: AuditLogUser | None = None
    ip_address: str | None = None


class AuditLogServiceAccount(ApiModel):
    id: str | None = None


class AuditLogApiKey(ApiModel):
    id: str | None = None  # the key's tracking id (not its value)
    type: str | None = None  # user | service_account
    user: AuditLogUser | None = None
    service_account: AuditLogServiceAccount | None = None


class AuditLogActor(ApiModel):
    type: str | None = None  # session | api_key
    session: AuditLogSession | None = None
    api_key: AuditLogApiKey | None = None

    @property
    def email(self) -> str | None:
        """The person behind the action, when the log names one."""
        if self.session is not None and self.session.user is not None:
            return self.session.user.email
        if self.api_key is not None and self.api_key.user is not None:
            return self.api_key.user.email
        return None

    @property
    def key_id(self) -> str | None:
        return self.api_key.id if self.api_key is not None else None

    def describe(self) -> str:
        """One short line: `alice@example.com`, or `api key key_abc (alice@example.com)`."""
        if self.type == "api_key" or (self.session is None and self.api_key is not None):
            owner = self.email or (
                f"service account {self.api_key.service_account.id}"
                if self.api_key is not None and self.api_key.service_account is not None
                else None
            )
            key = f"api key {self.key_id}" if self.key_id else "an api key"
            return f"{key} ({owner})" if owner else key
        return self.email or (
            self.session.user.id if self.session and self.session.user and self.session.user.id else "unknown"
        )


class AuditLogProject(ApiModel):
    id: str | None = None
    name: str | None = None


class AuditLog(ApiModel):
    id: str
    type: str
    effective_at: int
    project: AuditLogProject | None = None
    actor: AuditLogActor | None = None

    @property
    def details(self) -> dict[str, Any]:
        """The payload under the property named like `type` (`{}` when absent)."""
        value = (self.model_extra or {}).get(self.type)
        return value if isinstance(value, dict) else {}

    @property
    def resource_ids(self) -> frozenset[str]:
        """The ids this event is about: its target, and for role assignments the principal and resource."""
        found = {self.details.get(name) for name in ("id", "principal_id", "resource_id")}
        return frozenset(value for value in found if isinstance(value, str) and value)


class AuditLogPage(ApiModel):
    data: list[AuditLog]
    first_id: str | None = None
    last_id: str | None = None
    has_more: bool = False


def scopes_set(event: AuditLog) -> tuple[str, ...] | None:
    """The scopes this event gave its key (`()`: all permissions), or None when it did not set them. A key
    created without scopes has all permissions, so a creation whose payload names none gave it all."""
    if event.type not in KEY_SCOPE_EVENTS:
        return None
    created = event.type == "api_key.created"
    part = event.details.get("data" if created else "changes_requested", {})
    if not isinstance(part, dict):
        return None
    scopes = part.get("scopes", [] if created else None)
    if not isinstance(scopes, list):
        return None
    return tuple(sorted(str(scope) for scope in scopes))


def audit_log_query(
    *,
    effective_at: Mapping[str, int] | None = None,
    event_types: Sequence[str] = (),
    resource_ids: Sequence[str] = (),
    project_ids: Sequence[str] = (),
    actor_ids: Sequence[str] = (),
    actor_emails: Sequence[str] = (),
) -> dict[str, Any]:
    """The query parameters of a filter, named as the spec names them (lists become repeated params)."""
    params: dict[str, Any] = {}
    for key, value in (effective_at or {}).items():
        if key not in _RANGE_KEYS:
            raise ValueError(f"effective_at takes {', '.join(_RANGE_KEYS)}, not {key!r}")
        params[f"effective_at[{key}]"] = int(value)
    for name, values in (
        ("event_types[]", event_types),
        ("resource_ids[]", resource_ids),
        ("project_ids[]", project_ids),
        ("actor_ids[]", actor_ids),
        ("actor_emails[]", actor_emails),
    ):
        if isinstance(values, str):
            raise TypeError(f"{name} takes a list of strings, not one string")
        if values:
            params[name] = list(values)
    return params


class AuditLogs(Family):
    async def page(
        self, *, limit: int = 20, after: str | None = None, before: str | None = None, **filters: Any
    ) -> AuditLogPage:
        """One page (newest first). `filters` are those of `audit_log_query`."""
        params = audit_log_query(**filters)
        params["limit"] = max(1, min(limit, MAX_PAGE))
        if after is not None:
            params["after"] = after
        if before is not None:
            params["before"] = before
        where = route(LIST_PATH)
        return parse(AuditLogPage, await self._t.get(where, params=params), where)

    async def iterate(self, **filters: Any) -> AsyncIterator[AuditLog]:
        """Every matching event, newest first, across all pages."""
        where = route(LIST_PATH)
        async for item in self._t.paginate(where, params=audit_log_query(**filters), page_size=MAX_PAGE):
            yield parse(AuditLog, item, where)

    async def list(self, **filters: Any) -> list[AuditLog]:
        """Every matching event, newest first: `list(effective_at={"gte": t}, event_types=["project.updated"])`."""
        return [event async for event in self.iterate(**filters)]

    async def key_scopes(self, key_ids: Sequence[str]) -> dict[str, tuple[str, ...]]:
        """Each key's scopes as the newest audit event that set them says (`()`: all permissions). A key the
        log holds no such event for (made before the log's window, or with audit logging off) is absent."""
        wanted = sorted(set(key_ids))
        found: dict[str, tuple[str, ...]] = {}
        for start in range(0, len(wanted), _IDS_PER_QUERY):
            chunk = wanted[start : start + _IDS_PER_QUERY]
            async for event in self.iterate(event_types=KEY_SCOPE_EVENTS, resource_ids=chunk):
                key_id, scopes = event.details.get("id"), scopes_set(event)
                if isinstance(key_id, str) and key_id in chunk and key_id not in found and scopes is not None:
                    found[key_id] = scopes  # newest first: the first that set them is the one in force
        return found
