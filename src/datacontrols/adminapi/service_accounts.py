"""Project service accounts: list, create, update (name, role), delete.

Creating one returns a **plaintext API key** unless `create_service_account_only` is true (then the account
has role `none` and no key). The key's value is registered for redaction the moment the answer is decoded,
before it is parsed or passed on, and is held in a `SecretStr`: its repr, str and JSON dump show only
asterisks, and the only way out is an explicit `get_secret_value()` (the secret sink does that).

A create that may have gone through without an answer (timeout, dropped connection) is never resent when
it carries a key: the account would exist twice and one key would exist that nobody saw. The error says
so; the next run finds the account by name and plans from there. Account-only creates are re-checked by
name, as other writes are. `create_once` also checks by name before and after the create, so two appliers
racing end with one account (see `one_writer`).

Role vocabularies differ by endpoint (see the spec): the account's role is `owner|member|none`, the create
answer's `member|none`, the update body's `member|owner`.
"""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr

from datacontrols.adminapi.base import ApiModel, Family, parse
from datacontrols.adminapi.one_writer import Claim, create_once, oldest
from datacontrols.adminapi.transport import route
from datacontrols.errors import ApiError
from datacontrols.redaction import register_secret

__all__ = ["CreatedKey", "CreatedServiceAccount", "ServiceAccount", "ServiceAccounts"]

LIST_PATH = "/organization/projects/{project_id}/service_accounts"
ONE_PATH = "/organization/projects/{project_id}/service_accounts/{service_account_id}"


class ServiceAccount(ApiModel):
    object: str = "organization.project.service_account"
    id: str
    name: str
    role: str
    created_at: int = 0


class CreatedKey(ApiModel):
    """The key a create returned. `value` is secret: it leaves this object only through the secret sink."""

    object: str = "organization.project.service_account.api_key"
    id: str
    name: str | None = None
    created_at: int = 0
    value: SecretStr


class CreatedServiceAccount(ServiceAccount):
    """The create answer: the account, and its key unless it was created with `create_service_account_only`."""

    api_key: CreatedKey | None = None


class ServiceAccounts(Family):
    async def list(self, project_id: str) -> list[ServiceAccount]:
        where = route(LIST_PATH, project_id=project_id)
        return [parse(ServiceAccount, s, where) async for s in self._t.paginate(where)]

    async def retrieve(self, project_id: str, service_account_id: str) -> ServiceAccount | None:
        where = route(ONE_PATH, project_id=project_id, service_account_id=service_account_id)
        return await self._get_or_none(ServiceAccount, where)

    async def create(self, project_id: str, name: str, *, with_key: bool) -> CreatedServiceAccount:
        """Create an account; with `with_key=False` it is created with `create_service_account_only`."""
        where = route(LIST_PATH, project_id=project_id)
        recheck = None
        if not with_key:

            async def recheck() -> dict[str, Any] | None:
                named = [s for s in await self.list(project_id) if s.name == name]
                return {**named[0].model_dump(), "api_key": None} if len(named) == 1 else None

        body = {"name": name, "create_service_account_only": not with_key}
        data = await self._t.write("POST", where, body=body, recheck=recheck)
        _register_key(data)
        created = parse(CreatedServiceAccount, data, where)
        if not with_key and created.api_key is not None:
            raise ApiError("the API returned a key for an account created without one", path=where.template)
        return created

    async def create_once(self, project_id: str, name: str, *, with_key: bool) -> Claim[ServiceAccount]:
        """Create the account unless one of this name exists in the project; of racing duplicates the oldest
        is kept and this run deletes its own (revoking its key before anyone stored it). See `one_writer`.

        `created` is the `CreatedServiceAccount` (with its key, if any) only when it is also `kept`."""

        async def find() -> list[ServiceAccount]:
            return [s for s in await self.list(project_id) if s.name == name]

        async def create() -> ServiceAccount:
            return await self.create(project_id, name, with_key=with_key)

        async def discard(account: ServiceAccount) -> None:
            await self.delete(project_id, account.id)

        return await create_once(find=find, create=create, discard=discard, settle=self._t.pause, keep=oldest)

    async def update(self, project_id: str, service_account_id: str, *, role: str) -> ServiceAccount:
        async def recheck() -> ServiceAccount | None:
            found = await self.retrieve(project_id, service_account_id)
            return found if found is not None and found.role == role else None

        where = route(ONE_PATH, project_id=project_id, service_account_id=service_account_id)
        return parse(ServiceAccount, await self._t.write("POST", where, body={"role": role}, recheck=recheck), where)

    async def delete(self, project_id: str, service_account_id: str) -> bool:
        """Delete the account, which revokes its keys; False when it was already gone."""
        where = route(ONE_PATH, project_id=project_id, service_account_id=service_account_id)
        return await self._delete(where, lambda: self.retrieve(project_id, service_account_id))


def _register_key(data: Any) -> None:
    """Register a returned key value for redaction before anything else can see it."""
    key = data.get("api_key") if isinstance(data, dict) else None
    value = key.get("value") if isinstance(key, dict) else None
    if isinstance(value, str):
        register_secret(value)
