"""`reconcile explain`: is this project's traffic really zero data retention?

For each live project: its own retention setting, what it resolves to (the organization's setting when it
inherits), its residency, where its data is stored (OpenAI, or the customer's external storage and its
status), which key encrypts it (OpenAI's, or the customer's and whether it can be used), hosted tools and
model policy, and the caveats that a retention setting alone does not cover.
Read-only; it reads every project it shows, whether or not the desired state manages it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from typing import Any

from datacontrols.adminapi import AdminApi
from datacontrols.adminapi.external_storage import ExternalStorageConfiguration
from datacontrols.adminapi.projects import Project
from datacontrols.desired.schema import DesiredState
from datacontrols.errors import ApiError, ConfigError
from datacontrols.explain_access import AccessExplanation, AdminKeysExplanation, explain_access, explain_admin_keys
from datacontrols.explain_federation import read_federation
from datacontrols.explain_keys import binding_json, encryption_line, read_keys
from datacontrols.kinds.api_keys import PROJECT_API_KEY, ObservedKeys
from datacontrols.kinds.encryption_key import KIND as ENCRYPTION_KEY
from datacontrols.kinds.encryption_key import KeyBinding
from datacontrols.kinds.external_storage import FAILING_STATUSES, describe_storage
from datacontrols.kinds.external_storage import KIND as EXTERNAL_STORAGE
from datacontrols.kinds.key_scopes import read_scopes
from datacontrols.kinds.membership import PROJECT_USER
from datacontrols.kinds.policy import RuleStanding, live_standing
from datacontrols.kinds.protection import effective_retention

__all__ = [
    "STORE_NOTE",
    "Explanation",
    "ProjectExplanation",
    "explain_organization",
    "explanation_json",
    "render_explanation",
]

ZDR = frozenset({"zero_data_retention", "enhanced_zero_data_retention"})
MAM = frozenset({"modified_abuse_monitoring", "enhanced_modified_abuse_monitoring"})

STORE_NOTE = (
    "Note: there is no `data_usage` request parameter in the OpenAI API; sending one changes nothing.\n"
    "Zero data retention comes from the organization's and each project's data retention settings, which\n"
    "this tool keeps as declared. Per request, `store` decides whether a response is kept: Chat Completions\n"
    "defaults to false, Responses defaults to true; under zero data retention the API treats it as false.\n"
)


@dataclass
class ProjectExplanation:
    name: str
    id: str
    residency: str
    retention_setting: str | None
    effective_retention: str | None
    hosted_tools: dict[str, bool]
    model_policy: str
    desired_effective_retention: str | None = None
    caveats: list[str] = field(default_factory=list)
    access: list[tuple[str, str]] = field(default_factory=list)  # members and key findings (explain_access.py)
    # The project's external storage configurations; None: they could not be read (`storage_error` says why).
    external_storage: list[ExternalStorageConfiguration] | None = field(default_factory=list)
    storage_error: str | None = None
    policy: list[RuleStanding] | None = None  # each rule of organization.yaml's `policy:`; None: no policy
    # The key that encrypts the project's data; None: it could not be read (`key_error` says why).
    key_binding: KeyBinding | None = None
    key_error: str | None = None

    @property
    def encryption(self) -> str:
        return encryption_line(self.key_binding, self.key_error)

    @property
    def storage(self) -> str:
        """Where the project's data is stored, and the status of each customer-managed configuration."""
        if self.external_storage is None:
            return f"unknown: external storage could not be read ({self.storage_error})"
        if not self.external_storage:
            return "OpenAI (no external storage)"
        return "; ".join(_storage_line(config) for config in self.external_storage)

    @property
    def verdict(self) -> str:
        if self.effective_retention in ZDR:
            return "yes: zero data retention"
        if self.effective_retention in MAM:
            return "no: modified abuse monitoring (content kept out of abuse logs, application state may persist)"
        if self.effective_retention is None:
            return "unknown: the retention setting could not be read"
        return "no: standard retention (abuse-monitoring logs up to 30 days)"


@dataclass
class Explanation:
    organization_retention: str | None
    projects: list[ProjectExplanation]
    admin_keys: AdminKeysExplanation | None = None  # only when organization: admin_keys: is declared


