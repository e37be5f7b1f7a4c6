"""Enforcement levels: how strongly each group of controls is held to the desired state.

    enforcement:                 # organization.yaml (defaults) or a project file (overrides)
      default: enforce
      members: report
      keys: ignore

- `enforce`: planned and applied (by `reconcile --auto-approve` and by `reconcile serve --mode enforce`).
- `report`: planned and shown, never applied; the change's reason says it is held back.
- `ignore`: not read at all; its drift is invisible.

The level of a group for a project is the first one set of: the project's `<group>`, the project's `default`,
the organization's `<group>`, the organization's `default`; else `enforce`. Organization-wide controls use
the organization file only. Project lifecycle changes (create, rename, archive) belong to no group: they
follow `default`, and `ignore` there means `report` (a project must still be matched to manage anything).
"""

from __future__ import annotations

from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["ENFORCEMENT_GROUPS", "Enforcement", "EnforcementGroup", "EnforcementLevel", "resolve_enforcement"]

EnforcementLevel = Literal["enforce", "report", "ignore"]
# The `group` a kind declares (kinds/*.py); each is a field of `Enforcement` below, and a test holds the two
# together, so a group cannot exist in one place only.
EnforcementGroup = Literal[
    "data_retention",
    "residency",
    "hosted_tools",
    "model_permissions",
    "members",
    "keys",
    "limits",
    "external_storage",
    "service_tiers",
    "workload_identity",
    "certificates",
    "encryption_key",
    "roles",
]

_LEVEL_HELP = "enforce (apply), report (plan and show, never apply) or ignore (do not read)"


class Enforcement(BaseModel):
    """Per-group enforcement levels; a group left out follows `default` (then the organization's)."""

    # The same configuration as `schema.DesiredModel` (importing it here would make a cycle).
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    default: EnforcementLevel | None = Field(default=None, description=f"Every group not named: {_LEVEL_HELP}")
    data_retention: EnforcementLevel | None = Field(
        default=None, description=f"Organization and project data retention: {_LEVEL_HELP}"
    )
    residency: EnforcementLevel | None = Field(
        default=None, description=f"Project residency (never correctable; ignore hides its drift): {_LEVEL_HELP}"
    )
    hosted_tools: EnforcementLevel | None = Field(default=None, description=f"Hosted tool permissions: {_LEVEL_HELP}")
    model_permissions: EnforcementLevel | None = Field(
        default=None, description=f"Model allow and deny lists: {_LEVEL_HELP}"
    )
    members: EnforcementLevel | None = Field(
        default=None, description=f"Project users, groups, service accounts and invites: {_LEVEL_HELP}"
    )
    keys: EnforcementLevel | None = Field(default=None, description=f"Project API keys: {_LEVEL_HELP}")
    limits: EnforcementLevel | None = Field(
        default=None, description=f"Rate limits, spend limits and spend alerts: {_LEVEL_HELP}"
    )
    external_storage: EnforcementLevel | None = Field(
        default=None,
        description=f"Customer-managed external storage (report-only; ignore hides its findings): {_LEVEL_HELP}",
    )
    service_tiers: EnforcementLevel | None = Field(
        default=None, description=f"A project's default and enabled service tiers: {_LEVEL_HELP}"
    )
    workload_identity: EnforcementLevel | None = Field(
        default=None, description=f"Workload identity federation rules (organization.yaml): {_LEVEL_HELP}"
    )
    certificates: EnforcementLevel | None = Field(
        default=None, description=f"mTLS certificates, for the organization and per project: {_LEVEL_HELP}"
    )
    encryption_key: EnforcementLevel | None = Field(
        default=None,
        description=f"Customer-managed encryption keys (report-only; ignore hides its findings): {_LEVEL_HELP}",
    )
    roles: EnforcementLevel | None = Field(
        default=None, description=f"Custom roles and role assignments (RBAC): {_LEVEL_HELP}"
    )

    def get(self, group: str | None) -> EnforcementLevel | None:
        """This file's level for `group` (None: lifecycle), falling back to its own `default`."""
        own: EnforcementLevel | None = getattr(self, group, None) if group in ENFORCEMENT_GROUPS else None
        return own or self.default


# Derived from the model, not listed: a group is what `Enforcement` has a field for.
ENFORCEMENT_GROUPS: Final[tuple[str, ...]] = tuple(name for name in Enforcement.model_fields if name != "default")


def resolve_enforcement(
    organization: Enforcement | None, project: Enforcement | None, group: str | None
) -> EnforcementLevel:
    """The effective level: the project file's, else the organization file's, else `enforce`."""
    for scope in (project, organization):
        if scope is not None and (level := scope.get(group)) is not None:
            return "report" if group is None and level == "ignore" else level
    return "enforce"
