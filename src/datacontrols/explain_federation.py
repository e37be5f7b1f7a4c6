"""The keyless part of `reconcile explain`: which external workloads act as a project's service accounts.

A federation rule lets a workload whose OIDC token matches act as a service account with no API key, so it
belongs beside the members and keys in "who can reach this project". The rules are read once for the
organization (the providers, then each provider's rules); an organization whose key may not read them shows
that, and the rest of the explanation is still given.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field

from datacontrols.adminapi import AdminApi
from datacontrols.adminapi.workload_identity import FederationRule
from datacontrols.errors import ApiError

__all__ = ["FederationListing", "read_federation"]


@dataclass(frozen=True)
class FederationListing:
    """Every rule by project, with its provider's name; `error`: the rules could not be read."""

    by_project: Mapping[str, tuple[tuple[str, FederationRule], ...]] = field(default_factory=dict)
    error: str | None = None

    def describe(self, project_id: str, accounts: Mapping[str, str]) -> str:
        """One line for the project: each rule as who it lets in, as which account, with what."""
        if self.error is not None:
            return f"(unreadable: {self.error})"
        rules = self.by_project.get(project_id, ())
        if not rules:
            return "none"
        return "; ".join(_rule(provider, rule, accounts) for provider, rule in rules)


def _rule(provider: str, rule: FederationRule, accounts: Mapping[str, str]) -> str:
    matchers = ", ".join(f"{k}={v}" for k, v in sorted(rule.attribute_matchers.items()))
    scopes = rule.permissions.as_scopes()
    access = f"scopes {', '.join(scopes)}" if scopes is not None else "its default permissions"
    state = "" if rule.enabled else " (disabled)"
    account = accounts.get(rule.service_account_id, rule.service_account_id)
    return f"{rule.name or rule.id}: tokens from {provider} with {matchers} act as {account} with {access}{state}"


async def read_federation(api: AdminApi) -> FederationListing:
    try:
        providers = await api.workload_identity.providers()
        listed = await asyncio.gather(*(api.workload_identity.rules(p.id) for p in providers))
    except ApiError as exc:
        return FederationListing(error=exc.message)
    by_project: dict[str, list[tuple[str, FederationRule]]] = {}
    for provider, rules in zip(providers, listed, strict=True):
        for rule in rules:
            by_project.setdefault(rule.project_id, []).append((provider.name, rule))
    return FederationListing(by_project={pid: tuple(found) for pid, found in by_project.items()})
