"""A project's service accounts (`members.service_accounts`), by name.

Creating a service account normally returns a plaintext API key. This kind creates one with a key only when
a secret sink is configured (`--secret-sink DIR`, `ProjectServiceAccounts(secret_sink=...)`): the key is
registered for redaction, written to `<DIR>/<project>__<account>.key` (mode 0600, atomically) and appears
nowhere else: not in the plan, the progress output, a log line, an exception or the emulator's records.
If the sink cannot take it, the new account is deleted at once (which revokes the key) and the change fails.

Without a sink the account is created with `create_service_account_only`, which gives it role `none` and no
key, and the same apply then sets the file's role through the update endpoint (which takes member|owner),
so the next plan is empty. The plan says which of the two will happen, and where a key will be written.

Which one happens is decided when the plan is made (it is in the change's facts), not when it is applied, so a
plan that said "no key" never creates one. Names are not unique in the API: a name held by two live
accounts is `uncorrectable` (a person must rename or delete one), never a guess. Deleting an account
revokes its API keys; the plan says so.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog

from datacontrols.adminapi.service_accounts import CreatedServiceAccount, ServiceAccount
from datacontrols.kinds.base import NOT_CREATED, DesiredProject, ProjectKind, World
from datacontrols.kinds.membership import (
    AUTHORITATIVE_REMOVAL,
    ORDER_GRANT,
    PROJECT_SERVICE_ACCOUNT,
    GuardContext,
    MemberFacts,
    admin_identity,
    member_change,
    remove_member,
    unlisted_change,
    update_member,
)
from datacontrols.plan import Change
from datacontrols.secretsink import SecretSinkError, secret_path, write_secret

if TYPE_CHECKING:
    from datacontrols.adminapi import AdminApi
    from datacontrols.adminapi.one_writer import Claim
    from datacontrols.adminapi.projects import Project

__all__ = ["NewServiceAccountFacts", "ProjectServiceAccounts", "ServiceAccountFacts", "with_secret_sink"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceAccountFacts(MemberFacts):
    """A live service account whose role apply changes, or which it deletes."""

    service_account_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class NewServiceAccountFacts(MemberFacts):
    """A service account apply creates: its name, and the secret sink for its key (None: created keyless)."""

    name: str
    secret_sink: str | None


log = structlog.get_logger("datacontrols.kinds")


class ProjectServiceAccounts(ProjectKind):
    name = PROJECT_SERVICE_ACCOUNT
    group = "members"
    order = ORDER_GRANT
    audit_event_types = ("service_account.created", "service_account.updated", "service_account.deleted")
    exports = True

    def __init__(self, secret_sink: str | os.PathLike[str] | None = None) -> None:
        self.secret_sink = Path(secret_sink) if secret_sink is not None else None

    def __repr__(self) -> str:
        return f"ProjectServiceAccounts(secret_sink={str(self.secret_sink) if self.secret_sink else None!r})"

    def manages(self, project: DesiredProject) -> bool:
        members = project.file.members
        return members is not None and members.service_accounts is not None

    async def observe(self, api: AdminApi, project: Project) -> tuple[ServiceAccount, ...]:
        return tuple(await api.service_accounts.list(project.id))

    def export(self, observed: Any) -> dict[str, Any] | None:
        """`reconcile export`: accounts by name with owner/member; shared names and role `none` are left out."""
        accounts = [a for a in observed or () if isinstance(a, ServiceAccount)]
        names = [a.name for a in accounts]
        kept = {a.name: a.role for a in accounts if names.count(a.name) == 1 and a.role in ("owner", "member")}
        return {"members": {"service_accounts": dict(sorted(kept.items()))}}

    def compare(self, project: DesiredProject, observed: Any, world: World) -> list[Change]:
        members = project.file.members
        if members is None or members.service_accounts is None:
            return []
        live: tuple[ServiceAccount, ...] = () if observed is NOT_CREATED else tuple(observed)
        identity = admin_identity(world)
        by_name: dict[str, list[ServiceAccount]] = {}
        for account in live:
            by_name.setdefault(account.name, []).append(account)
        changes: list[Change] = []

        for name, role in sorted(members.service_accounts.items()):
            found = by_name.get(name, [])
            if len(found) > 1:
                ids = ", ".join(sorted(a.id for a in found))
                changes.append(
                    Change(
                        action="uncorrectable",
                        kind=self.name,
                        project=project.name,
                        subject=name,
                        severity="high",
                        reason=f"{len(found)} service accounts are named {name!r} ({ids}); rename or delete the "
                        "extra ones by hand, this tool does not guess",
                        order=ORDER_GRANT,
                    )
                )
            elif found:
                account = found[0]
                if account.role != role:
                    reason = f"role is {account.role}; the file says {role}"
                    changes.append(self._change("update", project, account, account.role, role, reason, identity))
            else:
                changes.append(self._create(project, name, role, identity))

        for account in live:
            if account.name in members.service_accounts:
                continue
            if members.authoritative:
                reason = f"{AUTHORITATIVE_REMOVAL}; deleting it also revokes its API keys"
                changes.append(self._change("delete", project, account, account.role, None, reason, identity))
            else:
                what = f"service account {account.name} ({account.id})"
                changes.append(unlisted_change(self.name, project.name, account.name, account.role, what))
        return changes

    def _create(self, project: DesiredProject, name: str, role: str, identity: str | None) -> Change:
        if self.secret_sink is not None:
            path = secret_path(self.secret_sink, project.name, name)
            reason = f"created with an API key, which is written to the secret sink {path} (mode 0600) and nowhere else"
            sink: str | None = str(self.secret_sink)
        else:
            reason = (
                "created without an API key (create_service_account_only: no --secret-sink was given), then given "
                f"role {role} by an update; create its keys outside this tool"
            )
            sink = None
        facts = NewServiceAccountFacts(
            principal=f"service_account:(new {name})",
            role_after=role,
            guard=GuardContext(admin_identity=identity),
            name=name,
            secret_sink=sink,
        )
        return member_change("create", self.name, project.name, name, facts, reason=reason)

    def _change(
        self,
        action: str,
        project: DesiredProject,
        account: ServiceAccount,
        before: str | None,
        after: str | None,
        reason: str,
        identity: str | None,
    ) -> Change:
        facts = ServiceAccountFacts(
            principal=f"service_account:{account.id}",
            role_before=before,
            role_after=after,
            guard=GuardContext(admin_identity=identity),
            service_account_id=account.id,
        )
        return member_change(action, self.name, project.name, account.name, facts, reason=reason)

    async def apply(self, api: AdminApi, change: Change, project_id: str) -> Claim[ServiceAccount] | None:
        if change.action == "create":
            return await self._apply_create(api, change, project_id)
        facts = change.facts_as(ServiceAccountFacts)
        if change.action == "update":
            await update_member(
                change, api.service_accounts.update(project_id, facts.service_account_id, role=facts.new_role())
            )
        elif change.action == "delete":
            await remove_member(change, api.service_accounts.delete(project_id, facts.service_account_id))
        else:
            raise ValueError(f"{self.name} changes of action {change.action!r} are not applied")
        return None

    async def _apply_create(self, api: AdminApi, change: Change, project_id: str) -> Claim[ServiceAccount]:
        facts = change.facts_as(NewServiceAccountFacts)
        name, role, sink = facts.name, facts.new_role(), facts.secret_sink
        # Another writer may have created the account (or a racing twin of it): the role goes to the one kept.
        claim = await api.service_accounts.create_once(project_id, name, with_key=sink is not None)
        created = claim.kept
        if sink is not None and claim.created is created and isinstance(created, CreatedServiceAccount):
            if created.api_key is None:
                log.warning("service_account_created_without_key", project=change.project, account=name)
            else:
                try:
                    path = write_secret(
                        sink, change.project or project_id, name, created.api_key.value.get_secret_value()
                    )
                except SecretSinkError:
                    # A key nobody holds must not stay valid: deleting the account revokes it.
                    await api.service_accounts.delete(project_id, created.id)
                    raise
                log.info("service_account_key_stored", project=change.project, account=name, path=str(path))
        if created.role != role:
            await api.service_accounts.update(project_id, created.id, role=role)
        return claim


def with_secret_sink(
    kinds: Iterable[ProjectKind], secret_sink: str | os.PathLike[str] | None
) -> tuple[ProjectKind, ...]:
    """The same project kinds with the service-account kind configured for `secret_sink` (None: no sink).

    registry = dataclasses.replace(DEFAULT_REGISTRY, project=with_secret_sink(DEFAULT_REGISTRY.project, sink))
    """
    return tuple(ProjectServiceAccounts(secret_sink) if isinstance(k, ProjectServiceAccounts) else k for k in kinds)
