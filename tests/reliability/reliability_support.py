"""What the reliability tests share: the organization they run against, fake time, quiet logs, the slow switch,
the figures they report, and the invariants every run must keep.

A module of its own (not conftest): pytest imports test directories' conftests under one shared name.

The organization is the one `reconcile demo` uses: `desired_state/` of this repository against the drifted
`demo_seed.yaml`, which between them touch every kind (retention, projects created and archived, models,
tools, rate and spend limits, alerts, users, groups, service accounts, key pruning).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shutil
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import pytest
import structlog

from datacontrols.demo import demo_seed_path
from datacontrols.emulator import Emulator, RequestLogEntry
from datacontrols.emulator.app import API_PREFIX
from datacontrols.plan import Change, Plan

REPO: Final = Path(__file__).resolve().parents[2]
DESIRED_STATE: Final = REPO / "desired_state"
DEMO_SEED: Final = demo_seed_path()
ADMIN_KEY: Final = "sk-admin-reliability-Qm3v8ZkT2pLx7RcN4wYb9HdF6sJa1Ue0"

# --- the desired state -------------------------------------------------------------------------------------

# The thresholds are not under test here (tests/gitops has them): rounds of hand-made drift on top of the
# demo's first plan would otherwise make many runs refusals, and nothing would be written to crash or soak.
LOOSE_SAFETY: Final = """
safety:
  archives: {max_percent: 100}
  removals: {max_percent: 100}
  updates: {max_percent: 100}
