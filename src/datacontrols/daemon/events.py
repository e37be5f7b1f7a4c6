"""Audit-log events -> the work items to read again now (pure).

An event about a project (a member added, a key created, a rate limit changed) makes that project due at
once; an event about the organization (an invite, a user of the organization, a project created, archived or
renamed, an event naming a project the daemon does not know) makes the organization due, so that its project
list and directory are read again. The daemon's own writes are left out: re-reading what it just wrote
would only spend the budget.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Final

from datacontrols.adminapi.audit_logs import AuditLog
from datacontrols.kinds import project as project_kind

__all__ = ["rereads_for"]

# Events about the organization's shape: its project list is read again for them.
_ORGANIZATION_EVENTS: Final = frozenset(project_kind.AUDIT_EVENT_TYPES)


def rereads_for(
    events: Iterable[AuditLog], projects_by_id: Mapping[str, str], is_own: Callable[[AuditLog], bool]
) -> list[tuple[str | None, str]]:
    """(project name, or None for the organization; why) for each item these events make due, once each."""
    found: dict[str | None, str] = {}
    for event in sorted(events, key=lambda e: (e.effective_at, e.id)):
        if is_own(event):
            continue
        project_id = event.project.id if event.project is not None else None
        if (
            project_id is None
            and event.type.startswith("project.")
            and isinstance(target := event.details.get("id"), str)
        ):
            project_id = target
        name = projects_by_id.get(project_id) if project_id is not None else None
        if event.type in _ORGANIZATION_EVENTS or name is None:
            found.setdefault(None, f"audit event {event.type}")
        if name is not None:
            found.setdefault(name, f"audit event {event.type}")
    return list(found.items())
