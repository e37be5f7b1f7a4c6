"""The seed and dump format of access: users, groups, invites and admin keys of the organization, and each
project's users, groups, service accounts and API keys. `seed.py` puts these fields on its documents.

    users:                                   # the organization's users (top level of the seed)
      - {id: user-alice, email: alice@example.com, name: Alice, role: owner}   # role: owner | reader
    groups:
      - {id: group_ds, name: data-science, users: [alice@example.com]}   # members by id or email
    invites:
      - {email: erin@example.com, status: pending}
    admin_api_keys:                          # only the redacted form of a key ever exists here
      - {id: key_admin, name: reconciler, redacted_value: sk-admin...xyz, owner: {id: user-alice}}
    projects:
      - name: Support Bot
        users: [{user: alice@example.com, role: owner}]          # by id or email
        groups: [{group: data-science, role: member}]            # by id or name; role or roles (names or ids)
        service_accounts: [{name: support-bot-prod, role: member}]
        api_keys:
          - {name: ci, owner: {type: user, id: alice@example.com}, created_at: 1735689600, last_used_at: null}
          - {owner: {type: service_account, id: support-bot-prod}, spend_limit: {threshold_amount: 10000}}
          - {owner: {type: user, id: alice@example.com}, scopes: [api.responses.write]}

A key's `scopes` are what the audit log says it was made with (`[]`: all permissions): the seed records its
`api_key.created` event at `created_at`, as the API would have. Left out, the log has no record of the key
(it was made before the log's window), so its scopes are unknown to a reader.

Ids and timestamps left out are generated; the dump writes every field, by id, so it loads back unchanged.
A key's `redacted_value`, when left out, is made up (`sk-...` + four characters): a seed never holds a key.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from datacontrols.emulator.limits_seed import SeedSpendLimit
from datacontrols.emulator.state import (
    AdminKeyRecord,
    ApiKeyRecord,
    EmulatorState,
    Event,
    GroupGrantRecord,
    GroupRecord,
    IdFactory,
    InviteRecord,
    MemberRecord,
    ProjectRecord,
    ServiceAccountRecord,
    UserRecord,
    key_spend_limit,
)

__all__ = [
    "SeedAdminKey",
    "SeedApiKey",
    "SeedGroup",
    "SeedInvite",
    "SeedProjectGroup",
    "SeedProjectUser",
    "SeedServiceAccount",
    "SeedUser",
    "access_from_seed",
    "check_access",
    "dump_organization_access",
    "dump_project_access",
]

_BUILTIN_ROLES = {
    "owner": "role-api-project-owner",
    "member": "role-api-project-member",
    "viewer": "role-api-project-viewer",
}
_ROLE_NAMES = {v: k for k, v in _BUILTIN_ROLES.items()}


class _Seed(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class SeedUser(_Seed):
    id: str | None = None
    email: str = Field(min_length=3)
    name: str = ""
    role: Literal["owner", "reader"] = "reader"
    added_at: int | None = None
    technical_level: str | None = None
    developer_persona: str | None = None
    scim_managed: bool = False  # provisioned by the identity provider (the spec's `is_scim_managed`)


class SeedGroup(_Seed):
    id: str | None = None
    name: str = Field(min_length=1)
    created_at: int | None = None
    scim_managed: bool = False
    users: list[str] = Field(default_factory=list)  # ids or emails of organization users


class SeedInviteProject(_Seed):
    id: str
    role: Literal["member", "owner"]


class SeedInvite(_Seed):
    id: str | None = None
    email: str = Field(min_length=3)
    role: Literal["reader", "owner"] = "reader"
    status: Literal["pending", "accepted", "expired"] = "pending"
    created_at: int | None = None
    expires_at: int | None = None
    accepted_at: int | None = None
    projects: list[SeedInviteProject] = Field(default_factory=list)


class SeedKeyOwner(_Seed):
    id: str
    type: Literal["user", "service_account"] = "user"
    name: str = ""


class SeedAdminKey(_Seed):
    id: str | None = None
    name: str | None = None
    redacted_value: str = Field(min_length=1)
    owner: SeedKeyOwner
    created_at: int | None = None
    expires_at: int | None = None
    last_used_at: int | None = None


class SeedProjectUser(_Seed):
    user: str = Field(min_length=1)  # an id or an email of an organization user
    role: Literal["owner", "member"]
    added_at: int | None = None


class SeedProjectGroup(_Seed):
    group: str = Field(min_length=1)  # an id or a name of an organization group
    role: str | None = None  # owner | member | viewer, or a role id
    roles: list[str] | None = None
    created_at: int | None = None

    @model_validator(mode="after")
    def _one_of(self) -> SeedProjectGroup:
        if (self.role is None) == (self.roles is None):
            raise ValueError("give either role or roles")
        return self

    def role_ids(self) -> list[str]:
        names = [self.role] if self.role is not None else list(self.roles or [])
        return [_BUILTIN_ROLES.get(name, name) for name in names]


class SeedServiceAccount(_Seed):
    id: str | None = None
    name: str = Field(min_length=1)
    role: Literal["owner", "member", "none"] = "member"
    created_at: int | None = None


class SeedApiKeyOwner(_Seed):
    type: Literal["user", "service_account"]
    id: str  # a user id or email; a service account id or name (of this project)


class SeedApiKey(_Seed):
    id: str | None = None
    name: str = "Secret key"
    redacted_value: str | None = None
    owner: SeedApiKeyOwner
    created_at: int | None = None
    last_used_at: int | None = None
    expires_at: int | None = None  # the SDK's field: absent or null, the key never expires
    spend_limit: SeedSpendLimit | None = None  # the SDK's per-key monthly cap, in USD cents; absent: none
    scopes: list[str] | None = None  # as made, in the audit log ([]: all permissions); absent: no record


def _find_user(users: Sequence[SeedUser], ref: str) -> SeedUser | None:
    return next((u for u in users if u.id == ref or u.email.casefold() == ref.casefold()), None)


def check_access(document: Any) -> None:
    """Every reference in a seed (project users, groups, key owners) names something that exists."""
    users: list[SeedUser] = document.users
    groups: list[SeedGroup] = document.groups
    for group in groups:
        for member in group.users:
            if _find_user(users, member) is None:
                raise ValueError(f"group {group.name!r}: no user {member!r} among the organization's users")
    for project in document.projects:
        for member in project.users:
            if _find_user(users, member.user) is None:
                raise ValueError(f"project {project.name!r}: no user {member.user!r} among the organization's users")
        for grant in project.groups:
            if not [g for g in groups if grant.group in (g.id, g.name)]:
                raise ValueError(f"project {project.name!r}: no group {grant.group!r} among the organization's groups")
        for key in project.api_keys:
            if key.owner.type == "user" and _find_user(users, key.owner.id) is None:
                raise ValueError(f"project {project.name!r}: key owner {key.owner.id!r} is not a user")
            if key.owner.type == "service_account" and not [
                a for a in project.service_accounts if key.owner.id in (a.id, a.name)
            ]:
                raise ValueError(f"project {project.name!r}: key owner {key.owner.id!r} is not a service account here")


def _fresh(ids: IdFactory, prefix: str, taken: set[str], wanted: str | None) -> str:
    chosen = wanted if wanted is not None else ids.unused(prefix, taken)
    taken.add(chosen)
    return chosen


def access_from_seed(document: Any, state: EmulatorState, ids: IdFactory, now: int) -> None:
    """Fill the state's access records from a validated seed (projects already built, in seed order)."""
    taken: set[str] = {x.id for x in (*document.users, *document.groups, *document.invites) if x.id is not None}
    for entry in document.users:
        user = UserRecord(
            id=_fresh(ids, "user-", taken, entry.id),
            email=entry.email,
            name=entry.name,
            role=entry.role,
            added_at=entry.added_at if entry.added_at is not None else now,
            technical_level=entry.technical_level,
            developer_persona=entry.developer_persona,
            scim_managed=entry.scim_managed,
        )
        state.users[user.id] = user
    for entry in document.groups:
        group = GroupRecord(
            id=_fresh(ids, "group_", taken, entry.id),
            name=entry.name,
            created_at=entry.created_at if entry.created_at is not None else now,
            scim_managed=entry.scim_managed,
            user_ids=list(dict.fromkeys(_user_id(state, member) for member in entry.users)),
        )
        state.groups[group.id] = group
    for entry in document.invites:
        invite = InviteRecord(
            id=_fresh(ids, "invite-", taken, entry.id),
            email=entry.email,
            role=entry.role,
            status=entry.status,
            created_at=entry.created_at if entry.created_at is not None else now,
            expires_at=entry.expires_at,
            accepted_at=entry.accepted_at,
            projects=[{"id": p.id, "role": p.role} for p in entry.projects],
        )
        state.invites[invite.id] = invite
    for entry in document.admin_api_keys:
        key = AdminKeyRecord(
            id=_fresh(ids, "key_", taken, entry.id),
            name=entry.name,
            redacted_value=entry.redacted_value,
            owner_id=_user_id(state, entry.owner.id) if entry.owner.type == "user" else entry.owner.id,
            owner_type=entry.owner.type,
            owner_name=entry.owner.name,
            created_at=entry.created_at if entry.created_at is not None else now,
            expires_at=entry.expires_at,
            last_used_at=entry.last_used_at,
        )
        state.admin_api_keys[key.id] = key
    for seeded, project in zip(document.projects, state.projects.values(), strict=True):
        _project_access(seeded, project, state, ids, now, taken)


