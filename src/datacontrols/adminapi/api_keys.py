"""API keys: a project's keys (list, delete) and the organization's admin keys (read-only inventory).

- Project keys are listed with `owner_project_access=any`: without it the endpoint "applies its existing
  membership-based visibility rules, which may exclude some enabled keys", and the keys whose owner lost
  access to the project (`inactive`) are exactly the ones an inventory must see.
- Deleting a key owned by a service account answers 400: those keys are revoked by deleting the account.
- A key's expiry is set with `POST .../api_keys/{api_key_id}` (openai-python 3.63.0, not in the pinned spec;
  SDK-NEWER.md section 4): `expires_in_seconds` counts from the request, covers service-account keys too,
  and an expired key cannot be updated. The same call takes `spend_limit` (a monthly cap in cents) and `scopes`;
  scopes are never sent.
- Admin keys are only read: a reconciler does not manage its own credential. Their `redacted_value`
  (`sk-admin...xyz`) lets `Transport.admin_key_matches` tell which one is in use, without the key itself
  ever leaving the transport. The owner is parsed loosely: the schema says "always a user", the spec's
  own example shows a service account.

Only ids and redacted values of keys are ever kept; no endpoint here returns a secret.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from datacontrols.adminapi.base import ApiModel, Family, parse
from datacontrols.adminapi.transport import route

__all__ = [
    "AdminApiKey",
    "AdminApiKeyOwner",
    "AdminApiKeys",
    "KeyOwner",
    "KeyOwnerServiceAccount",
    "KeyOwnerUser",
    "ProjectApiKey",
    "ProjectApiKeys",
]

PROJECT_KEYS_PATH = "/organization/projects/{project_id}/api_keys"
PROJECT_KEY_PATH = "/organization/projects/{project_id}/api_keys/{api_key_id}"
ADMIN_KEYS_PATH = "/organization/admin_api_keys"

OwnerAccess = Literal["active", "inactive", "any"]


class KeyOwnerUser(ApiModel):
    id: str
    email: str | None = None
    name: str | None = None
    role: str | None = None


class KeyOwnerServiceAccount(ApiModel):
    id: str
    name: str | None = None
    role: str | None = None


class KeyOwner(ApiModel):
    type: str | None = None
    user: KeyOwnerUser | None = None
    service_account: KeyOwnerServiceAccount | None = None

    @property
    def is_service_account(self) -> bool:
        return self.type == "service_account" or (self.type is None and self.service_account is not None)

    def describe(self) -> str:
        """`user alice@example.com`, `service account support-bot`, or the bare type when nothing else is known."""
        if self.is_service_account and self.service_account is not None:
            return f"service account {self.service_account.name or self.service_account.id}"
        if self.user is not None:
            return f"user {self.user.email or self.user.name or self.user.id}"
        return self.type or "unknown owner"


class ProjectApiKey(ApiModel):
    object: str = "organization.project.api_key"
    id: str
    name: str | None = None
    redacted_value: str
    created_at: int = 0
    last_used_at: int | None = None
    owner_project_access: str | None = None
    owner: KeyOwner = KeyOwner()
    expires_at: int | None = None  # openai-python 3.63.0 (not in the pinned spec); null: never expires
    spend_limit: dict[str, Any] | None = None  # openai-python 3.63.0: {currency, interval, threshold_amount, ...}


class AdminApiKeyOwner(ApiModel):
    type: str | None = None
    object: str | None = None
    id: str | None = None
    name: str | None = None
    role: str | None = None


class AdminApiKey(ApiModel):
    object: str = "organization.admin_api_key"
    id: str
    name: str | None = None
    redacted_value: str
    created_at: int = 0
    expires_at: int | None = None
    last_used_at: int | None = None
    owner: AdminApiKeyOwner = AdminApiKeyOwner()


class ProjectApiKeys(Family):
    async def list(self, project_id: str, *, owner_project_access: OwnerAccess = "any") -> list[ProjectApiKey]:
        where = route(PROJECT_KEYS_PATH, project_id=project_id)
        params = {"owner_project_access": owner_project_access}
        return [parse(ProjectApiKey, k, where) async for k in self._t.paginate(where, params=params)]

    async def retrieve(self, project_id: str, api_key_id: str) -> ProjectApiKey | None:
        return await self._get_or_none(
            ProjectApiKey, route(PROJECT_KEY_PATH, project_id=project_id, api_key_id=api_key_id)
        )

    async def delete(self, project_id: str, api_key_id: str) -> bool:
        """Delete a user-owned key; False when it was already gone. A service account's key answers 400."""
        where = route(PROJECT_KEY_PATH, project_id=project_id, api_key_id=api_key_id)
        return await self._delete(where, lambda: self.retrieve(project_id, api_key_id))

    async def set_expiry(self, project_id: str, api_key_id: str, expires_in_seconds: int) -> ProjectApiKey:
        """Make the key expire `expires_in_seconds` after this request (the SDK's update, scopes untouched)."""
        return await self.update(project_id, api_key_id, expires_in_seconds=expires_in_seconds)

    async def update(
        self,
        project_id: str,
        api_key_id: str,
        *,
        expires_in_seconds: int | None = None,
        spend_limit_cents: int | None = None,
        scopes: Sequence[str] | None = None,
    ) -> ProjectApiKey:
        """The SDK's key update: an expiry `expires_in_seconds` after this request, a monthly spend cap in
        USD cents and/or the key's scopes (they replace its own); what is not given is not sent, so it stays
        as it is. Scopes are never sent empty: `[]` means all permissions, which this tool never grants."""
        if expires_in_seconds is not None and expires_in_seconds < 1:
            raise ValueError("a key's expiry must lie in the future")
        if spend_limit_cents is not None and spend_limit_cents < 1:
            raise ValueError("a key's spend limit must be at least one cent")
        if scopes is not None and (isinstance(scopes, str) or not scopes):
            raise ValueError("a key's scopes are a non-empty list (an empty one grants all permissions)")
        body: dict[str, Any] = {}
        if expires_in_seconds is not None:
            body["expires_in_seconds"] = expires_in_seconds
        if spend_limit_cents is not None:
            body["spend_limit"] = {"currency": "USD", "interval": "month", "threshold_amount": spend_limit_cents}
        if scopes is not None:
            body["scopes"] = list(scopes)
        if not body:
            raise ValueError("a key update sends an expiry, a spend limit or scopes")
        where = route(PROJECT_KEY_PATH, project_id=project_id, api_key_id=api_key_id)

        async def resend() -> None:
            # Sending again is the re-check: the SDK says a retry resets the expiry from the new request time,
            # so a resent update gives the key the same life, counted a moment later; a cap is the same cap.
            return None

        return parse(ProjectApiKey, await self._t.write("POST", where, body=body, recheck=resend), where)


class AdminApiKeys(Family):
    async def list(self) -> list[AdminApiKey]:
        where = route(ADMIN_KEYS_PATH)
        return [parse(AdminApiKey, k, where) async for k in self._t.paginate(where)]
