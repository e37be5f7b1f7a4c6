"""A project's customer-managed encryption key (`encryption_key`): who can decrypt its data. Report-only.

Registering a key needs the customer's KMS and IAM setup (a role, a trust policy, a workload identity
pool); the SDK does not say what deleting a key does to the projects bound to it, nor what re-binding does
to data already encrypted; a KMS key OpenAI can no longer use leaves the data encrypted with it unreadable.
So this tool never registers, deletes, rotates or binds a key here (a file's `external_key_id` binds by id,
through the project lifecycle). Every difference is an `uncorrectable` change: shown, counted as drift,
never applied, for a person to fix.

- The file names a key and the project has none: critical (its data is encrypted with OpenAI-managed keys).
- The project is bound to another key (another name or type): critical (someone else's key protects it).
- The project is bound to a key that cannot be used: critical. Reads show two such keys: one the
  organization no longer has (removed, or never registered) and one whose purpose is not `ekm`. The SDK's
  `validate` is a POST, which a dry run cannot send, and its statuses are not enumerated: it is not called.
- `openai_managed` and the project is bound to a key: high (the customer can make its data unreadable by
  revoking the key, which the file does not expect).

Not in the pinned spec (openai-python 3.63.0's types, SDK-NEWER.md section 1); its audit event types
(`external_key.registered/removed`) and `Project.external_key_id` are the spec's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from datacontrols.adminapi.external_keys import KEY_TYPES, ExternalKey
from datacontrols.desired.encryption import EncryptionKey
from datacontrols.kinds.base import NOT_CREATED, DesiredProject, NotExportable, ProjectKind, World
from datacontrols.kinds.organization_retention import Unreadable
from datacontrols.kinds.spend_limit import read_safely
from datacontrols.plan import Change, Facts, FieldChange, Severity

if TYPE_CHECKING:
    from datacontrols.adminapi import AdminApi
    from datacontrols.adminapi.projects import Project

__all__ = [
    "AUDIT_EVENT_TYPES",
    "KIND",
    "KeyBinding",
    "KeyFacts",
    "ProjectEncryptionKey",
    "compare_encryption_key",
    "describe_binding",
    "describe_key",
]

KIND = "encryption_key"
ORDER = 14
# Registering and removing a key are the spec's events; a project's binding changes with project.updated.
AUDIT_EVENT_TYPES: Final = ("external_key.registered", "external_key.removed", "project.updated")
_BY_HAND: Final = (
    "this tool does not register, delete or rotate keys (that needs the customer's KMS, and data under a key "
    "OpenAI cannot use is unreadable): bind the agreed key with the file's `external_key_id`, or fix it by hand"
)


@dataclass(frozen=True, slots=True)
class KeyBinding:
    """What observe read: the project's `external_key_id` and that key (None: the organization has none of
    that id). `key_id` None: the project has no customer-managed key."""

    key_id: str | None
    key: ExternalKey | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyFacts(Facts):
    """The key a finding is about (None: the project has none); matched with the key's audit events."""

    external_key_id: str | None = None

    def resource_ids(self) -> frozenset[str]:
        # The binding is the project's `external_key_id`, so a project.updated event is about it too.
        found = Facts.resource_ids(self)
        return found | {self.project_id} if self.project_id else found


def describe_key(key: ExternalKey) -> str:
    """`aws key "acme-prod" (ekm_123)`, for reasons and `reconcile explain`."""
    return f'{key.type} key "{key.name}" ({key.id})'


def describe_binding(binding: KeyBinding) -> str:
    """Which key protects the project's data, and whether it can be used, in one line."""
    if binding.key_id is None:
        return "OpenAI-managed keys (no customer-managed key)"
    if binding.key is None:
        return f"customer-managed key {binding.key_id}, which the organization does not have (removed?)"
    key = binding.key
    where = f" at {key.locator}" if key.locator else ""
    usable = "purpose ekm" if key.purpose == "ekm" else f"purpose {key.purpose or 'not given'}"
    if not key.encrypts_data:
        usable += ": not a data-encryption (ekm) key"
    return f"customer-managed {describe_key(key)}{where}, {usable}"


def _finding(
    project: str, fields: dict[str, FieldChange], severity: Severity, reason: str, key_id: str | None
) -> Change:
    return Change(
        action="uncorrectable",
        kind=KIND,
        project=project,
        subject=key_id,
        fields=fields,
        severity=severity,
        reason=f"{reason}; {_BY_HAND}",
        order=ORDER,
        facts=KeyFacts(external_key_id=key_id),
    )