def _user_id(state: EmulatorState, ref: str) -> str:
    if ref in state.users:
        return ref
    return next((u.id for u in state.users.values() if u.email.casefold() == ref.casefold()), ref)


def _project_access(
    seeded: Any, project: ProjectRecord, state: EmulatorState, ids: IdFactory, now: int, taken: set[str]
) -> None:
    for member in seeded.users:
        project.users[_user_id(state, member.user)] = MemberRecord(
            role=member.role, added_at=member.added_at if member.added_at is not None else now
        )
    for grant in seeded.groups:
        group_id = next(g.id for g in state.groups.values() if grant.group in (g.id, g.name))
        project.groups[group_id] = GroupGrantRecord(
            role_ids=grant.role_ids(), created_at=grant.created_at if grant.created_at is not None else now
        )
    for entry in seeded.service_accounts:
        account = ServiceAccountRecord(
            id=_fresh(ids, "svc_acct_", taken, entry.id),
            name=entry.name,
            role=entry.role,
            created_at=entry.created_at if entry.created_at is not None else now,
        )
        project.service_accounts[account.id] = account
    for entry in seeded.api_keys:
        if entry.owner.type == "user":
            owner_id = _user_id(state, entry.owner.id)
        else:
            owner_id = next(a.id for a in project.service_accounts.values() if entry.owner.id in (a.id, a.name))
        key_id = _fresh(ids, "key_", taken, entry.id)
        key = ApiKeyRecord(
            id=key_id,
            name=entry.name,
            redacted_value=entry.redacted_value or f"sk-...{key_id[-4:]}",
            owner_type=entry.owner.type,
            owner_id=owner_id,
            created_at=entry.created_at if entry.created_at is not None else now,
            last_used_at=entry.last_used_at,
            expires_at=entry.expires_at,
            spend_limit=key_spend_limit(entry.spend_limit.threshold_amount) if entry.spend_limit else None,
            scopes=tuple(entry.scopes) if entry.scopes is not None else None,
        )
        project.api_keys[key.id] = key
        if entry.scopes is not None:  # the creation the audit log saw
            details = {"id": key.id, "data": {"scopes": list(entry.scopes)}}
            event = Event(ids.resource("audit_log-", 24), "api_key.created", key.created_at, project.id, details)
            state.events.append(event)


