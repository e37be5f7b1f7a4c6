"""A project's external storage (`external_storage`): its data kept in the customer's own bucket. Report-only.

Registering storage needs the customer's IAM setup (a role, a workload identity pool, a trust policy that
names values OpenAI generates), and removing a project's last configuration puts back the organization's
default retention; so this tool never writes it. Every difference is an `uncorrectable` change (as residency
is): shown, counted as drift, never applied, for a person to fix.

- No storage where one is required: critical (the data is stored by OpenAI, not in the desired bucket).
- A configuration of another provider, location or geography: critical when the geography differs (the data
  is in another region of the world), else high. One change per live configuration, `subject` its id.
- A configuration that is `degraded` or `unhealthy`: critical, whatever else matches. `pending` (registered,
  not yet validated) is not drift; `reconcile explain` shows it.
- `none` with storage present: high.

Not in the pinned spec (openai-python 3.63.0's types, SDK-NEWER.md sections 2 and 10): its audit event
types are the SDK's, which the spec's `AuditLogEventType` lacks; the registry test allows exactly these.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from datacontrols.adminapi.external_storage import PROVIDERS, ExternalStorageConfiguration
from datacontrols.desired.storage import ExternalStorage
from datacontrols.kinds.base import NOT_CREATED, DesiredProject, NotExportable, ProjectKind, World
from datacontrols.kinds.organization_retention import Unreadable
from datacontrols.kinds.spend_limit import read_safely
from datacontrols.plan import Change, Facts, FieldChange, Severity

if TYPE_CHECKING:
    from datacontrols.adminapi import AdminApi
    from datacontrols.adminapi.projects import Project

__all__ = [
    "FAILING_STATUSES",
    "KIND",
    "SDK_EVENT_TYPES",
    "ProjectExternalStorage",
    "StorageFacts",
    "compare_external_storage",
    "describe_storage",
]

KIND = "external_storage"
ORDER = 13
# The SDK's audit-log event types for this control (SDK-NEWER.md section 10); the pinned spec has neither.
SDK_EVENT_TYPES: Final = ("external_storage.registered", "external_storage.removed")
FAILING_STATUSES: Final = frozenset({"degraded", "unhealthy"})
_BY_HAND: Final = (
    "this tool does not register or remove external storage (it needs the customer's IAM setup, and removing "
    "it changes the project's retention): a person must"
)


@dataclass(frozen=True, slots=True, kw_only=True)
class StorageFacts(Facts):
    """The live configuration a finding is about (None: the project has none); matched with audit events."""

    external_storage_id: str | None = None


def describe_storage(config: ExternalStorageConfiguration) -> str:
    """`aws bucket acme-eu (geography EU)`, for reasons and `reconcile explain`."""
    provider = config.provider
    what = "storage account/container" if provider.type == "azure" else "bucket"
    geography = f" (geography {config.geography})" if config.geography else ""
    return f"{provider.type} {what} {provider.location or '(unnamed)'}{geography}"


def _same(left: str | None, right: str | None) -> bool:
    return (left or "").casefold() == (right or "").casefold()


def _differences(want: ExternalStorage, config: ExternalStorageConfiguration) -> dict[str, FieldChange]:
    fields: dict[str, FieldChange] = {}
    if config.provider.type != want.provider:
        fields["provider"] = FieldChange(config.provider.type, want.provider)
    if want.location is not None and config.provider.location != want.location:
        fields["location"] = FieldChange(config.provider.location, want.location)
    if want.geography is not None and not _same(config.geography, want.geography):
        fields["geography"] = FieldChange(config.geography, want.geography)
    return fields


def _finding(
    project: str, fields: dict[str, FieldChange], severity: Severity, reason: str, storage_id: str | None
) -> Change:
    return Change(
        action="uncorrectable",
        kind=KIND,
        project=project,
        subject=storage_id,
        fields=fields,
        severity=severity,
        reason=reason,
        order=ORDER,
        facts=StorageFacts(external_storage_id=storage_id),
    )


def compare_external_storage(project: str, want: Any, observed: Any) -> list[Change]:
    """Pure: the findings for one project's desired setting (None: not managed, `none`, or `ExternalStorage`)
    against its live configurations (a sequence, NOT_CREATED or `Unreadable`)."""
    if want is None:
        return []
    if isinstance(observed, Unreadable):
        return [
            Change(action="report", kind=KIND, order=ORDER, project=project, severity="high", reason=observed.reason)
        ]
    live: Sequence[ExternalStorageConfiguration] = () if observed is NOT_CREATED else observed
    if want == "none":
        return [
            _finding(
                project,
                {"provider": FieldChange(config.provider.type, None)},
                "high",
                f"the project's data is stored in {describe_storage(config)}, and the desired state says none; "
                + _BY_HAND,
                config.id,
            )
            for config in live
        ]
    assert isinstance(want, ExternalStorage)
    if not live:
        after = {"provider": FieldChange(None, want.provider)}
        after |= {
            name: FieldChange(None, value) for name in ("location", "geography") if (value := getattr(want, name))
        }
        when = "the new project will have none" if observed is NOT_CREATED else "the project has none"
        return [
            _finding(
                project,
                after,
                "critical",
                f"no external storage: {when}, so its data is stored by OpenAI, not in the desired "
                f"{want.provider} storage; {_BY_HAND}",
                None,
            )
        ]
    changes: list[Change] = []
    for config in live:
        fields = _differences(want, config)
        problems = []
        if fields:
            problems.append(f"{describe_storage(config)} is not the desired storage")
        if config.status in FAILING_STATUSES:
            fields["status"] = FieldChange(config.status, "validated")
            problems.append(
                f"{describe_storage(config)} is {config.status}: OpenAI cannot reliably reach it (check its "
                "access policy, then validate it again)"
            )
        if problems:
            severity: Severity = "critical" if {"geography", "status"} & set(fields) else "high"
            changes.append(_finding(project, fields, severity, "; ".join(problems) + f"; {_BY_HAND}", config.id))
    return changes


class ProjectExternalStorage(ProjectKind):
    name = KIND
    group = "external_storage"
    order = ORDER
    audit_event_types = SDK_EVENT_TYPES
    exports = True

    def manages(self, project: DesiredProject) -> bool:
        return project.settings.external_storage is not None

    async def observe(self, api: AdminApi, project: Project) -> tuple[ExternalStorageConfiguration, ...] | Unreadable:
        found = await read_safely(
            api.external_storage.list(project_id=project.id), "the project's external storage configurations"
        )
        return found if isinstance(found, Unreadable) else tuple(found)

    def compare(self, project: DesiredProject, observed: Any, world: World) -> list[Change]:
        return compare_external_storage(project.name, project.settings.external_storage, observed)

    def export(self, observed: Any) -> dict[str, Any] | None:
        if isinstance(observed, Unreadable):
            raise NotExportable(f"it could not be read: {observed.reason}")
        if not observed:
            return None  # no storage: nothing to write (`none` would start managing it)
        if len(observed) > 1:
            raise NotExportable(f"{len(observed)} configurations; a file describes one")
        config: ExternalStorageConfiguration = observed[0]
        if config.provider.type not in PROVIDERS:
            raise NotExportable(f"its provider {config.provider.type!r} is not one a file can name")
        setting: dict[str, str] = {"provider": config.provider.type}
        if config.geography:
            setting["geography"] = config.geography
        if config.provider.location:
            setting["location"] = config.provider.location
        return {"external_storage": setting}

    async def apply(self, api: AdminApi, change: Change, project_id: str) -> None:
        raise ValueError(f"{KIND} is report-only: its changes are never applied")
