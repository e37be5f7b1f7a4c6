"""The desired-state format of workload identity federation: which external workloads act as which service account.

    organization:                                  # organization.yaml
      workload_identity:
        mode: additive                             # additive (default) | authoritative
        rules:
          support-deploy:                          # the rule's name, unique in the organization
            provider: github-actions               # a registered OIDC provider, by name
            project: Support Bot                   # by name
            service_account: support-bot-prod      # one of that project's service accounts, by name
            attribute_matchers: {repository: acme/support-bot, ref: refs/heads/main}
            scopes: [api.model.request]            # absent: the service account's default permissions
            enabled: true                          # default

A workload whose OIDC token from `provider` matches every attribute acts as the service account, with no API
key. The rules live in organization.yaml, not in project files, because the API keeps them under their
provider, for the whole organization: one listing answers for every project, and a rule on a project that
has no file is still seen. Declared rules are created and corrected; every other live rule is reported
(`additive`) or deleted (`authoritative`). Providers themselves are never registered or removed: that is a
trust decision made with the identity provider's owner.
"""

from __future__ import annotations

from typing import Final, Literal

from pydantic import Field, field_validator

from datacontrols.desired.model import DesiredModel, Text

__all__ = ["WORKLOAD_IDENTITY_DESCRIPTION", "FederationRuleSetting", "WorkloadIdentitySetting"]


Matcher = str | bool | int | float


class FederationRuleSetting(DesiredModel):
    provider: Text = Field(description="The registered OIDC provider, by name")
    project: Text = Field(description="The project, by name")
    service_account: Text = Field(description="One of the project's service accounts, by name")
    attribute_matchers: dict[Text, Matcher] = Field(
        description="Token attributes that must all match (at least one: none would admit every token)"
    )
    scopes: list[Text] | None = Field(
        default=None, description="Restricted scopes; absent = the service account's default permissions"
    )
    enabled: bool = Field(default=True, description="Whether the rule admits tokens")

    @field_validator("attribute_matchers")
    @classmethod
    def _some_matcher(cls, value: dict[str, Matcher]) -> dict[str, Matcher]:
        if not value:
            raise ValueError("at least one attribute matcher: an empty rule admits every token the provider signs")
        return value

    @field_validator("scopes")
    @classmethod
    def _scopes(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and not value:
            raise ValueError('[] is not "no access" in the API; leave scopes out for the default permissions')
        if value is not None and len(set(value)) != len(value):
            raise ValueError("a scope is listed twice")
        return value


class WorkloadIdentitySetting(DesiredModel):
    mode: Literal["additive", "authoritative"] = Field(
        default="additive",
        description="additive: create and fix the rules listed, report every other; authoritative: delete every other",
    )
    rules: dict[Text, FederationRuleSetting] = Field(default_factory=dict, description="Rule name -> rule")


WORKLOAD_IDENTITY_DESCRIPTION: Final = (
    "Workload identity federation rules (keyless access as a project service account), by name: {mode: "
    "additive|authoritative, rules: {<name>: {provider, project, service_account, attribute_matchers, scopes, "
    "enabled}}}; absent = not read"
)
