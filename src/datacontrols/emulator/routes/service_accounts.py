"""Project service accounts: list (style A), create, retrieve, update (name, role), delete.

- Create takes `name` and `create_service_account_only`. By default the account gets role `member` and a new
  API key whose plaintext `value` is in the answer, **and only there**: the emulator stores the key's
  redacted form (`sk-svc...Ab3d`), never the value, so it cannot reach the state dump, the request log
  (which records request bodies, not answers) or a log line. With `create_service_account_only: true` the
  account has role `none` and `api_key` is null.
- Update takes `name` and `role` (`member` or `owner`; the spec's update body cannot set `none`).
- More keys are made with `POST .../service_accounts/{id}/api_keys` (`name`, `scopes`, both optional; the
  plaintext value is answered once, as on create). Delete removes the account and every key it owns (that is
  how its keys are revoked).
- Lists and writes on an archived project answer 400.

Audit events: `service_account.created/updated/deleted`, and `api_key.created` for a key made with an account.
"""

from __future__ import annotations

import secrets
import string
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from datacontrols.emulator.paging import page_a
from datacontrols.emulator.routing import ApiRoute, Call
from datacontrols.emulator.state import ApiKeyRecord, ProjectRecord, ServiceAccountRecord

__all__ = ["ROUTES", "redacted_form"]

LIST = "/organization/projects/{project_id}/service_accounts"
ONE = "/organization/projects/{project_id}/service_accounts/{service_account_id}"
KEYS = "/organization/projects/{project_id}/service_accounts/{service_account_id}/api_keys"
_KEY_ALPHABET = string.ascii_letters + string.digits


class _CreateBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    name: str = Field(min_length=1)
    create_service_account_only: bool | None = None


class _KeyBody(BaseModel):
    # The spec's body has no required field (and is itself optional): an empty body makes an unnamed key.
    model_config = ConfigDict(extra="forbid", strict=True)
    name: str | None = None
    scopes: list[str] | None = None


class _UpdateBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    name: str | None = Field(default=None, min_length=1)
    role: Literal["member", "owner"] | None = None


def redacted_form(value: str) -> str:
    """What the API shows of a key: its first six and last four characters."""
    return f"{value[:6]}...{value[-4:]}"


def _account_object(account: ServiceAccountRecord) -> dict[str, Any]:
    return {
        "object": "organization.project.service_account",
        "id": account.id,
        "name": account.name,
        "role": account.role,
        "created_at": account.created_at,
    }


def _account(call: Call, project: ProjectRecord) -> ServiceAccountRecord:
    scope = f" in project '{project.id}'"
    return call.lookup(project.service_accounts, "service_account_id", "service account", scope=scope)


def list_accounts(call: Call) -> dict[str, Any]:
    project = call.readable_project()
    return page_a(call, list(project.service_accounts.values()), _account_object, lambda a: a.id)


def create_account(call: Call) -> dict[str, Any]:
    project = call.writable_project()
    body = call.body(_CreateBody)
    only = bool(body.create_service_account_only)
    account = ServiceAccountRecord(
        id=_new_id(call, "svc_acct_"), name=body.name, role="none" if only else "member", created_at=call.now
    )
    project.service_accounts[account.id] = account
    call.record_event(
        "service_account.created", project_id=project.id, details={"id": account.id, "data": {"role": account.role}}
    )
    answer: dict[str, Any] = {**_account_object(account), "api_key": None}
    if not only:
        answer["api_key"] = _new_key(call, project, account.id, "Secret Key", [])
    return answer


def _new_key(call: Call, project: ProjectRecord, account_id: str, name: str, scopes: list[str]) -> dict[str, Any]:
    """A new key of a service account, answered with its plaintext value (the only place it ever appears)."""
    # A fresh secret from the system's generator (not the seeded id stream): a replayable emulator must not
    # hand out replayable keys. Only its redacted form is kept.
    value = "sk-svcacct-" + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(48))
    key = ApiKeyRecord(
        id=_new_id(call, "key_"),
        name=name,
        redacted_value=redacted_form(value),
        owner_type="service_account",
        owner_id=account_id,
        created_at=call.now,
        scopes=tuple(scopes),
    )
    project.api_keys[key.id] = key
    call.record_event("api_key.created", project_id=project.id, details={"id": key.id, "data": {"scopes": scopes}})
    return {
        "object": "organization.project.service_account.api_key",
        "value": value,
        "name": key.name,
        "created_at": key.created_at,
        "id": key.id,
    }


def create_key(call: Call) -> dict[str, Any]:
    project = call.writable_project()
    account = _account(call, project)
    body = call.body(_KeyBody)
    return _new_key(call, project, account.id, body.name or "Secret Key", list(body.scopes or []))


def retrieve_account(call: Call) -> dict[str, Any]:
    return _account_object(_account(call, call.project()))


def update_account(call: Call) -> dict[str, Any]:
    project = call.writable_project()
    account = _account(call, project)
    body = call.body(_UpdateBody)
    changes: dict[str, Any] = {}
    if body.name is not None:
        account.name = body.name
    if body.role is not None:
        account.role = body.role
        changes["role"] = body.role
    call.record_event(
        "service_account.updated", project_id=project.id, details={"id": account.id, "changes_requested": changes}
    )
    return _account_object(account)


def delete_account(call: Call) -> dict[str, Any]:
    project = call.writable_project()
    account = _account(call, project)
    del project.service_accounts[account.id]
    for key_id in [
        k.id for k in project.api_keys.values() if k.owner_type == "service_account" and k.owner_id == account.id
    ]:
        del project.api_keys[key_id]
    call.record_event("service_account.deleted", project_id=project.id, details={"id": account.id})
    return {"object": "organization.project.service_account.deleted", "id": account.id, "deleted": True}


def _new_id(call: Call, prefix: str) -> str:
    taken = {
        *(a.id for p in call.state.projects.values() for a in p.service_accounts.values()),
        *(k.id for p in call.state.projects.values() for k in p.api_keys.values()),
    }
    return call.ids.unused(prefix, taken)


ROUTES = (
    ApiRoute("GET", LIST, list_accounts),
    ApiRoute("POST", LIST, create_account),
    ApiRoute("GET", ONE, retrieve_account),
    ApiRoute("POST", ONE, update_account),
    ApiRoute("DELETE", ONE, delete_account),
    ApiRoute("POST", KEYS, create_key),
)