async def explain_organization(api: AdminApi, desired: DesiredState | None, *, only: str | None = None) -> Explanation:
    projects = [p for p in await api.projects.list() if not p.archived]
    if only is not None:
        projects = [p for p in projects if p.name == only]
        if not projects:
            raise ConfigError(f"--project {only!r}: no active project of that name in the organization")
    try:
        org_retention: str | None = (await api.retention.get_organization()).type
    except ApiError:
        org_retention = None
    one_id = projects[0].id if only is not None and len(projects) == 1 else None
    storage_by_project, storage_error = await _read_storage(api, one_id)
    keys = await read_keys(api, projects)
    federation = await read_federation(api)  # once for the organization: rules live under their provider
    desired_by_name = {p.name: p for p in desired.projects} if desired else {}
    desired_org = desired.organization.organization.data_retention if desired else None

    async def one(project: Project) -> ProjectExplanation:
        retention, policy, tools = await asyncio.gather(
            api.retention.get_project(project.id),
            api.model_permissions.get(project.id),
            api.hosted_tools.get(project.id),
        )
        enabled = tools.enabled()
        effective = effective_retention(retention.type, org_retention)
        explanation = ProjectExplanation(
            name=project.name or project.id,
            id=project.id,
            residency=project.effective_residency or "GLOBAL",
            retention_setting=retention.type,
            effective_retention=effective,
            hosted_tools=enabled,
            model_policy=(
                "unrestricted (no policy)"
                if policy is None
                else f"{policy.mode}: {', '.join(sorted(policy.model_ids))}"
            ),
        )
        wanted = desired_by_name.get(explanation.name)
        if wanted is not None and desired is not None:
            setting = desired.effective(wanted).data_retention
            explanation.desired_effective_retention = effective_retention(setting, desired_org or org_retention)
        if storage_error is None:
            explanation.external_storage = storage_by_project.get(project.id, [])
        else:
            explanation.external_storage, explanation.storage_error = None, storage_error
        explanation.key_binding, explanation.key_error = keys.binding(project), keys.error
        explanation.caveats = _caveats(effective, enabled)
        rules = desired.effective(wanted).keys if wanted is not None and desired is not None else None
        access = await explain_access(api, project.id, rules, federation=federation)
        explanation.access = access.lines
        if desired is not None and desired.organization.policy is not None:
            values: dict[str, Any] = {"project_data_retention": retention.type, "project_model_permissions": policy}
            if explanation.key_binding is not None:  # None: the key could not be read, so the rule is not read
                values[ENCRYPTION_KEY] = explanation.key_binding
            if explanation.external_storage is not None:  # likewise the storage
                values[EXTERNAL_STORAGE] = tuple(explanation.external_storage)
            values |= {"project_hosted_tools": enabled} | await _policy_values(api, project, desired, access)
            explanation.policy = live_standing(desired.organization.policy, project, values, org_retention)
        return explanation

    explained = await asyncio.gather(*(one(p) for p in projects))
    admin_rules = desired.organization.organization.admin_keys if desired is not None else None
    admin = await explain_admin_keys(api, admin_rules) if admin_rules is not None and only is None else None
    return Explanation(org_retention, sorted(explained, key=lambda e: e.name), admin_keys=admin)


async def _policy_values(
    api: AdminApi, project: Project, desired: DesiredState, access: AccessExplanation
) -> dict[str, Any]:
    """The policy's values explain does not read for its other lines: the keys (and their scopes, when the
    file's rules asked) come from the access part, not a second listing; the keys' scopes are one audit-log
    request when only the policy asks; the service tiers and the spend limit one request each, only when the
    policy has their rule."""
    values: dict[str, Any] = {}
    policy = desired.organization.policy
    if access.users is not None:
        values[PROJECT_USER] = access.users
    if access.keys is not None:
        scopes = access.scopes
        if scopes is None and policy is not None and policy.keys is not None and policy.keys.allowed_scopes:
            scopes = await read_scopes(api, access.keys)
        values[PROJECT_API_KEY] = ObservedKeys(keys=tuple(access.keys), now=int(time.time()), scopes=scopes)
    if policy is not None and policy.allowed_service_tiers is not None:
        with contextlib.suppress(ApiError):  # unreadable: the rule shows as not read
            values["project_service_tiers"] = await api.service_tiers.get(project.id)
    if policy is not None and policy.spend_bound is not None:
        with contextlib.suppress(ApiError):  # unreadable: the rule shows as not read
            values["spend_limit"] = await api.spend.get_limit(project_id=project.id)
    return values


async def _read_storage(
    api: AdminApi, project_id: str | None
) -> tuple[dict[str, list[ExternalStorageConfiguration]], str | None]:
    """Every project's external storage in one listing (or one project's); an error is shown, not raised."""
    try:
        configs = await api.external_storage.list(project_id=project_id)
    except ApiError as exc:
        return {}, exc.message
    found: dict[str, list[ExternalStorageConfiguration]] = {}
    for config in configs:
        found.setdefault(config.project_id, []).append(config)
    return found, None


