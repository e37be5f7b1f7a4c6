"""Drift: the small changes people make by hand in a live organization, made directly in the emulator's state.

Each drift picks its target at random among what the desired state manages, so the next plan has something
to correct. Drift writes the state itself, as the dashboard would, so it leaves no entry in the emulator's
request log: every logged write is the reconciler's.

    drifter = Drifter(emulator, desired, random.Random(1))
    drifter.drift()          # -> "hosted_tool", or None when no drift applied this time
    drifter.made             # Counter of the drifts made, by name
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from datacontrols.adminapi.retention import ORGANIZATION_RETENTION_TYPES, PROJECT_RETENTION_TYPES
from datacontrols.desired.schema import DesiredState, ProjectFile, ProjectSettings
from datacontrols.emulator import Emulator
from datacontrols.emulator.state import (
    ApiKeyRecord,
    MemberRecord,
    ModelPolicy,
    ProjectRecord,
    SpendAlertRecord,
)

__all__ = ["Drifter"]

T = TypeVar("T")
_OLD = 1_600_000_000  # 2020: any key created then is past every max_age_days


@dataclass
class Drifter:
    emulator: Emulator
    desired: DesiredState
    rng: random.Random
    renames: bool = True  # a renamed project makes the reconciler create a new one: the duplicate test's best case
    only: frozenset[str] | None = None  # the drifts to choose from (names as in `made`); None: all
    made: Counter[str] = field(default_factory=Counter)
    _serial: int = 0

    def drift(self) -> str | None:
        """Make one drift chosen at random; its name, or None when the chosen one had no target."""
        choices: list[tuple[str, Callable[[], bool], int]] = [
            ("organization_retention", self._organization_retention, 2),
            ("project_retention", self._project_retention, 3),
            ("hosted_tool", self._hosted_tool, 3),
            ("model_policy", self._model_policy, 3),
            ("rate_limit", self._rate_limit, 3),
            ("spend_limit", self._spend_limit, 3),
            ("spend_alert", self._spend_alert, 3),
            ("project_user", self._project_user, 3),
            ("service_account", self._service_account, 3),
            ("group_grant", self._group_grant, 2),
            ("stale_user_key", self._stale_user_key, 2),
        ]
        if self.renames:
            choices.append(("project_renamed", self._rename, 1))
        if self.only is not None:
            choices = [choice for choice in choices if choice[0] in self.only]
        name, make, _ = self.rng.choices(choices, weights=[w for _, _, w in choices])[0]
        if not make():
            return None
        self.made[name] += 1
        return name

    # --- targets ---------------------------------------------------------------------------------------

    def _managed(self) -> list[tuple[ProjectFile, ProjectSettings, ProjectRecord]]:
        """Active desired projects with their live record (matched by name, as the engine does)."""
        live = {p.name: p for p in self.emulator.state.projects.values() if not p.archived}
        return [
            (file, self.desired.effective(file), live[file.name])
            for file in self.desired.projects
            if file.status == "active" and file.name in live
        ]

    def _pick(self, items: list[T]) -> T | None:
        return self.rng.choice(items) if items else None

    def _next(self) -> int:
        self._serial += 1
        return self._serial

    # --- the drifts ------------------------------------------------------------------------------------

    def _organization_retention(self) -> bool:
        if self.desired.organization.organization.data_retention is None:
            return False
        organization = self.emulator.state.organization
        organization.data_retention = self.rng.choice(
            [t for t in ORGANIZATION_RETENTION_TYPES if t != organization.data_retention]
        )
        return True

    def _project_retention(self) -> bool:
        target = self._pick([live for _, wanted, live in self._managed() if wanted.data_retention is not None])
        if target is None:
            return False
        target.data_retention = self.rng.choice([t for t in PROJECT_RETENTION_TYPES if t != target.data_retention])
        return True

    def _hosted_tool(self) -> bool:
        candidates = [
            (live, tool)
            for _, wanted, live in self._managed()
            if wanted.hosted_tools is not None
            for tool in wanted.hosted_tools
        ]
        chosen = self._pick(candidates)
        if chosen is None:
            return False
        live, tool = chosen
        live.hosted_tools[tool] = not live.hosted_tools.get(tool, True)
        return True

    def _model_policy(self) -> bool:
        target = self._pick([live for _, wanted, live in self._managed() if wanted.model_permissions is not None])
        if target is None:
            return False
        if target.model_permissions is None or self.rng.random() < 0.5:
            target.model_permissions = ModelPolicy(self.rng.choice(["allow_list", "deny_list"]), ["gpt-4o"])
        else:
            target.model_permissions = None
        return True

    def _rate_limit(self) -> bool:
        candidates = [
            (live, model, limit)
            for _, wanted, live in self._managed()
            for model, fields in (wanted.rate_limits or {}).items()
            for limit in fields.model_dump(exclude_none=True)
        ]
        chosen = self._pick(candidates)
        if chosen is None:
            return False
        live, model, limit = chosen
        live.rate_limits.setdefault(model, {})[limit] = self.rng.randint(1, 50)
        return True

    def _spend_limit(self) -> bool:
        projects = [live for _, wanted, live in self._managed() if wanted.spend_limit is not None]
        organization = self.emulator.state.organization
        holders: list[ProjectRecord | None] = [*projects]
        if self.desired.organization.organization.spend_limit is not None:
            holders.append(None)
        if not holders:
            return False
        holder = self.rng.choice(holders)
        value = None if self.rng.random() < 0.3 else self.rng.randint(100, 10_000_00)
        if holder is None:
            organization.spend_limit = value
        else:
            holder.spend_limit = value
        return True

    def _spend_alert(self) -> bool:
        lists = [live.spend_alerts for _, wanted, live in self._managed() if wanted.spend_alerts is not None]
        if self.desired.organization.organization.spend_alerts is not None:
            lists.append(self.emulator.state.organization.spend_alerts)
        alerts = self._pick(lists)
        if alerts is None:
            return False
        roll = self.rng.random()
        if alerts and roll < 0.35:
            alerts.remove(self.rng.choice(alerts))
        elif alerts and roll < 0.7:
            self.rng.choice(alerts).recipients = [f"someone-{self._next()}@example.com"]
        else:
            serial = self._next()
            alerts.append(SpendAlertRecord(f"alert_drift{serial:08d}", 700_000 + serial, ["drift@example.com"]))
        return True

    def _project_user(self) -> bool:
        users = self.emulator.state.users
        by_email = {u.email.lower(): u.id for u in users.values()}
        candidates = [(file, live) for file, _, live in self._managed() if file.members and file.members.users]
        chosen = self._pick(candidates)
        if chosen is None:
            return False
        file, live = chosen
        assert file.members is not None and file.members.users is not None
        listed = {by_email[e.lower()]: role for e, role in file.members.users.items() if e.lower() in by_email}
        unlisted = [uid for uid in users if uid not in listed and uid not in live.users]
        owners = [uid for uid, m in live.users.items() if m.role == "owner"]
        roll = self.rng.random()
        if unlisted and roll < 0.4:  # someone added by hand (authoritative mode removes them)
            live.users[self.rng.choice(unlisted)] = MemberRecord("member")
            return True
        present = [uid for uid in listed if uid in live.users]
        # Never take the last owner away: the lock-out guard would then rightly refuse every plan.
        removable = [uid for uid in present if live.users[uid].role != "owner" or len(owners) > 1]
        if removable and roll < 0.7:
            del live.users[self.rng.choice(removable)]
            return True
        flippable = [uid for uid in present if live.users[uid].role != "owner"]
        if flippable:
            live.users[self.rng.choice(flippable)].role = "owner"  # made an owner by hand
            return True
        return False

    def _service_account(self) -> bool:
        candidates = [
            (live, account)
            for file, _, live in self._managed()
            if file.members and file.members.service_accounts
            for account in live.service_accounts.values()
            if account.name in file.members.service_accounts
        ]
        chosen = self._pick(candidates)
        if chosen is None:
            return False
        live, account = chosen
        if self.rng.random() < 0.6:  # deleted by hand: the reconciler creates it again, once
            del live.service_accounts[account.id]
            for key_id in [k for k, key in live.api_keys.items() if key.owner_id == account.id]:
                del live.api_keys[key_id]
        else:
            account.role = "owner" if account.role != "owner" else "member"
        return True

    def _group_grant(self) -> bool:
        groups = {g.name: g.id for g in self.emulator.state.groups.values()}
        candidates = [
            (live, groups[name])
            for file, _, live in self._managed()
            if file.members and file.members.groups
            for name in file.members.groups
            if name in groups and groups[name] in live.groups
        ]
        chosen = self._pick(candidates)
        if chosen is None:
            return False
        live, group_id = chosen
        del live.groups[group_id]
        return True

    def _stale_user_key(self) -> bool:
        candidates = [
            (live, uid)
            for _, wanted, live in self._managed()
            if wanted.keys is not None and wanted.keys.prune == "delete"
            for uid in live.users
        ]
        chosen = self._pick(candidates)
        if chosen is None:
            return False
        live, uid = chosen
        serial = self._next()
        key_id = f"key_drift{serial:016d}"
        live.api_keys[key_id] = ApiKeyRecord(
            id=key_id,
            name=f"laptop-{serial}",
            redacted_value=f"sk-abc...D{serial:03d}"[-14:],
            owner_type="user",
            owner_id=uid,
            created_at=_OLD,
            last_used_at=None,
        )
        return True

    def _rename(self) -> bool:
        target = self._pick([live for _, _, live in self._managed() if not live.default])
        if target is None:
            return False
        target.name = f"{target.name} (renamed {self._next()})"
        return True
