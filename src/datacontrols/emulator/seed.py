"""Seed and dump: an organization's state as a YAML or JSON document, so a user can reproduce it offline.

    organization:
      data_retention: modified_abuse_monitoring
      approved_retention_types: [zero_data_retention, modified_abuse_monitoring]
      approved_residencies: null            # optional; null = every residency is available
    projects:
      - id: proj_...                        # optional: generated when absent
        name: Support Bot
        residency: EU_STORAGE_PROCESSING    # default GLOBAL
        status: active                      # or archived
        default: false                      # at most one project is the default
        external_key_id: null
        data_retention: zero_data_retention # default organization_default
        model_permissions: {mode: allow_list, model_ids: [gpt-4.1]}   # or null: no policy
        hosted_tools: {web_search: true, mcp: false}                  # tools left out are enabled
        rate_limits: {gpt-4.1: {max_requests_per_1_minute: 500}}      # limits, spend: see limits_seed.py
        spend_limit: {threshold_amount: 50000}                        # cents; null: none
        spend_alerts: [{threshold_amount: 25000, recipients: [finops@example.com]}]
        external_storage:                   # customer-managed storage (the SDK's shapes, not in the spec)
          - {provider: {type: aws, bucket: acme-eu, role_arn: "arn:aws:iam::123456789012:role/openai",
                        region: eu-west-1}, status: unhealthy}   # id optional; geography from the region;
                                                                 # status default validated
        service_tiers: {default: standard, enabled_tiers: [flex]}   # default: standard and all
        created_at: 1711471533              # optional: the emulator clock when absent
        archived_at: null                   # optional; only for archived projects
    external_keys: [{name: acme-prod, type: aws, kms_arn: ...}]   # encryption keys: see keys_seed.py

`dump_state` writes the same shape with every field filled in, so `load_seed(dump_state(s))` gives `s` back.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from ruamel.yaml import YAML

from datacontrols.adminapi.external_storage import PROVIDERS
from datacontrols.adminapi.permissions import HOSTED_TOOLS, HostedTool
from datacontrols.adminapi.projects import Residency
from datacontrols.adminapi.retention import (
    ORGANIZATION_RETENTION_TYPES,
    OrganizationRetentionType,
    ProjectRetentionType,
)
from datacontrols.emulator.certificates_seed import (
    SeedCertificate,
    certificates_from_seed,
    check_certificates,
    dump_certificates,
)
from datacontrols.emulator.keys_seed import SeedExternalKey, dump_keys, keys_from_seed
from datacontrols.emulator.limits_seed import (
    SeedRateLimit,
    SeedSpendAlert,
    SeedSpendLimit,
    alerts_from_seed,
    check_alert_ids,
    check_organization_rate_limits,
    check_project_rate_limits,
    default_seed_model_rate_limits,
    dump_alerts,
    dump_rate_limits,
    dump_spend_limit,
)
from datacontrols.emulator.members_seed import (
    SeedAdminKey,
    SeedApiKey,
    SeedGroup,
    SeedInvite,
    SeedProjectGroup,
    SeedProjectUser,
    SeedServiceAccount,
    SeedUser,
    access_from_seed,
    check_access,
    dump_organization_access,
    dump_project_access,
)
from datacontrols.emulator.roles_seed import SeedRole, SeedRoleAssignment, check_roles, dump_roles, roles_from_seed
from datacontrols.emulator.routes.external_storage import derive_provider, geography_of
from datacontrols.emulator.state import (
    DEFAULT_ORGANIZATION_RETENTION,
    EmulatorState,
    ExternalStorageRecord,
    IdFactory,
    ModelPolicy,
    OrganizationRecord,
    ProjectRecord,
)
from datacontrols.errors import ConfigError

__all__ = [
    "SeedDocument",
    "SeedError",
    "SeedSource",
    "dump_state",
    "load_seed",
    "read_document",
    "state_from_seed",
    "write_document",
]

SeedSource = str | os.PathLike[str] | Mapping[str, Any]


class SeedError(ConfigError):
    """A seed file is unreadable or does not describe a valid organization."""


class _SeedModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class SeedModelPermissions(_SeedModel):
    mode: Literal["allow_list", "deny_list"]
    model_ids: list[str]


class SeedExternalStorage(_SeedModel):
    """A project's external storage configuration; the provider's derived fields are filled in when absent."""

    id: str | None = None
    provider: dict[str, str]
    geography: str | None = None  # None: derived from the provider's region
    status: Literal["pending", "validated", "degraded", "unhealthy"] = "validated"
    created_at: int | None = None

    @model_validator(mode="after")
    def _provider_has_a_type(self) -> SeedExternalStorage:
        if self.provider.get("type") not in PROVIDERS:
            raise ValueError(f"provider.type must be one of {', '.join(PROVIDERS)}")
        return self


class SeedServiceTiers(_SeedModel):
    """A project's service tiers, as `GET .../service_tier_settings` answers them (the SDK's shape)."""

    default: Literal["standard", "fast", "scale"] = "standard"
    enabled_tiers: Literal["all"] | list[Literal["flex", "fast", "ultrafast"]] = "all"


class SeedProject(_SeedModel):
    id: str | None = None
    name: str = Field(min_length=1)
    residency: Residency = "GLOBAL"
    status: Literal["active", "archived"] = "active"
    default: bool = False
    external_key_id: str | None = None
    data_retention: ProjectRetentionType = "organization_default"
    model_permissions: SeedModelPermissions | None = None
    hosted_tools: dict[HostedTool, bool] = Field(default_factory=dict)
    created_at: int | None = None
    archived_at: int | None = None
    rate_limits: dict[str, SeedRateLimit] = Field(default_factory=dict)
    spend_limit: SeedSpendLimit | None = None
    spend_alerts: list[SeedSpendAlert] = Field(default_factory=list)
    users: list[SeedProjectUser] = Field(default_factory=list)  # access: see members_seed.py
    groups: list[SeedProjectGroup] = Field(default_factory=list)
    service_accounts: list[SeedServiceAccount] = Field(default_factory=list)
    api_keys: list[SeedApiKey] = Field(default_factory=list)
    external_storage: list[SeedExternalStorage] = Field(default_factory=list)
    service_tiers: SeedServiceTiers = Field(default_factory=SeedServiceTiers)

    @model_validator(mode="after")
    def _archive_fields_agree(self) -> SeedProject:
        if self.archived_at is not None and self.status != "archived":
            raise ValueError("archived_at is set but status is not archived")
        if self.default and self.status == "archived":
            raise ValueError("the default project cannot be archived")
        return self


class SeedOrganization(_SeedModel):
    data_retention: OrganizationRetentionType = DEFAULT_ORGANIZATION_RETENTION  # type: ignore[assignment]
    approved_retention_types: list[OrganizationRetentionType] = Field(
        default_factory=lambda: list(ORGANIZATION_RETENTION_TYPES)  # type: ignore[arg-type]
    )
    approved_residencies: list[Residency] | None = None
    model_rate_limits: dict[str, SeedRateLimit] = Field(default_factory=default_seed_model_rate_limits)
    spend_limit: SeedSpendLimit | None = None
    spend_alerts: list[SeedSpendAlert] = Field(default_factory=list)


class SeedDocument(_SeedModel):
    organization: SeedOrganization = Field(default_factory=SeedOrganization)
    projects: list[SeedProject] = Field(default_factory=list)
    users: list[SeedUser] = Field(default_factory=list)  # access: see members_seed.py
    groups: list[SeedGroup] = Field(default_factory=list)
    invites: list[SeedInvite] = Field(default_factory=list)
    admin_api_keys: list[SeedAdminKey] = Field(default_factory=list)
    external_keys: list[SeedExternalKey] = Field(default_factory=list)  # encryption keys: see keys_seed.py
    roles: list[SeedRole] = Field(default_factory=list)  # see roles_seed.py
    role_assignments: list[SeedRoleAssignment] = Field(default_factory=list)
    certificates: list[SeedCertificate] = Field(default_factory=list)  # see certificates_seed.py

    @model_validator(mode="after")
    def _access_resolves(self) -> SeedDocument:
        check_access(self)
        check_roles(self)
        check_certificates(self)
        return self

    @model_validator(mode="after")
    def _unique(self) -> SeedDocument:
        ids = [p.id for p in self.projects if p.id is not None]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"project ids used twice: {', '.join(duplicates)}")
        storage = [s.id for p in self.projects for s in p.external_storage if s.id is not None]
        if len(storage) != len(set(storage)):
            raise ValueError("an external storage id is used twice")
        keys = [k.id for k in self.external_keys if k.id is not None]
        if len(keys) != len(set(keys)):
            raise ValueError("an external key id is used twice")
        if sum(p.default for p in self.projects) > 1:
            raise ValueError("more than one project is marked default")
        return self

    @model_validator(mode="after")
    def _limits_fit(self) -> SeedDocument:
        check_organization_rate_limits(self.organization.model_rate_limits)
        for project in self.projects:
            check_project_rate_limits(project.name, project.rate_limits, self.organization.model_rate_limits)
        check_alert_ids([self.organization.spend_alerts, *(p.spend_alerts for p in self.projects)])
        return self


def load_seed(source: SeedSource | SeedDocument) -> SeedDocument:
    """Read and validate a seed: a mapping, or a path to a YAML (.yaml/.yml) or JSON (.json) file."""
    if isinstance(source, SeedDocument):
        return source
    data = source if isinstance(source, Mapping) else read_document(source)
    try:
        return SeedDocument.model_validate(dict(data))
    except ValidationError as exc:
        where = f"{os.fspath(source)}: " if not isinstance(source, Mapping) else ""
        first = exc.errors(include_input=False)[0]
        loc = ".".join(str(part) for part in first["loc"])
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise SeedError(f"{where}invalid seed at {loc or 'top level'}: {first['msg']}{more}") from None


def state_from_seed(seed: SeedDocument, ids: IdFactory, now: int) -> EmulatorState:
    """Build a fresh state; ids and timestamps the seed leaves out are generated."""
    org = seed.organization
    state = EmulatorState(
        organization=OrganizationRecord(
            data_retention=org.data_retention,
            approved_retention_types=list(org.approved_retention_types),
            approved_residencies=list(org.approved_residencies) if org.approved_residencies is not None else None,
            model_rate_limits={model: row.limits() for model, row in org.model_rate_limits.items()},
            spend_limit=org.spend_limit.threshold_amount if org.spend_limit is not None else None,
        )
    )
    every_alert = [a for alerts in (org.spend_alerts, *(p.spend_alerts for p in seed.projects)) for a in alerts]
    alert_ids = {a.id for a in every_alert if a.id is not None}
    taken = {p.id for p in seed.projects if p.id is not None}
    for entry in seed.projects:
        project_id = entry.id
        while project_id is None or (entry.id is None and project_id in taken):
            project_id = ids.resource("proj_")
        taken.add(project_id)
        created_at = entry.created_at if entry.created_at is not None else now
        archived_at = entry.archived_at
        if entry.status == "archived" and archived_at is None:
            archived_at = max(created_at, now)
        policy = entry.model_permissions
        state.projects[project_id] = ProjectRecord(
            id=project_id,
            name=entry.name,
            created_at=created_at,
            residency=entry.residency,
            status=entry.status,
            archived_at=archived_at,
            external_key_id=entry.external_key_id,
            default=entry.default,
            data_retention=entry.data_retention,
            model_permissions=ModelPolicy(policy.mode, list(policy.model_ids)) if policy else None,
            hosted_tools={tool: entry.hosted_tools.get(tool, True) for tool in HOSTED_TOOLS},  # type: ignore[call-overload]
            rate_limits={model: row.limits() for model, row in entry.rate_limits.items()},
            spend_limit=entry.spend_limit.threshold_amount if entry.spend_limit is not None else None,
            spend_alerts=alerts_from_seed(entry.spend_alerts, ids, alert_ids),
            service_tier_default=entry.service_tiers.default,
            enabled_service_tiers=(
                entry.service_tiers.enabled_tiers
                if isinstance(entry.service_tiers.enabled_tiers, str)
                else list(entry.service_tiers.enabled_tiers)
            ),
        )
        for storage in entry.external_storage:
            _add_storage(state, project_id, storage, ids, created_at)
    state.organization.spend_alerts = alerts_from_seed(org.spend_alerts, ids, alert_ids)
    access_from_seed(seed, state, ids, now)
    keys_from_seed(seed.external_keys, state, ids, now)
    roles_from_seed(seed, state, ids, now)
    certificates_from_seed(seed, state, ids, now)
    return state


def _add_storage(
    state: EmulatorState, project_id: str, entry: SeedExternalStorage, ids: IdFactory, created_at: int
) -> None:
    taken = {s.id for s in state.external_storage.values()}
    storage_id = entry.id if entry.id is not None else ids.unused("extstore_", taken)
    provider = derive_provider(entry.provider, ids.resource("", 32))
    state.external_storage[storage_id] = ExternalStorageRecord(
        id=storage_id,
        project_id=project_id,
        provider=provider,
        geography=entry.geography if entry.geography is not None else geography_of(provider.get("region")),
        status=entry.status,
        created_at=entry.created_at if entry.created_at is not None else created_at,
    )


def _dump_storage(state: EmulatorState, project_id: str) -> list[dict[str, Any]]:
    return [
        {
            "id": s.id,
            "provider": dict(s.provider),
            "geography": s.geography,
            "status": s.status,
            "created_at": s.created_at,
        }
        for s in state.external_storage.values()
        if s.project_id == project_id
    ]


def dump_state(state: EmulatorState) -> dict[str, Any]:
    """The state as a seed document (plain JSON-compatible data)."""
    org = state.organization
    return {
        "organization": {
            "data_retention": org.data_retention,
            "approved_retention_types": list(org.approved_retention_types),
            "approved_residencies": list(org.approved_residencies) if org.approved_residencies is not None else None,
            "model_rate_limits": dump_rate_limits(org.model_rate_limits),
            "spend_limit": dump_spend_limit(org.spend_limit),
            "spend_alerts": dump_alerts(org.spend_alerts),
        },
        "projects": [
            {
                "id": p.id,
                "name": p.name,
                "residency": p.residency,
                "status": p.status,
                "default": p.default,
                "external_key_id": p.external_key_id,
                "data_retention": p.data_retention,
                "model_permissions": (
                    {"mode": p.model_permissions.mode, "model_ids": list(p.model_permissions.model_ids)}
                    if p.model_permissions is not None
                    else None
                ),
                "hosted_tools": {tool: p.hosted_tools[tool] for tool in HOSTED_TOOLS},
                "created_at": p.created_at,
                "archived_at": p.archived_at,
                "rate_limits": dump_rate_limits(p.rate_limits),
                "spend_limit": dump_spend_limit(p.spend_limit),
                "spend_alerts": dump_alerts(p.spend_alerts),
                **dump_project_access(p),
                "external_storage": _dump_storage(state, p.id),
                "service_tiers": {
                    "default": p.service_tier_default,
                    "enabled_tiers": p.enabled_service_tiers
                    if isinstance(p.enabled_service_tiers, str)
                    else list(p.enabled_service_tiers),
                },
            }
            for p in state.projects.values()
        ],
        **dump_organization_access(state),
        "external_keys": dump_keys(state),
        **dump_roles(state),
        "certificates": dump_certificates(state),
    }


def _yaml() -> YAML:
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.sort_base_mapping_type_on_output = False  # type: ignore[assignment]  # keep the field order
    return yaml


def read_document(path: str | os.PathLike[str]) -> Mapping[str, Any]:
    """Read a YAML or JSON file (by extension; anything not .json is read as YAML)."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise SeedError(f"{file}: cannot read: {exc.strerror}") from None
    try:
        data = json.loads(text) if file.suffix.lower() == ".json" else _yaml().load(text)
    except Exception as exc:  # ruamel raises many types; every one means "not a valid document"
        raise SeedError(f"{file}: not valid {'JSON' if file.suffix.lower() == '.json' else 'YAML'}: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise SeedError(f"{file}: the top level must be a mapping")
    return data


def write_document(path: str | os.PathLike[str], data: Mapping[str, Any]) -> None:
    """Write a document as JSON (.json) or YAML (anything else), replacing the file atomically."""
    file = Path(path)
    if file.suffix.lower() == ".json":
        text = json.dumps(data, indent=2) + "\n"
    else:
        buffer = io.StringIO()
        _yaml().dump(dict(data), buffer)
        text = buffer.getvalue()
    temporary = file.with_name(f".{file.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(file)