def _required(project: str, want: EncryptionKey, binding: KeyBinding) -> list[Change]:
    wanted = {"name": FieldChange(None, want.name)}
    if binding.key_id is None:
        return [
            _finding(
                project,
                wanted,
                "critical",
                f"no customer-managed key: the project's data is encrypted with OpenAI-managed keys, not "
                f'"{want.name}"',
                None,
            )
        ]
    key = binding.key
    if key is None:
        return [
            _finding(
                project,
                {"name": FieldChange(binding.key_id, want.name)},
                "critical",
                f"the project is bound to key {binding.key_id}, which the organization does not have (removed, or "
                "never registered): its data may be unreadable",
                binding.key_id,
            )
        ]
    fields: dict[str, FieldChange] = {}
    problems: list[str] = []
    if key.name != want.name:
        fields["name"] = FieldChange(key.name, want.name)
    if want.type is not None and key.type != want.type:
        fields["type"] = FieldChange(key.type, want.type)
    if fields:
        problems.append(f'the project\'s data is protected by {describe_key(key)}, not the desired "{want.name}"')
    if not key.encrypts_data:
        fields["purpose"] = FieldChange(key.purpose, "ekm")
        problems.append(f"{describe_key(key)} has purpose {key.purpose}, not ekm: it is not a data-encryption key")
    if not problems:
        return []
    return [_finding(project, fields, "critical", "; ".join(problems), key.id)]


def compare_encryption_key(project: DesiredProject, observed: Any) -> list[Change]:
    """Pure: the findings for one project's desired key (None: not managed, `openai_managed`, or
    `EncryptionKey`) against its live binding (a `KeyBinding`, NOT_CREATED or `Unreadable`)."""
    want = project.settings.encryption_key
    name = project.name
    if want is None:
        return []
    if isinstance(observed, Unreadable):
        return [Change(action="report", kind=KIND, order=ORDER, project=name, severity="high", reason=observed.reason)]
    if observed is NOT_CREATED:
        if want == "openai_managed" or (project.file.manages_external_key and project.file.external_key_id):
            return []  # created without a key, or with the file's `external_key_id`: checked once it exists
        binding = KeyBinding(key_id=None)
    else:
        binding = observed
    if want == "openai_managed":
        if binding.key_id is None:
            return []
        return [
            _finding(
                name,
                {"name": FieldChange(binding.key.name if binding.key else binding.key_id, None)},
                "high",
                f"the project's data is encrypted with {describe_binding(binding)}, and the desired state says "
                "openai_managed (revoking that key would make the data unreadable)",
                binding.key_id,
            )
        ]
    assert isinstance(want, EncryptionKey)
    return _required(name, want, binding)


class ProjectEncryptionKey(ProjectKind):
    name = KIND
    group = "encryption_key"
    order = ORDER
    audit_event_types = AUDIT_EVENT_TYPES
    exports = True

    def manages(self, project: DesiredProject) -> bool:
        return project.settings.encryption_key is not None

    async def observe(self, api: AdminApi, project: Project) -> KeyBinding | Unreadable:
        if project.external_key_id is None:
            return KeyBinding(key_id=None)  # no read: the project itself says it has no key
        found = await read_safely(api.external_keys.get(project.external_key_id), "the project's encryption key")
        return found if isinstance(found, Unreadable) else KeyBinding(key_id=project.external_key_id, key=found)

    def compare(self, project: DesiredProject, observed: Any, world: World) -> list[Change]:
        return compare_encryption_key(project, observed)

    def export(self, observed: Any) -> dict[str, Any] | None:
        if isinstance(observed, Unreadable):
            raise NotExportable(f"it could not be read: {observed.reason}")
        binding: KeyBinding = observed
        if binding.key_id is None:
            return None  # no key: `external_key_id: null` already says so; `openai_managed` would add a check
        if binding.key is None:
            raise NotExportable(f"the project names key {binding.key_id}, which the organization does not have")
        setting: dict[str, str] = {"name": binding.key.name}
        if binding.key.type in KEY_TYPES:
            setting["type"] = binding.key.type
        return {"encryption_key": setting}

    async def apply(self, api: AdminApi, change: Change, project_id: str) -> None:
        raise ValueError(f"{KIND} is report-only: its changes are never applied")
