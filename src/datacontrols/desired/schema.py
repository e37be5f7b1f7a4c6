"""The desired-state format: `organization.yaml` and one file per project under `projects/`.

Strict on purpose: unknown keys, enum typos and wrong types are errors at load time, with their position
(see `loader.py`). A setting that is absent is not managed; that is why most fields default to None and
why `model_fields_set` is consulted where null and absent mean different things.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import Annotated, Any, Final, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, ValidationInfo, field_validator
from pydantic.json_schema import WithJsonSchema

from datacontrols.adminapi.permissions import HostedTool
from datacontrols.adminapi.projects import Residency
from datacontrols.adminapi.retention import OrganizationRetentionType, ProjectRetentionType
from datacontrols.desired.admin_keys import ADMIN_KEYS_DESCRIPTION, AdminKeyRules
from datacontrols.desired.certificates import (
    CERTIFICATES_DESCRIPTION,
    PROJECT_CERTIFICATES_DESCRIPTION,
    CertificateSetting,
    ProjectCertificates,
)
from datacontrols.desired.encryption import ENCRYPTION_KEY_DESCRIPTION, EncryptionKeySetting, KeyChecks
from datacontrols.desired.enforcement import Enforcement, EnforcementLevel, resolve_enforcement
from datacontrols.desired.limits import (
    RATE_LIMITS_DESCRIPTION,
    SPEND_ALERTS_DESCRIPTION,
    SPEND_LIMIT_DESCRIPTION,
    LimitChecks,
    RateLimits,
    SpendAlerts,
    SpendLimitSetting,
    merge_rate_limits,
    not_null_in_schema,
)
from datacontrols.desired.members import (
    INVITE_MISSING_USERS_DESCRIPTION,
    KEYS_DESCRIPTION,
    MEMBERS_DESCRIPTION,
    KeyHygiene,
    Members,
)
from datacontrols.desired.model import DesiredModel
from datacontrols.desired.organization_members import (
    ORGANIZATION_GROUPS_DESCRIPTION,
    ORGANIZATION_USERS_DESCRIPTION,
    OrganizationGroupsSetting,
    OrganizationUsersSetting,
)
from datacontrols.desired.policy import POLICY_DESCRIPTION, Policy
from datacontrols.desired.roles import (
    PROJECT_ROLE_ASSIGNMENTS_DESCRIPTION,
    ROLE_ASSIGNMENTS_DESCRIPTION,
    ROLES_DESCRIPTION,
    RoleAssignments,
    Roles,
)
from datacontrols.desired.safety import SAFETY_DESCRIPTION, SafetySettings
from datacontrols.desired.service_tiers import (
    SERVICE_TIERS_DESCRIPTION,
    ServiceTierChecks,
    ServiceTiersSetting,
    merge_service_tiers,
)
from datacontrols.desired.storage import EXTERNAL_STORAGE_DESCRIPTION, ExternalStorageSetting, StorageChecks
from datacontrols.desired.workload_identity import WORKLOAD_IDENTITY_DESCRIPTION, WorkloadIdentitySetting

__all__ = [
    "DesiredModel",
    "DesiredState",
    "ModelPolicy",
    "OrganizationFile",
    "OrganizationSettings",
    "ProjectDefaults",
    "ProjectFile",
    "ProjectSettings",
]


def _visible(value: str) -> str:
    """A name shows every character it holds: a zero-width space or a control character would make two
    names that look the same plan two projects (which cannot be deleted)."""
    for index, char in enumerate(value, start=1):
        if char != " " and unicodedata.category(char) in _HIDDEN_CATEGORIES:
            raise ValueError(
                f"holds an invisible or control character (U+{ord(char):04X}) at character {index}; remove it"
            )
    return value


# Control, format (zero-width, bidi), surrogate, and separators other than the plain space.
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp", "Zs"})

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255), AfterValidator(_visible)]
ModelId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class ModelPolicy(DesiredModel):
    """An allow list or deny list of model ids. Order does not matter; duplicates are an error."""

    mode: Literal["allow_list", "deny_list"] = Field(
        description="allow_list: only these models; deny_list: all but these"
    )
    model_ids: list[ModelId] = Field(description="Model ids, e.g. gpt-4.1, o3")

    # A field validator (not a model validator) so that a problem is reported at `model_ids`, not at the
    # whole policy; `mode` is validated first (field order), so it is in `info.data` when it is valid.
    @field_validator("model_ids")
    @classmethod
    def _check_ids(cls, model_ids: list[str], info: ValidationInfo) -> list[str]:
        seen: set[str] = set()
        for model_id in model_ids:
            if model_id in seen:
                raise ValueError(f"model id {model_id!r} is listed twice")
            seen.add(model_id)
        if info.data.get("mode") == "allow_list" and not model_ids:
            raise ValueError("an empty allow_list blocks every model; use `unrestricted` to remove the policy")
        return model_ids


ModelPermissionsSetting = Literal["unrestricted"] | ModelPolicy
HostedTools = dict[HostedTool, bool]


class ProjectSettings(DesiredModel):
    """The settings a project can have, shared by `project_defaults` and project files."""

    data_retention: ProjectRetentionType | None = Field(
        default=None,
        description="organization_default inherits the organization's setting; none is standard retention",
    )
    hosted_tools: HostedTools | None = Field(
        default=None, description="Only the tools named are managed: true enables, false disables"
    )
    model_permissions: ModelPermissionsSetting | None = Field(
        default=None, description="`unrestricted` (no policy) or {mode: allow_list|deny_list, model_ids: [...]}"
    )
    rate_limits: RateLimits | None = Field(
        default=None, description=RATE_LIMITS_DESCRIPTION, json_schema_extra=not_null_in_schema
    )
    spend_limit: SpendLimitSetting | None = Field(
        default=None, description=SPEND_LIMIT_DESCRIPTION, json_schema_extra=not_null_in_schema
    )
    spend_alerts: SpendAlerts | None = Field(
        default=None, description=SPEND_ALERTS_DESCRIPTION, json_schema_extra=not_null_in_schema
    )
    keys: KeyHygiene | None = Field(default=None, description=KEYS_DESCRIPTION)
    external_storage: ExternalStorageSetting | None = Field(
        default=None, description=EXTERNAL_STORAGE_DESCRIPTION, json_schema_extra=not_null_in_schema
    )
    service_tiers: ServiceTiersSetting | None = Field(
        default=None, description=SERVICE_TIERS_DESCRIPTION, json_schema_extra=not_null_in_schema
    )
    certificates: ProjectCertificates | None = Field(
        default=None, description=PROJECT_CERTIFICATES_DESCRIPTION, json_schema_extra=not_null_in_schema
    )
    encryption_key: EncryptionKeySetting | None = Field(
        default=None, description=ENCRYPTION_KEY_DESCRIPTION, json_schema_extra=not_null_in_schema
    )
    roles: Roles | None = Field(default=None, description=ROLES_DESCRIPTION, json_schema_extra=not_null_in_schema)


class ProjectDefaults(ProjectSettings, LimitChecks, StorageChecks, ServiceTierChecks, KeyChecks):
    """Applied to every project file unless the project says otherwise."""


class OrganizationSettings(LimitChecks, DesiredModel):
    """Settings of the organization itself."""

    data_retention: OrganizationRetentionType | None = Field(
        default=None, description="The organization's data retention; absent = not managed"
    )
    spend_limit: SpendLimitSetting | None = Field(
        default=None, description=SPEND_LIMIT_DESCRIPTION, json_schema_extra=not_null_in_schema
    )
    spend_alerts: SpendAlerts | None = Field(
        default=None, description=SPEND_ALERTS_DESCRIPTION, json_schema_extra=not_null_in_schema
    )
    workload_identity: WorkloadIdentitySetting | None = Field(
        default=None, description=WORKLOAD_IDENTITY_DESCRIPTION, json_schema_extra=not_null_in_schema
    )
    certificates: dict[Name, CertificateSetting] | None = Field(
        default=None, description=CERTIFICATES_DESCRIPTION, json_schema_extra=not_null_in_schema
    )
    roles: Roles | None = Field(default=None, description=ROLES_DESCRIPTION, json_schema_extra=not_null_in_schema)
    role_assignments: RoleAssignments | None = Field(
        default=None, description=ROLE_ASSIGNMENTS_DESCRIPTION, json_schema_extra=not_null_in_schema
    )
    admin_keys: AdminKeyRules | None = Field(
        default=None, description=ADMIN_KEYS_DESCRIPTION, json_schema_extra=not_null_in_schema
    )
    users: OrganizationUsersSetting | None = Field(
        default=None, description=ORGANIZATION_USERS_DESCRIPTION, json_schema_extra=not_null_in_schema
    )
    groups: OrganizationGroupsSetting | None = Field(
        default=None, description=ORGANIZATION_GROUPS_DESCRIPTION, json_schema_extra=not_null_in_schema
    )


def _variable_name(value: str) -> str:
    if not re.fullmatch(r"[A-Z_][A-Z0-9_]*", value):
        # Never echoed: the value may be the key itself, pasted where its variable's name belongs.
        raise ValueError("must be an environment variable's name, like OPENAI_ADMIN_KEY_PROD (never the key)")
    return value


# The name of the variable holding an admin key (checked here for a clear message; the schema's pattern is
# for editors).
KeyVariable = Annotated[
    str,
    AfterValidator(_variable_name),
    WithJsonSchema({"type": "string", "pattern": "^[A-Z_][A-Z0-9_]*$"}),
]


class Identity(DesiredModel):
    """Which organization this desired state belongs to (see `datacontrols.identity`)."""

    default_project_id: Name = Field(
        description="The id of the organization's default project (its oldest); a run against another "
        "organization stops before any write. `reconcile export` writes it."
    )
    admin_key_env: KeyVariable | None = Field(
        default=None,
        description="The environment variable holding this organization's admin key (the name, never the "
        "key), for a repository of several organizations (orgs/NAME/). [OPENAI_ADMIN_KEY]; --admin-key-file wins",
        json_schema_extra=not_null_in_schema,
    )


class OrganizationFile(DesiredModel):
    """`desired_state/organization.yaml`."""

    identity: Identity | None = Field(
        default=None,
        description="The organization this desired state belongs to; without it a run warns and goes on",
        json_schema_extra=not_null_in_schema,
    )

    organization: OrganizationSettings = Field(
        default_factory=OrganizationSettings, description="Settings of the organization itself"
    )
    project_defaults: ProjectDefaults = Field(
        default_factory=ProjectDefaults,
        description="Settings applied to every project file unless the project says otherwise",
    )
    unmanaged_projects: Literal["report", "ignore", "archive"] = Field(
        default="report", description="What to do with live projects that have no file"
    )
    invite_missing_users: bool = Field(default=False, description=INVITE_MISSING_USERS_DESCRIPTION)
    enforcement: Enforcement = Field(
        default_factory=Enforcement,
        description="Per-group enforcement levels (enforce, report, ignore) for every project; project files "
        "may override them",
    )
    safety: SafetySettings = Field(default_factory=SafetySettings, description=SAFETY_DESCRIPTION)
    policy: Policy | None = Field(default=None, description=POLICY_DESCRIPTION, json_schema_extra=not_null_in_schema)


class ProjectFile(ProjectSettings, LimitChecks, StorageChecks, ServiceTierChecks, KeyChecks):
    """`desired_state/projects/<any-name>.yaml`: one project."""

    name: Name = Field(description="The project's name; projects are matched by name")
    id: Name | None = Field(default=None, description="Optional pin to a project id; a differing live name is renamed")
    residency: Residency | None = Field(default=None, description="Only settable at creation")
    external_key_id: str | None = Field(
        default=None, description="Enterprise Key Management key id; null clears it, absent leaves it unmanaged"
    )
    status: Literal["active", "archived"] = Field(default="active", description="archived is one-way")
    members: Members | None = Field(default=None, description=MEMBERS_DESCRIPTION)
    role_assignments: RoleAssignments | None = Field(
        default=None, description=PROJECT_ROLE_ASSIGNMENTS_DESCRIPTION, json_schema_extra=not_null_in_schema
    )
    enforcement: Enforcement | None = Field(
        default=None, description="This project's enforcement levels, overriding organization.yaml's group by group"
    )
    protected: bool = Field(
        default=False,
        description="true: never archived and never loses an owner, whatever the plan says (such changes are "
        "shown, not applied)",
    )

    @property
    def manages_external_key(self) -> bool:
        return "external_key_id" in self.model_fields_set


class DesiredState(BaseModel):
    """Everything loaded from a desired-state directory, defaults not yet merged."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    organization: OrganizationFile = Field(default_factory=OrganizationFile)
    projects: tuple[ProjectFile, ...] = ()
    sources: dict[str, str] = Field(default_factory=dict, description="project name -> file it came from")
    warnings: tuple[str, ...] = Field(
        default=(), description="positioned lines about valid but suspicious files (look-alike names)"
    )
    certificates: dict[str, str] = Field(
        default_factory=dict, description="certificate name -> its PEM, read by the loader from its file"
    )

    def enforcement(self, group: str | None, project: ProjectFile | None = None) -> EnforcementLevel:
        """The enforcement level of a kind group (None: project lifecycle), for a project or the organization."""
        return resolve_enforcement(self.organization.enforcement, project.enforcement if project else None, group)

    def effective(self, project: ProjectFile) -> ProjectSettings:
        """A project's settings with `project_defaults` filled in where the project is silent.

        Walks `ProjectSettings`' own fields, so a setting added there is merged without an edit here: the
        project's value wins unless it is absent; `_MERGED` names the fields merged entry by entry instead.
        """
        defaults = self.organization.project_defaults
        merged: dict[str, Any] = {}
        for name in ProjectSettings.model_fields:
            own, default = getattr(project, name), getattr(defaults, name)
            merge = _MERGED.get(name)
            merged[name] = merge(default, own) if merge is not None else (own if own is not None else default)
        return ProjectSettings(**merged)


def _merge_tools(defaults: HostedTools | None, own: HostedTools | None) -> HostedTools | None:
    if defaults is None and own is None:
        return None
    return {**(defaults or {}), **(own or {})}


# Settings whose project value merges with the default entry by entry (a tool, a model's rate limit) instead
# of replacing it whole.
_MERGED: Final[dict[str, Callable[[Any, Any], Any]]] = {
    "hosted_tools": _merge_tools,
    "rate_limits": merge_rate_limits,
    "service_tiers": merge_service_tiers,
}
