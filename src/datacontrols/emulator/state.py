"""The emulated organization's state: plain mutable records, one per resource, plus the id factory.

Route modules read and change these records; nothing else does. A new endpoint family adds its fields here
(e.g. `ProjectRecord.users`) and its routes in `routes/`. The request log and the audit-event list live here
too, so one object holds everything a test may want to assert on.
"""

from __future__ import annotations

import random
import string
from collections.abc import Container
from dataclasses import dataclass, field
from typing import Any

from datacontrols.adminapi.permissions import HOSTED_TOOLS
from datacontrols.adminapi.retention import ORGANIZATION_RETENTION_TYPES
from datacontrols.emulator.requestlog import RequestLog

__all__ = [
    "DEFAULT_ORGANIZATION_RETENTION",
    "DEFAULT_PROJECT_NAME",
    "AdminKeyRecord",
    "ApiKeyRecord",
    "CertificateRecord",
    "EmulatorState",
    "Event",
    "ExternalKeyRecord",
    "ExternalStorageRecord",
    "GroupGrantRecord",
    "GroupRecord",
    "IdFactory",
    "InviteRecord",
    "MemberRecord",
    "ModelPolicy",
    "OrganizationRecord",
    "ProjectRecord",
    "RoleAssignmentRecord",
    "RoleRecord",
    "ServiceAccountRecord",
    "SpendAlertRecord",
    "UserRecord",
    "default_model_rate_limits",
    "key_spend_limit",
]

DEFAULT_PROJECT_NAME = "Default project"
# The spec's organization enum has no "standard" value; the spec's own example value stands in for it.
DEFAULT_ORGANIZATION_RETENTION = "modified_abuse_monitoring"

_ALPHANUMERIC = string.ascii_letters + string.digits

# The models every project has a rate-limit row for, with the organization's own limits (a project's row
# starts at these and cannot be raised above them). Plausible usage-tier numbers; the API decides the real
# list. Optional fields appear only where they are relevant, as in the spec.
_MODEL_RATE_LIMITS: dict[str, dict[str, int]] = {
    "gpt-4.1": {
        "max_requests_per_1_minute": 10_000,
        "max_tokens_per_1_minute": 2_000_000,
        "batch_1_day_max_input_tokens": 200_000_000,
    },
    "gpt-4.1-mini": {
        "max_requests_per_1_minute": 10_000,
        "max_tokens_per_1_minute": 10_000_000,
        "batch_1_day_max_input_tokens": 1_000_000_000,
    },
    "gpt-4o": {
        "max_requests_per_1_minute": 10_000,
        "max_tokens_per_1_minute": 2_000_000,
        "batch_1_day_max_input_tokens": 200_000_000,
    },
    "o3": {
        "max_requests_per_1_minute": 10_000,
        "max_tokens_per_1_minute": 2_000_000,
        "batch_1_day_max_input_tokens": 200_000_000,
    },
    "gpt-image-1": {
        "max_requests_per_1_minute": 250,
        "max_tokens_per_1_minute": 800_000,
        "max_images_per_1_minute": 50,
    },
    "gpt-4o-transcribe": {
        "max_requests_per_1_minute": 10_000,
        "max_tokens_per_1_minute": 2_000_000,
        "max_audio_megabytes_per_1_minute": 500,
    },
    "text-embedding-3-small": {
        "max_requests_per_1_minute": 10_000,
        "max_tokens_per_1_minute": 5_000_000,
        "max_requests_per_1_day": 14_400_000,
    },
}


def default_model_rate_limits() -> dict[str, dict[str, int]]:
    """A fresh copy of the models (and their organization limits) an organization starts with."""
    return {model: dict(limits) for model, limits in _MODEL_RATE_LIMITS.items()}


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

    def unused(self, prefix: str, taken: Container[str]) -> str:
        """A resource id that is not in `taken` (a clash is unlikely, but a seed may hold any id)."""
        while True:
            candidate = self.resource(prefix)
            if candidate not in taken:
                return candidate

    def request(self) -> str:
        """`req_` + 32 hex digits, as in the API's `x-request-id` header."""
        return f"req_{self._requests.getrandbits(128):032x}"


@dataclass
class ModelPolicy:
    mode: str
    model_ids: list[str]


@dataclass
class SpendAlertRecord:
    """A spend alert; currency is always USD and the interval a month (the only values the spec allows)."""

    id: str
    threshold_amount: int  # cents
    recipients: list[str]
    subject_prefix: str | None = None


# --- access: people, groups, service accounts, keys ------------------------------------------------------
# Secrets are never stored: a created key's value exists only in the answer that returns it; records keep
# its redacted form.


