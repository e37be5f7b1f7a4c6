"""Project API keys (list, retrieve, delete) and the organization's admin API keys (list).

- A project key is owned by a user or by one of the project's service accounts. `owner_project_access` is
  derived, not stored: a user key is `active` while its owner is a member of the project and `inactive`
  once they are not; a service account's key is `active` (its keys are deleted with the account).
- The list's `owner_project_access` filter takes `active`, `inactive` or `any`. Left out, only `active`
  keys are listed: the spec warns that the default "may exclude some enabled keys", and this is the
  emulator's (deliberately unkind) reading of it.
- Deleting a key owned by a service account answers 400, as the spec documents; the account's deletion
  revokes it.
- Admin keys are listed (style A; `order` asc|desc by creation, `limit` without a maximum, as the spec gives
  none), read, created and deleted. Create takes `name` and `expires_in_seconds` (1..31536000, the spec's
  bounds; left out: the key never expires) and answers the plaintext `value` once, and only there, as for
  service-account keys: the record holds only its redacted form, so no dump, log or request log has it. A
  created key is owned by the admin key's own user (the audit log's `ADMIN_KEY_ACTOR`). The spec has no
  (non-tenant) audit event type for admin keys, so none is recorded.

Audit events: `api_key.deleted`. The SDK's update of a key is routes/api_key_updates.py.
"""

from __future__ import annotations

import secrets
import string
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from datacontrols.emulator.errors import ApiFailure
from datacontrols.emulator.paging import in_order, page_a
from datacontrols.emulator.routes.audit_logs import ADMIN_KEY_ACTOR
from datacontrols.emulator.routes.service_accounts import redacted_form
from datacontrols.emulator.routing import ApiRoute, Call, WholeNumber
from datacontrols.emulator.state import AdminKeyRecord, ApiKeyRecord, EmulatorState, ProjectRecord

__all__ = ["KEY", "ROUTES", "key_object", "owner_access"]

KEYS = "/organization/projects/{project_id}/api_keys"
KEY = "/organization/projects/{project_id}/api_keys/{api_key_id}"
ADMIN_KEYS = "/organization/admin_api_keys"
ADMIN_KEY = "/organization/admin_api_keys/{key_id}"
_KEY_ALPHABET = string.ascii_letters + string.digits


class _AdminKeyBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    name: str
    expires_in_seconds: WholeNumber | None = Field(default=None, ge=1, le=31_536_000)


_ACCESS = ("active", "inactive", "any")


def owner_access(project: ProjectRecord, key: ApiKeyRecord) -> str:
    if key.owner_type == "service_account":
        return "active" if key.owner_id in project.service_accounts else "inactive"
    return "active" if key.owner_id in project.users else "inactive"


def _owner(state: EmulatorState, project: ProjectRecord, key: ApiKeyRecord) -> dict[str, Any]:
    if key.owner_type == "service_account":
        account = project.service_accounts.get(key.owner_id)
        return {
            "type": "service_account",
            "service_account": {
                "id": key.owner_id,
                "name": account.name if account else "",
                "created_at": account.created_at if account else 0,
                "role": account.role if account else "none",
            },
        }
    user = state.users.get(key.owner_id)
    membership = project.users.get(key.owner_id)
    return {
        "type": "user",
        "user": {
            "id": key.owner_id,
            "email": user.email if user else "",
            "name": user.name if user else "",
            "created_at": user.added_at if user else 0,
            "role": membership.role if membership else "none",
        },
    }


def key_object(state: EmulatorState, project: ProjectRecord, key: ApiKeyRecord) -> dict[str, Any]:
    answer = {
        "object": "organization.project.api_key",
        "redacted_value": key.redacted_value,
        "name": key.name,
        "created_at": key.created_at,
        "last_used_at": key.last_used_at,
        "id": key.id,
        "owner_project_access": owner_access(project, key),
        "owner": _owner(state, project, key),
    }
    if key.expires_at is not None:  # openai-python 3.63.0's field; the pinned spec's answer has none
        answer["expires_at"] = key.expires_at
    if key.spend_limit is not None:  # the same: set only by the SDK's update (routes/api_key_updates.py)
        answer["spend_limit"] = key.spend_limit
    return answer