def _storage_line(config: ExternalStorageConfiguration) -> str:
    status = config.status
    if status == "pending":
        status = "pending (registered, not yet validated)"
    elif status in FAILING_STATUSES:
        status = f"{status} (OpenAI cannot reliably reach it: check its access policy)"
    return f"customer-managed {describe_storage(config)}, {status}"


def _caveats(effective: str | None, tools: dict[str, bool]) -> list[str]:
    notes = []
    if effective in ZDR and tools.get("code_interpreter"):
        notes.append(
            "code interpreter is enabled, but OpenAI-hosted containers cannot be used under zero data retention"
        )
    if tools.get("mcp"):
        notes.append("MCP is enabled: remote MCP servers are third parties with their own retention")
    if tools.get("file_search"):
        notes.append("file search keeps files and vector stores until they are deleted (application state)")
    return notes


def _standing_word(rule: RuleStanding) -> str:
    return "met" if rule.met else "unknown" if rule.met is None else "BROKEN"


def render_explanation(explanation: Explanation) -> str:
    lines = [f"organization data retention: {explanation.organization_retention or '(unreadable)'}"]
    if explanation.admin_keys is not None:
        lines.extend(f"{label}: {text}" for label, text in explanation.admin_keys.lines())
    lines.append("")
    for p in explanation.projects:
        lines.append(f'project "{p.name}" ({p.id})')
        inherited = " (inherits the organization's)" if p.retention_setting == "organization_default" else ""
        lines.append(f"  zero data retention?  {p.verdict}")
        lines.append(f"  data retention        {p.retention_setting}{inherited} -> {p.effective_retention}")
        if p.desired_effective_retention is not None and p.desired_effective_retention != p.effective_retention:
            lines.append(f"  desired               {p.desired_effective_retention} (differs: run a plan)")
        lines.append(f"  residency             {p.residency}")
        lines.append(f"  data stored in        {p.storage}")
        lines.append(f"  data encrypted with   {p.encryption}")
        on = sorted(t for t, v in p.hosted_tools.items() if v)
        off = sorted(t for t, v in p.hosted_tools.items() if not v)
        enabled, disabled = ", ".join(on) or "none", ", ".join(off) or "none"
        lines.append(f"  hosted tools          enabled: {enabled}; disabled: {disabled}")
        lines.append(f"  models                {p.model_policy}")
        lines.extend(f"  {label:<21} {text}" for label, text in p.access)
        for rule in p.policy or ():
            lines.append(f"  {'policy':<21} {rule.rule}: {_standing_word(rule)}: {rule.detail}")
        lines.extend(f"  note: {c}" for c in p.caveats)
        lines.append("")
    return "\n".join(lines) + "\n" + STORE_NOTE


def explanation_json(explanation: Explanation) -> dict[str, Any]:
    """`reconcile explain --format json`: the same facts as the text, one document (format_version 1)."""
    return {
        "format_version": 1,
        "organization_data_retention": explanation.organization_retention,
        "admin_api_keys": _admin_keys_json(explanation.admin_keys),
        "projects": [
            {
                "name": p.name,
                "id": p.id,
                "zero_data_retention": p.effective_retention in ZDR if p.effective_retention is not None else None,
                "verdict": p.verdict,
                "data_retention": {
                    "setting": p.retention_setting,
                    "effective": p.effective_retention,
                    "desired": p.desired_effective_retention,
                },
                "residency": p.residency,
                "external_storage": (
                    None
                    if p.external_storage is None
                    else [
                        {
                            "id": c.id,
                            "provider": c.provider.type,
                            "location": c.provider.location,
                            "geography": c.geography,
                            "status": c.status,
                        }
                        for c in p.external_storage
                    ]
                ),
                "data_stored_in": p.storage,
                "encryption_key": binding_json(p.key_binding),
                "data_encrypted_with": p.encryption,
                "hosted_tools": dict(sorted(p.hosted_tools.items())),
                "models": p.model_policy,
                "access": [{"what": label, "detail": text} for label, text in p.access],
                "notes": list(p.caveats),
                "policy": None
                if p.policy is None
                else [{"rule": r.rule, "met": r.met, "detail": r.detail} for r in p.policy],
            }
            for p in explanation.projects
        ],
        "note": " ".join(STORE_NOTE.split()),
    }


def _admin_keys_json(admin: AdminKeysExplanation | None) -> dict[str, Any] | None:
    """None when `admin_keys:` is not declared (the keys were not read)."""
    if admin is None:
        return None
    findings = [{"key": f.label, "in_use": f.in_use, "problems": list(f.problems)} for f in admin.findings]
    return {"count": admin.count, "error": admin.error, "findings": findings}
