"""The emulated organization's state: plain mutable records, one per resource, plus the id factory.

Route modules read and change these records; nothing else does. A new endpoint family adds its fields here
(e.g. `ProjectRecord.users`) and its routes in `routes/`. The request log and the audit-event list live here
too, so one object holds everything a test may want to assert on.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, field
from typing import Any

from datacontrols.adminapi.permissions import HOSTED_TOOLS
from datacontrols.adminapi.retention import ORGANIZATION_RETENTION_TYPES
from datacontrols.emulator.requestlog import RequestLog

__all__ = [
    "DEFAULT_ORGANIZATION_RETENTION",
    "DEFAULT_PROJECT_NAME",
    "EmulatorState",
    "Event",
    "IdFactory",
    "ModelPolicy",
    "OrganizationRecord",
    "ProjectRecord",
]

DEFAULT_PROJECT_NAME = "Default project"
# The spec's organization enum has no "standard" value; the spec's own example value stands in for it.
DEFAULT_ORGANIZATION_RETENTION = "modified_abuse_monitoring"

_ALPHANUMERIC = string.ascii_letters + string.digits


class IdFactory:
    """Ids shaped like the real ones, drawn from seeded generators so a run can be replayed.

    Resource ids and request ids come from separate streams: a retried request (one more request id)
    must not change the id of the next project created.
    """

    def __init__(self, seed: int | None) -> None:
        self._resources = random.Random(None if seed is None else f"ids:{seed}")
        self._requests = random.Random(None if seed is None else f"requests:{seed}")

    def resource(self, prefix: str, length: int = 24) -> str:
        """`proj_` + 24 alphanumerics, and the like."""
        return prefix + "".join(self._resources.choice(_ALPHANUMERIC) for _ in range(length))

    def request(self) -> str:
        """`req_` + 32 hex digits, as in the API's `x-request-id` header."""
        return f"req_{self._requests.getrandbits(128):032x}"


@dataclass
class ModelPolicy:
    mode: str
    model_ids: list[str]


@dataclass
class ProjectRecord:
    id: str
    name: str
    created_at: int
    residency: str = "GLOBAL"
    status: str = "active"
    archived_at: int | None = None
    external_key_id: str | None = None
    default: bool = False  # the organization's default project: the API refuses to modify it
    data_retention: str = "organization_default"
    model_permissions: ModelPolicy | None = None  # None: no policy, GET answers 404
    hosted_tools: dict[str, bool] = field(default_factory=lambda: dict.fromkeys(HOSTED_TOOLS, True))

    @property
    def archived(self) -> bool:
        return self.status == "archived"


@dataclass
class OrganizationRecord:
    data_retention: str = DEFAULT_ORGANIZATION_RETENTION
    # Values OpenAI has approved this organization for; writes of other values are refused with 403.
    approved_retention_types: list[str] = field(default_factory=lambda: list(ORGANIZATION_RETENTION_TYPES))
    # None: every residency is available; otherwise creating a project elsewhere is refused with 403.
    approved_residencies: list[str] | None = None


@dataclass(frozen=True)
class Event:
    """An accepted write, recorded for the audit log a later issue will serve.

    `type` uses the spec's audit-log event names (`project.created`, ...); `details` is the payload the
    spec puts under the property named like the type (`{"id": ..., "data": {...}}`).
    """

    id: str
    type: str
    effective_at: int
    project_id: str | None
    details: dict[str, Any]


@dataclass
class EmulatorState:
    organization: OrganizationRecord = field(default_factory=OrganizationRecord)
    projects: dict[str, ProjectRecord] = field(default_factory=dict)  # insertion order = list order
    events: list[Event] = field(default_factory=list)
    requests: RequestLog = field(default_factory=RequestLog)

    def default_project(self) -> ProjectRecord | None:
        return next((p for p in self.projects.values() if p.default), None)