def _adminkey_object(key: AdminKeyRecord, state: EmulatorState) -> dict[str, Any]:
    user = state.users.get(key.owner_id) if key.owner_type == "user" else None
    return {
        "object": "organization.admin_api_key",
        "id": key.id,
        "name": key.name,
        "redacted_value": key.redacted_value,
        "created_at": key.created_at,
        "expires_at": key.expires_at,
        "last_used_at": key.last_used_at,
        "owner": {
            "type": key.owner_type,
            "object": "organization.service_account" if key.owner_type == "service_account" else "organization.user",
            "id": key.owner_id,
            "name": key.owner_name or (user.name if user else ""),
            "created_at": user.added_at if user else key.created_at,
            "role": user.role if user else "member",
        },
    }


def list_keys(call: Call) -> dict[str, Any]:
    project = call.project()
    access = call.query.get("owner_project_access", "active")
    if access not in _ACCESS:
        raise ApiFailure.bad_request(
            "Invalid value for 'owner_project_access': must be active, inactive or any.",
            param="owner_project_access",
            code="invalid_value",
        )
    keys = [k for k in project.api_keys.values() if access == "any" or owner_access(project, k) == access]
    return page_a(call, keys, lambda k: key_object(call.state, project, k), lambda k: k.id)


def _key(call: Call, project: ProjectRecord) -> ApiKeyRecord:
    return call.lookup(project.api_keys, "api_key_id", "API key")


def retrieve_key(call: Call) -> dict[str, Any]:
    project = call.project()
    return key_object(call.state, project, _key(call, project))


def delete_key(call: Call) -> dict[str, Any]:
    project = call.writable_project()
    key = _key(call, project)
    if key.owner_type == "service_account":
        raise ApiFailure.bad_request(
            "This key belongs to a service account and cannot be deleted on its own; delete the service account.",
            param="api_key_id",
            code="service_account_key",
        )
    del project.api_keys[key.id]
    call.record_event("api_key.deleted", project_id=project.id, details={"id": key.id})
    return {"object": "organization.project.api_key.deleted", "id": key.id, "deleted": True}


def list_admin_keys(call: Call) -> dict[str, Any]:
    keys = in_order(call, list(call.state.admin_api_keys.values()), default="asc")
    # The spec gives `limit` a default (20) and no range, so no maximum is enforced.
    return page_a(call, keys, lambda k: _adminkey_object(k, call.state), lambda k: k.id, maximum=None)


def retrieve_admin_key(call: Call) -> dict[str, Any]:
    return _adminkey_object(call.lookup(call.state.admin_api_keys, "key_id", "admin API key"), call.state)


def create_admin_key(call: Call) -> dict[str, Any]:
    body = call.body(_AdminKeyBody)
    value = "sk-admin-" + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(48))
    key = AdminKeyRecord(
        id=call.ids.unused("key_", call.state.admin_api_keys),
        name=body.name,
        redacted_value=redacted_form(value),
        owner_id=ADMIN_KEY_ACTOR["api_key"]["user"]["id"],
        created_at=call.now,
        expires_at=call.now + body.expires_in_seconds if body.expires_in_seconds is not None else None,
    )
    call.state.admin_api_keys[key.id] = key
    return {**_adminkey_object(key, call.state), "value": value}  # the only place the value ever appears


def delete_admin_key(call: Call) -> dict[str, Any]:
    key = call.lookup(call.state.admin_api_keys, "key_id", "admin API key")
    del call.state.admin_api_keys[key.id]
    return {"id": key.id, "object": "organization.admin_api_key.deleted", "deleted": True}


ROUTES = (
    ApiRoute("GET", KEYS, list_keys),
    ApiRoute("GET", KEY, retrieve_key),
    ApiRoute("DELETE", KEY, delete_key),
    ApiRoute("GET", ADMIN_KEYS, list_admin_keys),
    ApiRoute("POST", ADMIN_KEYS, create_admin_key),
    ApiRoute("GET", ADMIN_KEY, retrieve_admin_key),
    ApiRoute("DELETE", ADMIN_KEY, delete_admin_key),
)