@dataclass
class UserRecord:
    """A user of the organization (they arrive by invite; the API cannot create them)."""

    id: str
    email: str
    name: str = ""
    role: str = "reader"  # organization role: owner | reader
    added_at: int = 0
    technical_level: str | None = None  # profile metadata the modify endpoint sets
    developer_persona: str | None = None
    scim_managed: bool = False  # provisioned by the identity provider


@dataclass
class GroupRecord:
    id: str
    name: str
    created_at: int = 0
    scim_managed: bool = False
    user_ids: list[str] = field(default_factory=list)  # its members, in the order they were added


@dataclass
class CertificateRecord:
    """An mTLS client certificate uploaded to the organization, and where it is active."""

    id: str
    content: str  # the PEM as uploaded
    valid_at: int
    expires_at: int
    name: str | None = None
    created_at: int = 0
    active: bool = False  # at the organization level
    project_ids: list[str] = field(default_factory=list)  # the projects it is active in


@dataclass
class RoleRecord:
    """A custom role: of the organization (`project_id` None) or of one project."""

    id: str
    name: str
    permissions: list[str]
    description: str | None = None
    project_id: str | None = None
    created_at: int = 0
    updated_at: int = 0

    @property
    def resource_type(self) -> str:
        return "api.organization" if self.project_id is None else "api.project"


@dataclass(frozen=True)
class RoleAssignmentRecord:
    """A role held by a user or a group, in the organization (`project_id` None) or in a project. A group's
    roles in a project are kept on its grant (`GroupGrantRecord.role_ids`) instead, where they began."""

    role_id: str
    principal_type: str  # user | group
    principal_id: str
    project_id: str | None = None


@dataclass
class InviteRecord:
    id: str
    email: str
    role: str = "reader"
    status: str = "pending"  # pending | accepted | expired
    created_at: int = 0
    expires_at: int | None = None
    accepted_at: int | None = None
    projects: list[dict[str, str]] = field(default_factory=list)  # [{id, role}]


@dataclass
class AdminKeyRecord:
    """An admin API key, as the admin key list shows it (only ever its redacted form)."""

    id: str
    name: str | None
    redacted_value: str  # e.g. sk-admin...xyz
    owner_id: str
    owner_type: str = "user"  # user | service_account
    owner_name: str = ""
    created_at: int = 0
    expires_at: int | None = None
    last_used_at: int | None = None


@dataclass
class MemberRecord:
    """A user's membership of a project."""

    role: str  # owner | member
    added_at: int = 0


@dataclass
class GroupGrantRecord:
    """A group's access to a project: the role ids it holds there."""

    role_ids: list[str]
    created_at: int = 0


@dataclass
class ServiceAccountRecord:
    id: str
    name: str
    role: str  # owner | member | none
    created_at: int = 0


def key_spend_limit(cents: int) -> dict[str, Any]:
    """A project key's `spend_limit` as the SDK answers it: a monthly USD cap, not blocking yet."""
    return {"currency": "USD", "interval": "month", "threshold_amount": cents, "enforcement": {"status": "inactive"}}


@dataclass
class ApiKeyRecord:
    """A project API key, owned by a user (`owner_type: user`, a user id) or one of the project's service
    accounts. Deleting the account deletes its keys."""

    id: str
    name: str
    redacted_value: str
    owner_type: str
    owner_id: str
    created_at: int = 0
    last_used_at: int | None = None
    expires_at: int | None = None  # the SDK's field (not in the pinned spec): answered only when set
    # Set by the SDK's update (routes/api_key_updates.py); scopes are kept but never answered, as in the SDK.
    scopes: tuple[str, ...] | None = None
    spend_limit: dict[str, Any] | None = None


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
    # model -> the limits set on this project's row; a limit not here is the organization's (model_rate_limits)
    rate_limits: dict[str, dict[str, int]] = field(default_factory=dict)
    spend_limit: int | None = None  # cents a month; None: no hard limit (GET answers 404)
    spend_alerts: list[SpendAlertRecord] = field(default_factory=list)
    users: dict[str, MemberRecord] = field(default_factory=dict)  # user id -> membership
    groups: dict[str, GroupGrantRecord] = field(default_factory=dict)  # group id -> grant
    service_accounts: dict[str, ServiceAccountRecord] = field(default_factory=dict)
    api_keys: dict[str, ApiKeyRecord] = field(default_factory=dict)
    # Service tiers (not in the pinned spec). A new project's values are the emulator's guess: the SDK does
    # not say them; standard, and every additional tier the organization is eligible for.
    service_tier_default: str = "standard"
    enabled_service_tiers: str | list[str] = "all"

    @property
    def archived(self) -> bool:
        return self.status == "archived"


@dataclass
class WorkloadIdentityProviderRecord:
    """An OIDC provider registered for keyless service-account access (openai-python 3.63.0's shapes)."""

    id: str
    name: str
    issuer: str
    audience: str
    description: str | None = None
    enabled: bool = True
    created_at: int = 0
    updated_at: int = 0


