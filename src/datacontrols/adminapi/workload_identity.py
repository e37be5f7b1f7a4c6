"""Workload identity federation (`/organization/workload_identity_providers`): keyless access to a project.

Not in the pinned spec (only its audit events are): the shapes are openai-python 3.63.0's (SDK-NEWER.md
section 8). An OIDC *provider* (issuer, audience) is registered for the organization; each of its
*federation rules* binds token attributes (`attribute_matchers`) to one project service account, with its
default permissions or restricted scopes. A workload whose token matches acts as that service account, and
no API key is involved.

Both lists are cursor pages (`{data, has_more}`, next page `after=<id of the last item>`). Providers are
read only here: registering one is a trust decision made with the identity provider's owner, outside this
tool. Rules are created, updated and deleted; a create goes through `one_writer.create_once` by the rule's
name, so two appliers racing leave one rule.
"""

from __future__ import annotations

from typing import Any

from datacontrols.adminapi.base import ApiModel, Family, parse
from datacontrols.adminapi.one_writer import Claim, create_once, oldest
from datacontrols.adminapi.transport import route

__all__ = ["FederationRule", "RulePermissions", "WorkloadIdentity", "WorkloadIdentityProvider"]

PROVIDERS_PATH = "/organization/workload_identity_providers"
RULES_PATH = "/organization/workload_identity_providers/{workload_identity_provider_id}/federation_rules"
RULE_PATH = RULES_PATH + "/{workload_identity_federation_rule_id}"


class WorkloadIdentityProvider(ApiModel):
    id: str
    object: str = "organization.workload_identity_provider"
    type: str = "oidc"
    name: str
    issuer: str
    audience: str
    enabled: bool = True
    created_at: int = 0


class RulePermissions(ApiModel):
    type: str  # service_account_default | restricted, and values the API may add
    scopes: list[str] | None = None  # restricted only

    def as_scopes(self) -> list[str] | None:
        """None: the service account's default permissions; else the restricted scopes, sorted."""
        return sorted(self.scopes or []) if self.type == "restricted" else None


class FederationRule(ApiModel):
    id: str
    object: str = "organization.workload_identity_federation_rule"
    workload_identity_provider_id: str
    project_id: str
    service_account_id: str
    attribute_matchers: dict[str, str | bool | int | float]
    permissions: RulePermissions = RulePermissions(type="service_account_default")
    name: str | None = None
    description: str | None = None
    enabled: bool = True
    created_at: int = 0


def permissions_body(scopes: list[str] | None) -> dict[str, Any]:
    return {"type": "service_account_default"} if scopes is None else {"type": "restricted", "scopes": sorted(scopes)}


class WorkloadIdentity(Family):
    async def providers(self) -> list[WorkloadIdentityProvider]:
        where = route(PROVIDERS_PATH)
        return [parse(WorkloadIdentityProvider, item, where) async for item in self._t.paginate(where)]

    async def rules(self, provider_id: str) -> list[FederationRule]:
        where = route(RULES_PATH, workload_identity_provider_id=provider_id)
        return [parse(FederationRule, item, where) async for item in self._t.paginate(where)]

    async def create_rule_once(
        self,
        provider_id: str,
        *,
        name: str,
        project_id: str,
        service_account_id: str,
        attribute_matchers: dict[str, Any],
        scopes: list[str] | None,
        enabled: bool,
    ) -> Claim[FederationRule]:
        """Create the rule unless one of this name binds the same project already (see `one_writer`)."""
        where = route(RULES_PATH, workload_identity_provider_id=provider_id)
        body = {
            "name": name,
            "project_id": project_id,
            "service_account_id": service_account_id,
            "attribute_matchers": dict(attribute_matchers),
            "permissions": permissions_body(scopes),
            "enabled": enabled,
        }

        async def namesakes() -> list[FederationRule]:
            return [r for r in await self.rules(provider_id) if r.name == name and r.project_id == project_id]

        async def create() -> FederationRule:
            return parse(FederationRule, await self._t.write("POST", where, body=body), where)

        return await create_once(
            find=namesakes,
            create=create,
            discard=lambda rule: self.delete_rule(provider_id, rule.id),
            settle=self._t.pause,
            keep=oldest,
        )

    async def update_rule(self, provider_id: str, rule_id: str, fields: dict[str, Any]) -> FederationRule:
        """Send the fields given (attribute_matchers, permissions, enabled); the others are kept."""
        where = route(
            RULE_PATH, workload_identity_provider_id=provider_id, workload_identity_federation_rule_id=rule_id
        )

        async def recheck() -> FederationRule | None:
            rule = await self._get_or_none(FederationRule, where)
            return rule if rule is not None and all(_same(rule, k, v) for k, v in fields.items()) else None

        return parse(FederationRule, await self._t.write("POST", where, body=fields, recheck=recheck), where)

    async def delete_rule(self, provider_id: str, rule_id: str) -> bool:
        where = route(
            RULE_PATH, workload_identity_provider_id=provider_id, workload_identity_federation_rule_id=rule_id
        )
        return await self._delete(where, lambda: self._get_or_none(FederationRule, where))


def _same(rule: FederationRule, field: str, value: Any) -> bool:
    if field == "permissions":
        return bool(permissions_body(rule.permissions.as_scopes()) == value)
    return bool(getattr(rule, field) == value)
