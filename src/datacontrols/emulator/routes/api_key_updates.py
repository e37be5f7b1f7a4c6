"""A project API key's update, as openai-python 3.63.0 describes it (not in the pinned spec; SDK-NEWER.md
section 4): `POST /organization/projects/{project_id}/api_keys/{api_key_id}`.

- The body takes `scopes` (replaces them; `[]` means all permissions), `expires_in_seconds` (counted from
  this request) and `spend_limit` (`{currency: USD, interval: month, threshold_amount}` in cents, or null to
  remove it). Every field is optional but one is required (400 otherwise); a field left out keeps its value.
- Keys owned by service accounts are updated like users' keys. An expired key cannot be updated (400).
- The answer is the key as list and retrieve show it: the redacted value only, never the secret; scopes are
  not in it (the SDK's `ProjectAPIKey` has no such field). The SDK gives `expires_in_seconds` no bounds, so
  only a positive whole number is required. The org's and project's expiry policies are not modelled.

Audit events: `api_key.updated`, with `changes_requested` holding what was sent (`scopes`,
`expires_in_seconds`), as the SDK's payload has it.

A separate family from routes/api_keys.py because the pinned spec documents that path's GET and DELETE but
not this POST: it is named in `SDK_ONLY_FAMILIES`, so the contract suite checks it is still missing there.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from datacontrols.emulator.errors import ApiFailure
from datacontrols.emulator.routes.api_keys import KEY, key_object
from datacontrols.emulator.routing import ApiRoute, Call, WholeNumber
from datacontrols.emulator.state import key_spend_limit

__all__ = ["ROUTES"]


class _SpendLimit(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    currency: Literal["USD"]
    interval: Literal["month"]
    threshold_amount: WholeNumber = Field(ge=0)


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    scopes: list[str] | None = None
    expires_in_seconds: WholeNumber | None = Field(default=None, ge=1)
    spend_limit: _SpendLimit | None = None


def update_key(call: Call) -> dict[str, Any]:
    project = call.writable_project()
    key = call.lookup(project.api_keys, "api_key_id", "API key")
    body = call.body(_Body)
    sent = body.model_fields_set
    if not sent:
        raise ApiFailure.bad_request("Provide at least one of scopes, expires_in_seconds or spend_limit.")
    if key.expires_at is not None and key.expires_at <= call.now:
        raise ApiFailure.bad_request("This API key has expired and cannot be updated.", param="api_key_id")
    if body.expires_in_seconds is not None:
        key.expires_at = call.now + body.expires_in_seconds
    if "scopes" in sent:
        key.scopes = tuple(body.scopes or ())
    if "spend_limit" in sent:
        limit = body.spend_limit
        key.spend_limit = None if limit is None else key_spend_limit(limit.threshold_amount)
    changes = {name: getattr(body, name) for name in ("scopes", "expires_in_seconds") if name in sent}
    call.record_event("api_key.updated", project_id=project.id, details={"id": key.id, "changes_requested": changes})
    return key_object(call.state, project, key)


ROUTES = (ApiRoute("POST", KEY, update_key),)
