"""Workload identity federation (`workload_identity`): which external workloads act as which service account.

Read only when organization.yaml declares `organization.workload_identity`: the providers, every
provider's rules, and for each project that has a rule its name and service accounts (to name them). Then:

- a declared rule that is not live is created (critical: it lets tokens in without a key); one that differs
  is updated, critical when it admits more (a matcher dropped or changed, scopes widened or removed,
  enabled again), high when it admits less (workloads that use it may lose access);
- a live rule bound to another provider, project or service account than its file says cannot be moved
  (the API cannot re-point one): uncorrectable, delete it by hand or give the rule another name;
- every live rule the file does not declare is a finding (`additive`, high, with what it exposes) or is
  deleted (`authoritative`, high: workloads using it lose access);
- a provider that is not registered, or a project that is not live, is a report: providers are registered
  with the identity provider's owner, never by this tool.

Drift attribution uses the spec's audit events for providers and their mappings.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from datacontrols.adminapi.workload_identity import FederationRule, WorkloadIdentityProvider, permissions_body
from datacontrols.desired.schema import DesiredState
from datacontrols.desired.workload_identity import FederationRuleSetting, WorkloadIdentitySetting
from datacontrols.errors import NotFound
from datacontrols.kinds.base import OrganizationKind, World
from datacontrols.plan import OTHER_ID, Change, Facts, FieldChange, required

if TYPE_CHECKING:
    from datacontrols.adminapi import AdminApi
    from datacontrols.adminapi.one_writer import Claim
    from datacontrols.adminapi.projects import Project

__all__ = ["Federation", "FederationFacts", "WorkloadIdentityFederation"]

ORDER = 40  # after the projects and their service accounts exist


@dataclass(frozen=True)
class Federation:
    """What was read: providers, rules, and per project with a rule its name and service accounts (id -> name)."""

    providers: tuple[WorkloadIdentityProvider, ...] = ()
    rules: tuple[FederationRule, ...] = ()
    project_names: Mapping[str, str] = field(default_factory=dict)
    accounts: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class FederationFacts(Facts):
    provider_id: str = field(metadata=OTHER_ID)
    rule_id: str | None = None
    rule_name: str | None = None
    target_project_id: str | None = field(default=None, metadata=OTHER_ID)
    service_account: str | None = None  # by name: resolved at apply when the plan could not (a new account)
    service_account_id: str | None = field(default=None, metadata=OTHER_ID)


def _scopes(rule: FederationRule) -> list[str] | None:
    return rule.permissions.as_scopes()


def _admits_more(fields: Mapping[str, FieldChange]) -> list[str]:
    """What an update opens: matchers dropped or changed, scopes widened, the rule enabled again."""
    opened: list[str] = []
    if (matchers := fields.get("attribute_matchers")) is not None:
        before, after = matchers.before or {}, matchers.after or {}
        loosened = sorted(k for k in before if k not in after or before[k] != after[k])
        if loosened:
            opened.append(
                f"matches tokens whatever their {', '.join(loosened)}"
                if all(k not in after for k in loosened)
                else f"admits other tokens ({', '.join(loosened)} changed)"
            )
    if (scopes := fields.get("scopes")) is not None:
        if scopes.after is None:
            opened.append("gives the service account's default permissions instead of restricted scopes")
        elif scopes.before is not None and set(scopes.after) - set(scopes.before):
            opened.append(f"adds scopes {', '.join(sorted(set(scopes.after) - set(scopes.before)))}")
    if (enabled := fields.get("enabled")) is not None and enabled.after:
        opened.append("enables the rule")
    return opened


class WorkloadIdentityFederation(OrganizationKind):
    name = "workload_identity"
    group = "workload_identity"
    order = ORDER
    audit_event_types = (
        "workload_identity_provider.created",
        "workload_identity_provider.updated",
        "workload_identity_provider.deleted",
        "workload_identity_provider_mapping.created",
        "workload_identity_provider_mapping.updated",
        "workload_identity_provider_mapping.deleted",
    )
    exports = True

    def manages(self, desired: DesiredState) -> bool:
        return desired.organization.organization.workload_identity is not None

    def count_items(self, value: Any) -> int:
        return len(value.rules) if isinstance(value, Federation) else 0

    async def observe(self, api: AdminApi) -> Federation:
        providers = tuple(await api.workload_identity.providers())
        listed = await asyncio.gather(*(api.workload_identity.rules(p.id) for p in providers))
        rules = tuple(rule for batch in listed for rule in batch)
        project_ids = sorted({r.project_id for r in rules})
        projects, accounts = await asyncio.gather(
            asyncio.gather(*(api.projects.retrieve(pid) for pid in project_ids)),
            asyncio.gather(*(api.service_accounts.list(pid) for pid in project_ids)),
        )
        return Federation(
            providers=providers,
            rules=rules,
            project_names={p.id: p.name or p.id for p in projects},
            accounts={pid: {a.id: a.name for a in found} for pid, found in zip(project_ids, accounts, strict=True)},
        )

    def export(self, observed: Any) -> dict[str, Any] | None:
        if not isinstance(observed, Federation) or not observed.rules:
            return None
        providers = {p.id: p.name for p in observed.providers}
        rules: dict[str, Any] = {}
        for rule in sorted(observed.rules, key=lambda r: (r.name or r.id, r.id)):
            entry: dict[str, Any] = {
                "provider": providers.get(rule.workload_identity_provider_id, rule.workload_identity_provider_id),
                "project": observed.project_names.get(rule.project_id, rule.project_id),
                "service_account": observed.accounts.get(rule.project_id, {}).get(
                    rule.service_account_id, rule.service_account_id
                ),
                "attribute_matchers": dict(sorted(rule.attribute_matchers.items())),
            }
            if (scopes := _scopes(rule)) is not None:
                entry["scopes"] = scopes
            if not rule.enabled:
                entry["enabled"] = False
            rules[rule.name or rule.id] = entry
        return {"workload_identity": {"rules": rules}}

    def compare(self, desired: DesiredState, observed: Any, world: World) -> list[Change]:
        setting = desired.organization.organization.workload_identity
        if setting is None or not isinstance(observed, Federation):
            return []
        projects = {p.name: p for p in world.projects if p.name and not p.archived}
        matched: set[str] = set()
        changes: list[Change] = []
        for name, want in sorted(setting.rules.items()):
            live = [r for r in observed.rules if r.name == name] or [r for r in observed.rules if r.id == name]
            matched.update(r.id for r in live)
            changes += self._declared(name, want, live, observed, projects, desired)
        changes += [self._undeclared(rule, observed, setting) for rule in observed.rules if rule.id not in matched]
        return changes

    # --- one declared rule -----------------------------------------------------------------------------------

    def _declared(
        self,
        name: str,
        want: FederationRuleSetting,
        live: list[FederationRule],
        observed: Federation,
        projects: Mapping[str, Project],
        desired: DesiredState,
    ) -> list[Change]:
        providers = [p for p in observed.providers if p.name == want.provider]
        project = projects.get(want.project)
        if len(live) > 1:
            return [self._report(name, f"{len(live)} live rules are named {name!r}; rename or delete all but one")]
        if len(providers) != 1:
            why = "is not registered" if not providers else f"names {len(providers)} providers"
            return [self._report(name, f"provider {want.provider!r} {why}; providers are registered by hand")]
        if project is None:
            return [self._report(name, f"project {want.project!r} is not live; the rule is planned once it is")]
        provider = providers[0]
        accounts = observed.accounts.get(project.id)
        account_id = next((i for i, n in (accounts or {}).items() if n == want.service_account), None)
        if not live:
            if accounts is not None and account_id is None:
                # The organization's changes apply before the projects': an account this apply creates is
                # not there yet when the rule would be.
                later = (
                    " yet; the rule is planned on the run after it is created"
                    if _declared_account(desired, want)
                    else ""
                )
                return [self._report(name, f"{want.project} has no service account {want.service_account!r}{later}")]
            return [self._create(name, want, provider, project, account_id)]
        rule = live[0]
        moved = [
            what
            for what, differs in (
                ("provider", rule.workload_identity_provider_id != provider.id),
                ("project", rule.project_id != project.id),
                ("service account", rule.service_account_id != account_id),
            )
            if differs
        ]
        if moved:
            return [
                Change(
                    action="uncorrectable",
                    kind=self.name,
                    order=self.order,
                    project=None,
                    subject=name,
                    severity="high",
                    reason=f"the live rule is bound to another {' and '.join(moved)}, and a rule cannot be re-pointed; "
                    "delete it by hand, or give the declared rule another name",
                )
            ]
        fields = _differences(rule, want)
        if not fields:
            return []
        opened = _admits_more(fields)
        return [
            Change(
                action="update",
                kind=self.name,
                order=self.order,
                project=None,
                subject=name,
                fields=fields,
                reason=f"the rule for {want.service_account} in {want.project} differs",
                facts=FederationFacts(provider_id=provider.id, rule_id=rule.id, rule_name=name),
                weakens="; ".join(opened) or None,
                disrupts=None if opened else "workloads that match only the old rule lose access",
            )
        ]

    def _create(
        self,
        name: str,
        want: FederationRuleSetting,
        provider: WorkloadIdentityProvider,
        project: Project,
        account_id: str | None,
    ) -> Change:
        matchers = dict(sorted(want.attribute_matchers.items()))
        fields = {"attribute_matchers": FieldChange(None, matchers), "scopes": FieldChange(None, want.scopes)}
        if not want.enabled:
            fields["enabled"] = FieldChange(None, False)
        scope = f"scopes {', '.join(want.scopes)}" if want.scopes else "its default permissions"
        return Change(
            action="create",
            kind=self.name,
            order=self.order,
            project=None,
            subject=name,
            fields=fields,
            reason=f"declared for {want.service_account} in {want.project}",
            facts=FederationFacts(
                provider_id=provider.id,
                rule_name=name,
                target_project_id=project.id,
                service_account=want.service_account,
                service_account_id=account_id,
            ),
            weakens=None
            if not want.enabled
            else f"tokens from {provider.name} matching {matchers} act as {want.service_account} with {scope}",
        )

    # --- live rules the file does not declare ----------------------------------------------------------------

    def _undeclared(self, rule: FederationRule, observed: Federation, setting: WorkloadIdentitySetting) -> Change:
        provider = next((p.name for p in observed.providers if p.id == rule.workload_identity_provider_id), "?")
        project = observed.project_names.get(rule.project_id, rule.project_id)
        account = observed.accounts.get(rule.project_id, {}).get(rule.service_account_id, rule.service_account_id)
        what = (
            f"tokens from {provider} matching {dict(sorted(rule.attribute_matchers.items()))} act as {account} "
            f"in {project}" + ("" if rule.enabled else " (disabled)")
        )
        subject = rule.name or rule.id
        if setting.mode == "authoritative":
            return Change(
                action="delete",
                kind=self.name,
                order=self.order,
                project=None,
                subject=subject,
                reason=f"not declared (workload_identity is authoritative): {what}",
                facts=FederationFacts(provider_id=rule.workload_identity_provider_id, rule_id=rule.id),
                disrupts=f"workloads using it lose access as {account} in {project}",
                exposes=what if rule.enabled else None,
            )
        return self._report(subject, f"not declared: {what}; declare it or delete it", severity="high")

    def _report(self, subject: str, reason: str, *, severity: str = "normal") -> Change:
        return Change(
            action="report",
            kind=self.name,
            order=self.order,
            project=None,
            subject=subject,
            severity=severity,  # type: ignore[arg-type]
            reason=reason,
        )

    async def apply(self, api: AdminApi, change: Change) -> Claim[FederationRule] | None:
        facts = change.facts_as(FederationFacts)
        fields = change.fields
        if change.action == "delete":
            await api.workload_identity.delete_rule(facts.provider_id, required(facts.rule_id, "rule id"))
            return None
        if change.action == "update":
            body = {_BODY[k]: (permissions_body(v.after) if k == "scopes" else v.after) for k, v in fields.items()}
            await api.workload_identity.update_rule(facts.provider_id, required(facts.rule_id, "rule id"), body)
            return None
        if change.action != "create":
            raise ValueError(f"{self.name} changes of action {change.action!r} are not applied")
        project_id = required(facts.target_project_id, "project id")
        account_id = facts.service_account_id or await _account_id(
            api, project_id, required(facts.service_account, "service account")
        )
        return await api.workload_identity.create_rule_once(
            facts.provider_id,
            name=required(facts.rule_name, "rule name"),
            project_id=project_id,
            service_account_id=account_id,
            attribute_matchers=fields["attribute_matchers"].after,
            scopes=fields["scopes"].after,
            enabled=fields["enabled"].after if "enabled" in fields else True,
        )


_BODY = {"attribute_matchers": "attribute_matchers", "scopes": "permissions", "enabled": "enabled"}


def _differences(rule: FederationRule, want: FederationRuleSetting) -> dict[str, FieldChange]:
    fields: dict[str, FieldChange] = {}
    if dict(rule.attribute_matchers) != dict(want.attribute_matchers):
        fields["attribute_matchers"] = FieldChange(
            dict(sorted(rule.attribute_matchers.items())), dict(sorted(want.attribute_matchers.items()))
        )
    wanted_scopes = sorted(want.scopes) if want.scopes is not None else None
    if _scopes(rule) != wanted_scopes:
        fields["scopes"] = FieldChange(_scopes(rule), wanted_scopes)
    if rule.enabled != want.enabled:
        fields["enabled"] = FieldChange(rule.enabled, want.enabled)
    return fields


def _declared_account(desired: DesiredState, want: FederationRuleSetting) -> bool:
    """Whether the project's file declares the service account (the same apply creates it first)."""
    for project in desired.projects:
        if project.name == want.project and project.members is not None and project.members.service_accounts:
            return want.service_account in project.members.service_accounts
    return False


async def _account_id(api: AdminApi, project_id: str, name: str) -> str:
    found = [a.id for a in await api.service_accounts.list(project_id) if a.name == name]
    if len(found) != 1:
        raise NotFound(f"project {project_id} has {len(found) or 'no'} service account(s) named {name!r}")
    return found[0]
