"""Workload identity providers and their federation rules, as openai-python 3.63.0's types describe them.

Not in the pinned spec (SDK-NEWER.md section 8):
- Providers: list (cursor page `{object: "list", data, has_more}`, `after`, `limit` 1..100 default 20,
  `order` asc|desc), create (`name`, `issuer`, `audience`, `type: oidc` required; `description`, `enabled`
  optional), retrieve, update (the fields supplied), delete (refused while the provider has rules).
- Rules, under a provider: list (the same page, and a `service_account_id` filter), create
  (`attribute_matchers`, `project_id`, `service_account_id` required; `name`, `description`, `enabled`,
  `permissions` optional; the service account must be one of that project's), retrieve, update (cannot
  re-point the project or the service account), delete.
Audit events use the spec's names: `workload_identity_provider.*` and `workload_identity_provider_mapping.*`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from datacontrols.emulator.errors import ApiFailure
from datacontrols.emulator.paging import cursor_page
from datacontrols.emulator.routing import ApiRoute, Call
from datacontrols.emulator.state import FederationRuleRecord, WorkloadIdentityProviderRecord

__all__ = ["ROUTES"]

PROVIDERS = "/organization/workload_identity_providers"
PROVIDER = PROVIDERS + "/{workload_identity_provider_id}"
RULES = PROVIDER + "/federation_rules"
RULE = RULES + "/{workload_identity_federation_rule_id}"

Matchers = dict[str, str | bool | int | float]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class _Default(_Strict):
    type: Literal["service_account_default"]


class _Restricted(_Strict):
    type: Literal["restricted"]
    scopes: list[str]


Permissions = Annotated[_Default | _Restricted, Field(discriminator="type")]


class _ProviderCreate(_Strict):
    name: str
    issuer: str
    audience: str
    type: Literal["oidc"]
    description: str | None = None
    enabled: bool = True


class _ProviderUpdate(_Strict):
    name: str | None = None
    issuer: str | None = None
    audience: str | None = None
    description: str | None = None
    enabled: bool | None = None


class _RuleCreate(_Strict):
    attribute_matchers: Matchers
    project_id: str
    service_account_id: str
    name: str | None = None
    description: str | None = None
    enabled: bool = True
    permissions: Permissions | None = None


class _RuleUpdate(_Strict):
    attribute_matchers: Matchers | None = None
    name: str | None = None
    description: str | None = None
    enabled: bool | None = None
    permissions: Permissions | None = None


def _id(record: WorkloadIdentityProviderRecord | FederationRuleRecord) -> str:
    return record.id


def _provider_object(record: WorkloadIdentityProviderRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "object": "organization.workload_identity_provider",
        "type": "oidc",
        "name": record.name,
        "description": record.description,
        "issuer": record.issuer,
        "audience": record.audience,
        "enabled": record.enabled,
        "attribute_transformations": [],
        "verification": {"type": "discovery", "discovery_url": None},
        "created_at": record.created_at,
        "updated_at": record.updated_at,
    }


def _rule_object(record: FederationRuleRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "object": "organization.workload_identity_federation_rule",
        "workload_identity_provider_id": record.provider_id,
        "project_id": record.project_id,
        "service_account_id": record.service_account_id,
        "attribute_matchers": dict(record.attribute_matchers),
        "permissions": dict(record.permissions),
        "name": record.name,
        "description": record.description,
        "enabled": record.enabled,
        "created_at": record.created_at,
        "updated_at": record.updated_at,
    }


def _provider(call: Call) -> WorkloadIdentityProviderRecord:
    return call.lookup(call.state.workload_identity_providers, "workload_identity_provider_id", "provider")


def _rule(call: Call) -> FederationRuleRecord:
    provider = _provider(call)
    rule = call.lookup(call.state.federation_rules, "workload_identity_federation_rule_id", "federation rule")
    if rule.provider_id != provider.id:
        raise ApiFailure.not_found(f"No federation rule with id '{rule.id}' for this provider.")
    return rule


def list_providers(call: Call) -> dict[str, Any]:
    return cursor_page(call, list(call.state.workload_identity_providers.values()), _provider_object, _id)


def create_provider(call: Call) -> dict[str, Any]:
    body = call.body(_ProviderCreate)
    record = WorkloadIdentityProviderRecord(
        id=call.ids.unused("wip_", call.state.workload_identity_providers),
        name=body.name,
        issuer=body.issuer,
        audience=body.audience,
        description=body.description,
        enabled=body.enabled,
        created_at=call.now,
        updated_at=call.now,
    )
    call.state.workload_identity_providers[record.id] = record
    call.record_event("workload_identity_provider.created", project_id=None, details={"id": record.id})
    return _provider_object(record)


def retrieve_provider(call: Call) -> dict[str, Any]:
    return _provider_object(_provider(call))


def update_provider(call: Call) -> dict[str, Any]:
    record = _provider(call)
    body = call.body(_ProviderUpdate)
    for name in body.model_fields_set:
        setattr(record, name, getattr(body, name))
    record.updated_at = call.now
    call.record_event("workload_identity_provider.updated", project_id=None, details={"id": record.id})
    return _provider_object(record)


def delete_provider(call: Call) -> dict[str, Any]:
    record = _provider(call)
    if any(rule.provider_id == record.id for rule in call.state.federation_rules.values()):
        raise ApiFailure.bad_request("Delete the provider's federation rules first.", code="provider_in_use")
    del call.state.workload_identity_providers[record.id]
    call.record_event("workload_identity_provider.deleted", project_id=None, details={"id": record.id})
    return {"id": record.id, "deleted": True, "object": "organization.workload_identity_provider.deleted"}


def list_rules(call: Call) -> dict[str, Any]:
    provider = _provider(call)
    account = call.query.get("service_account_id")
    rules = [
        r
        for r in call.state.federation_rules.values()
        if r.provider_id == provider.id and (account is None or r.service_account_id == account)
    ]
    return cursor_page(call, rules, _rule_object, _id)


def create_rule(call: Call) -> dict[str, Any]:
    provider = _provider(call)
    body = call.body(_RuleCreate)
    project = call.state.projects.get(body.project_id)
    if project is None:
        raise ApiFailure.not_found(f"No project found with id '{body.project_id}'.", param="project_id")
    if body.service_account_id not in project.service_accounts:
        raise ApiFailure.not_found(
            f"No service account with id '{body.service_account_id}' in project '{project.id}'.",
            param="service_account_id",
        )
    permissions = body.permissions.model_dump() if body.permissions else {"type": "service_account_default"}
    record = FederationRuleRecord(
        id=call.ids.unused("wifr_", call.state.federation_rules),
        provider_id=provider.id,
        project_id=project.id,
        service_account_id=body.service_account_id,
        attribute_matchers=dict(body.attribute_matchers),
        permissions=permissions,
        name=body.name,
        description=body.description,
        enabled=body.enabled,
        created_at=call.now,
        updated_at=call.now,
    )
    call.state.federation_rules[record.id] = record
    call.record_event("workload_identity_provider_mapping.created", project_id=project.id, details={"id": record.id})
    return _rule_object(record)


def retrieve_rule(call: Call) -> dict[str, Any]:
    return _rule_object(_rule(call))


def update_rule(call: Call) -> dict[str, Any]:
    record = _rule(call)
    body = call.body(_RuleUpdate)
    for name in body.model_fields_set:
        value = getattr(body, name)
        setattr(record, name, value.model_dump() if isinstance(value, BaseModel) else value)
    record.updated_at = call.now
    call.record_event(
        "workload_identity_provider_mapping.updated", project_id=record.project_id, details={"id": record.id}
    )
    return _rule_object(record)


def delete_rule(call: Call) -> dict[str, Any]:
    record = _rule(call)
    del call.state.federation_rules[record.id]
    call.record_event(
        "workload_identity_provider_mapping.deleted", project_id=record.project_id, details={"id": record.id}
    )
    return {"id": record.id, "deleted": True, "object": "organization.workload_identity_federation_rule.deleted"}


ROUTES = (
    ApiRoute("GET", PROVIDERS, list_providers),
    ApiRoute("POST", PROVIDERS, create_provider),
    ApiRoute("GET", PROVIDER, retrieve_provider),
    ApiRoute("POST", PROVIDER, update_provider),
    ApiRoute("DELETE", PROVIDER, delete_provider),
    ApiRoute("GET", RULES, list_rules),
    ApiRoute("POST", RULES, create_rule),
    ApiRoute("GET", RULE, retrieve_rule),
    ApiRoute("POST", RULE, update_rule),
    ApiRoute("DELETE", RULE, delete_rule),
)