def dump_organization_access(state: EmulatorState) -> dict[str, Any]:
    """The top-level seed fields of access, every field filled in."""
    return {
        "users": [
            {
                "id": u.id,
                "email": u.email,
                "name": u.name,
                "role": u.role,
                "added_at": u.added_at,
                "technical_level": u.technical_level,
                "developer_persona": u.developer_persona,
                "scim_managed": u.scim_managed,
            }
            for u in state.users.values()
        ],
        "groups": [
            {
                "id": g.id,
                "name": g.name,
                "created_at": g.created_at,
                "scim_managed": g.scim_managed,
                "users": list(g.user_ids),
            }
            for g in state.groups.values()
        ],
        "invites": [
            {
                "id": i.id,
                "email": i.email,
                "role": i.role,
                "status": i.status,
                "created_at": i.created_at,
                "expires_at": i.expires_at,
                "accepted_at": i.accepted_at,
                "projects": [dict(p) for p in i.projects],
            }
            for i in state.invites.values()
        ],
        "admin_api_keys": [
            {
                "id": k.id,
                "name": k.name,
                "redacted_value": k.redacted_value,
                "owner": {"id": k.owner_id, "type": k.owner_type, "name": k.owner_name},
                "created_at": k.created_at,
                "expires_at": k.expires_at,
                "last_used_at": k.last_used_at,
            }
            for k in state.admin_api_keys.values()
        ],
    }


def dump_project_access(project: ProjectRecord) -> dict[str, Any]:
    """A project's seed fields of access, every field filled in, everything by id."""
    return {
        "users": [{"user": uid, "role": m.role, "added_at": m.added_at} for uid, m in project.users.items()],
        "groups": [
            {"group": gid, "roles": _role_names(g.role_ids), "created_at": g.created_at}
            for gid, g in project.groups.items()
        ],
        "service_accounts": [
            {"id": a.id, "name": a.name, "role": a.role, "created_at": a.created_at}
            for a in project.service_accounts.values()
        ],
        "api_keys": [
            {
                "id": k.id,
                "name": k.name,
                "redacted_value": k.redacted_value,
                "owner": {"type": k.owner_type, "id": k.owner_id},
                "created_at": k.created_at,
                "last_used_at": k.last_used_at,
                "expires_at": k.expires_at,
                "spend_limit": {"threshold_amount": k.spend_limit["threshold_amount"]} if k.spend_limit else None,
                "scopes": list(k.scopes) if k.scopes is not None else None,
            }
            for k in project.api_keys.values()
        ],
    }


def _role_names(role_ids: Iterable[str]) -> list[str]:
    return [_ROLE_NAMES.get(r, r) for r in role_ids]