@dataclass
class FederationRuleRecord:
    """Token attributes bound to one project service account, under one provider."""

    id: str
    provider_id: str
    project_id: str
    service_account_id: str
    attribute_matchers: dict[str, Any]
    permissions: dict[str, Any]  # {type: service_account_default} | {type: restricted, scopes: [...]}
    name: str | None = None
    description: str | None = None
    enabled: bool = True
    created_at: int = 0
    updated_at: int = 0


@dataclass
class ExternalStorageRecord:
    """A project's customer-managed storage (not in the pinned spec: openai-python 3.63.0's shapes).

    `provider` is the whole provider object the API answers, the derived fields (`region`, ...) included."""

    id: str
    project_id: str
    provider: dict[str, str]
    geography: str
    status: str = "pending"  # pending | validated | degraded | unhealthy
    created_at: int = 0


@dataclass
class ExternalKeyRecord:
    """A customer-managed encryption key (not in the pinned spec: openai-python 3.63.0's shapes).

    `config` holds the provider's fields as sent (`kms_arn`, `vault_uri`, ...). The projects using it are
    those whose `external_key_id` names it (the API's `api_project_ids`). `validation` is what `validate`
    answers: the emulator has no KMS to ask, so a seed says it."""

    id: str
    name: str
    type: str  # aws | azure | gcp | oci
    purpose: str | None = "ekm"
    config: dict[str, str] = field(default_factory=dict)
    created_at: int = 0
    validation: str = "valid"


@dataclass
class OrganizationRecord:
    data_retention: str = DEFAULT_ORGANIZATION_RETENTION
    # Values OpenAI has approved this organization for; writes of other values are refused with 403.
    approved_retention_types: list[str] = field(default_factory=lambda: list(ORGANIZATION_RETENTION_TYPES))
    # None: every residency is available; otherwise creating a project elsewhere is refused with 403.
    approved_residencies: list[str] | None = None
    # Every project has one rate-limit row per model here; these are also the most a project may be given.
    model_rate_limits: dict[str, dict[str, int]] = field(default_factory=default_model_rate_limits)
    spend_limit: int | None = None  # cents a month; None: no hard limit (GET answers 404)
    spend_alerts: list[SpendAlertRecord] = field(default_factory=list)


@dataclass(frozen=True)
class Event:
    """An accepted write, recorded for the audit log (`GET /organization/audit_logs`, routes/audit_logs.py).

    `type` uses the spec's audit-log event names (`project.created`, ...); `details` is the payload the
    spec puts under the property named like the type (`{"id": ..., "data": {...}}`). `actor` is the spec's
    `AuditLogActor` (None: the admin key's own api_key actor).
    """

    id: str
    type: str
    effective_at: int
    project_id: str | None
    details: dict[str, Any]
    actor: dict[str, Any] | None = None


@dataclass
class EmulatorState:
    organization: OrganizationRecord = field(default_factory=OrganizationRecord)
    projects: dict[str, ProjectRecord] = field(default_factory=dict)  # insertion order = list order
    events: list[Event] = field(default_factory=list)
    requests: RequestLog = field(default_factory=RequestLog)
    users: dict[str, UserRecord] = field(default_factory=dict)  # the organization's users, by id
    groups: dict[str, GroupRecord] = field(default_factory=dict)
    invites: dict[str, InviteRecord] = field(default_factory=dict)
    admin_api_keys: dict[str, AdminKeyRecord] = field(default_factory=dict)
    external_storage: dict[str, ExternalStorageRecord] = field(default_factory=dict)  # insertion = creation order
    # Workload identity federation (not in the pinned spec): providers and their rules, in creation order.
    workload_identity_providers: dict[str, WorkloadIdentityProviderRecord] = field(default_factory=dict)
    federation_rules: dict[str, FederationRuleRecord] = field(default_factory=dict)
    external_keys: dict[str, ExternalKeyRecord] = field(default_factory=dict)  # insertion = creation order
    roles: dict[str, RoleRecord] = field(default_factory=dict)  # custom roles, by id, in creation order
    certificates: dict[str, CertificateRecord] = field(default_factory=dict)  # in upload order
    role_assignments: list[RoleAssignmentRecord] = field(default_factory=list)  # in assignment order

    def drop_role_assignments(self, principal_type: str, principal_id: str, project_id: str | None = None) -> None:
        """Forget the roles a principal held in one scope (the organization when `project_id` is None)."""
        gone = (principal_type, principal_id, project_id)
        self.role_assignments = [
            a for a in self.role_assignments if (a.principal_type, a.principal_id, a.project_id) != gone
        ]

    def default_project(self) -> ProjectRecord | None:
        return next((p for p in self.projects.values() if p.default), None)