"""


def desired_copy(target: Path) -> Path:
    """A copy of desired_state/ to edit, with thresholds that let any plan through."""
    shutil.copytree(DESIRED_STATE, target)
    organization = target / "organization.yaml"
    text = organization.read_text()
    assert "\nsafety:" not in text, "desired_state/organization.yaml has its own safety: merge LOOSE_SAFETY into it"
    organization.write_text(text + LOOSE_SAFETY)
    return target


# --- the slow switch ---------------------------------------------------------------------------------------

SLOW: Final = os.environ.get("DATACONTROLS_SLOW") == "1"
SLOW_COMMAND: Final = "DATACONTROLS_SLOW=1 uv run pytest tests/reliability -m slow"


def slow(test: Any) -> Any:
    """The long variant of a test: marked `slow`, and skipped unless DATACONTROLS_SLOW=1."""
    skip = pytest.mark.skipif(not SLOW, reason=f"long reliability variant; run with `{SLOW_COMMAND}`")
    return pytest.mark.slow(skip(test))


def scaled(ci: int, long: int) -> int:
    """The size of a run: `ci` by default, `long` when the slow variants are asked for."""
    return long if SLOW else ci


# --- figures -----------------------------------------------------------------------------------------------

REPORT_ENV: Final = "DATACONTROLS_RELIABILITY_REPORT"


def report(test: str, **figures: Any) -> None:
    """Print a test's figures (shown with `pytest -s`) and, with DATACONTROLS_RELIABILITY_REPORT=FILE, append
    them to FILE as one JSON line: docs/reliability.md is written from that file."""
    line = json.dumps({"test": test, "slow": SLOW, **figures}, sort_keys=True, default=str)
    print(f"\nreliability: {line}")
    target = os.environ.get(REPORT_ENV)
    if target:
        with open(target, "a", encoding="utf-8") as out:
            out.write(line + "\n")


# --- logs -----------------------------------------------------------------------------------------


@contextlib.contextmanager
def quiet_logs() -> Iterator[None]:
    """Drop every structlog event for the block (thousands of cycles would print megabytes), then restore."""
    saved = structlog.get_config()
    structlog.configure(
        processors=[],
        logger_factory=structlog.ReturnLoggerFactory(),
        wrapper_class=structlog.make_filtering_bound_logger(logging.CRITICAL),
        cache_logger_on_first_use=False,
    )
    try:
        yield
    finally:
        structlog.configure(**saved)


# --- invariants of the organization --------------------------------------------------------------------------


def duplicates(emulator: Emulator) -> list[str]:
    """Everything the emulator holds twice that a reconciler must never create twice. Empty: none."""
    state = emulator.state
    found: list[str] = []
    active = Counter(p.name for p in state.projects.values() if not p.archived)
    found += [f"active project {name!r} x{n}" for name, n in active.items() if n > 1]
    org_alerts = Counter(a.threshold_amount for a in state.organization.spend_alerts)
    found += [f"organization spend alert at {cents} cents x{n}" for cents, n in org_alerts.items() if n > 1]
    for project in state.projects.values():
        accounts = Counter(a.name for a in project.service_accounts.values())
        found += [f"{project.name!r}: service account {name!r} x{n}" for name, n in accounts.items() if n > 1]
        alerts = Counter(a.threshold_amount for a in project.spend_alerts)
        found += [f"{project.name!r}: spend alert at {cents} cents x{n}" for cents, n in alerts.items() if n > 1]
    pending = Counter(i.email.lower() for i in state.invites.values() if i.status == "pending")
    found += [f"pending invite for {email} x{n}" for email, n in pending.items() if n > 1]
    return found


def faults_by_kind(entries: Iterable[RequestLogEntry]) -> Counter[str]:
    """Injected faults in a request log, by kind; `*_after_write` for a 5xx or drop that struck after the
    write was applied (the client was told it failed, though it had not)."""
    counts: Counter[str] = Counter()
    for entry in entries:
        if entry.fault is None:
            continue
        late = entry.applied and entry.method != "GET"
        counts[f"{entry.fault}_after_write" if late else entry.fault] += 1
    return counts


# --- "no change other than the planned ones is ever written" ------------------------------------------------

_P = "/organization/projects/{project_id}"
# The endpoints each kind's apply may write to (templates as the emulator logs them, without /v1).
KIND_WRITES: Final[Mapping[str, frozenset[str]]] = {
    "organization_data_retention": frozenset({"/organization/data_retention"}),
    "project": frozenset({"/organization/projects", _P, f"{_P}/archive"}),
    "project_data_retention": frozenset({f"{_P}/data_retention"}),
    "project_model_permissions": frozenset({f"{_P}/model_permissions"}),
    "project_hosted_tools": frozenset({f"{_P}/hosted_tool_permissions"}),
    "project_rate_limit": frozenset({f"{_P}/rate_limits/{{rate_limit_id}}"}),
    "spend_limit": frozenset({"/organization/spend_limit", f"{_P}/spend_limit"}),
    "spend_alert": frozenset(
        {"/organization/spend_alerts", "/organization/spend_alerts/{alert_id}"}
        | {f"{_P}/spend_alerts", f"{_P}/spend_alerts/{{alert_id}}"}
    ),
    "project_user": frozenset({f"{_P}/users", f"{_P}/users/{{user_id}}"}),
    "project_group": frozenset(
        {f"{_P}/groups", f"{_P}/groups/{{group_id}}"}
        | {"/projects/{project_id}/groups/{group_id}/roles", "/projects/{project_id}/groups/{group_id}/roles/{role_id}"}
    ),
    "project_service_account": frozenset({f"{_P}/service_accounts", f"{_P}/service_accounts/{{service_account_id}}"}),
    "project_api_key": frozenset({f"{_P}/api_keys/{{api_key_id}}"}),
    "invite": frozenset({"/organization/invites", "/organization/invites/{invite_id}"}),
}
# What names the thing a create makes, in its body: a create is for the change whose subject it names.
_CREATED_BY: Final[Mapping[str, str]] = {
    "/organization/projects": "name",
    f"{_P}/service_accounts": "name",
}


def path_params(template: str, path: str) -> dict[str, str]:
    """`{"project_id": "proj_1"}` from a template and the concrete path it matched (without /v1)."""
    pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))
    found = re.fullmatch(pattern, path)
    return dict(found.groupdict()) if found else {}


@dataclass(frozen=True)
class Write:
    """An applied write from the request log, with what identifies its target."""

    entry: RequestLogEntry
    params: Mapping[str, str]

    @classmethod
    def of(cls, entry: RequestLogEntry) -> Write:
        path = entry.path.removeprefix(API_PREFIX)
        return cls(entry, path_params(entry.template or "", path))

    def describe(self) -> str:
        return f"{self.entry.method} {self.entry.path} (fault={self.entry.fault}, body={self.entry.body})"


def _planned_for(write: Write, change: Change, created: Mapping[str, str]) -> bool:
    template = write.entry.template or ""
    if template not in KIND_WRITES.get(change.kind, frozenset()):
        return False
    project_id = write.params.get("project_id")
    if project_id is not None:
        # A project made by this very plan has no id in the change: it is the live project of that name.
        wanted = change.facts.project_id or created.get(change.project or "")
        if change.project is None or project_id != wanted:
            return False
    elif change.project is not None and change.kind not in ("invite", "project"):
        return False
    for name, value in write.params.items():
        # The facts name the ids apply sends by the API's own parameter names (`user_id`, `alert_id`, ...).
        if name != "project_id" and getattr(change.facts, name, None) not in (None, value):
            return False
    field = _CREATED_BY.get(template)
    if field is not None and write.entry.method == "POST":
        body = write.entry.body if isinstance(write.entry.body, dict) else {}
        return body.get(field) in (change.project if change.kind == "project" else change.subject,)
    return True


def unplanned_writes(entries: Iterable[RequestLogEntry], plan: Plan, emulator: Emulator) -> list[str]:
    """The applied writes among `entries` that no applicable change of `plan` accounts for. Empty: none."""
    created = {p.name: p.id for p in emulator.state.projects.values() if not p.archived}
    applicable = plan.applicable
    return [
        write.describe()
        for write in map(Write.of, entries)
        if write.entry.applied
        and write.entry.method != "GET"
        and not any(_planned_for(write, change, created) for change in applicable)
    ]


def creates_applied_twice(entries: Iterable[RequestLogEntry]) -> list[str]:
    """Creates that took effect more than once in `entries` (one run): same collection, same name."""
    made: Counter[tuple[str, str]] = Counter()
    for entry in entries:
        field = _CREATED_BY.get(entry.template or "")
        if field is None or entry.method != "POST" or not entry.applied:
            continue
        body = entry.body if isinstance(entry.body, dict) else {}
        made[(entry.path, str(body.get(field)))] += 1
    return [f"POST {path} name={name!r} applied x{n}" for (path, name), n in made.items() if n > 1]
