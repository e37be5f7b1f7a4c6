"""The /status document: the full one, the summary anyone who can reach the port may read, and who gets which.

The full document holds what the organization is made of: member emails, key names, project names, the plan.
The port is reachable by whatever runs in the cluster, so without a token /status answers a summary of states
and counts only, built by copying an allow-list of fields out of the full document (a field added to the full
document later stays out of the summary until someone decides it is harmless).

With `DATACONTROLS_STATUS_TOKEN` set, a request carrying `Authorization: Bearer <token>` gets the full
document. Any other Authorization header (a wrong token, another scheme, a token when none is configured)
gets 401: a client that sends a token means to see the detail, and a silently smaller answer would hide its
misconfiguration. The comparison takes the same time whatever the token (`hmac.compare_digest`).
"""

from __future__ import annotations

import asyncio
import hmac
import re
from collections import Counter
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, Protocol

from pydantic import SecretStr

from datacontrols.daemon.notifications import DriftLedger, now_iso
from datacontrols.daemon.run_record import RunRecord
from datacontrols.redaction import redact_value

if TYPE_CHECKING:
    from datacontrols.daemon.attribution import AuditTrail
    from datacontrols.daemon.readiness import DesiredStateCheck
    from datacontrols.daemon.settings import DaemonSettings

__all__ = ["SUMMARY_NOTE", "TOKEN_ENV", "StatusAccess", "StatusSource", "full_status", "summary_status"]

Access = Literal["full", "summary", "denied"]
TOKEN_ENV = "DATACONTROLS_STATUS_TOKEN"
SUMMARY_NOTE = f"summary: states and counts only; set {TOKEN_ENV} and send 'Authorization: Bearer <token>' for detail"
# A desired-state problem reads `path:line:col: field: message`; the message may quote a name or an email.
_POSITION = re.compile(r"^(?P<where>[^\s:][^:]*:\d+(?::\d+)?)(?=:)")


class StatusAccess:
    """Which /status a request may see, from its Authorization header."""

    def __init__(self, token: SecretStr | None) -> None:
        self._token = token.get_secret_value().encode() if token is not None else None

    @property
    def enabled(self) -> bool:
        return self._token is not None

    def __repr__(self) -> str:
        return f"StatusAccess(enabled={self.enabled})"

    def check(self, authorization: str | None) -> Access:
        if authorization is None or not authorization.strip():
            return "summary"
        scheme, _, given = authorization.strip().partition(" ")
        if self._token is None or scheme.lower() != "bearer":
            return "denied"
        # Encoded first: compare_digest refuses non-ASCII str, and a header may hold any Latin-1 byte.
        return "full" if hmac.compare_digest(given.strip().encode("utf-8"), self._token) else "denied"


class StatusSource(Protocol):
    """What the full document is read from (the daemon)."""

    settings: DaemonSettings
    started_at: float
    last_success_at: float | None
    runs_completed: int
    runs_skipped: int
    current_run: RunRecord | None
    last_run: RunRecord | None
    ledger: DriftLedger
    audit: AuditTrail
    stopping: asyncio.Event
    desired_check: DesiredStateCheck

    @property
    def mode(self) -> str: ...

    def readiness(self) -> tuple[bool, dict[str, Any]]: ...

    def work_progress(self) -> dict[str, Any]: ...


def full_status(daemon: StatusSource) -> dict[str, Any]:
    """The whole /status document: the last run, its plan (JSON v1), drift with authors; no secrets."""
    ready, readiness = daemon.readiness()
    current = daemon.current_run
    document = {
        "service": "openai-datacontrols",
        "detail": "full",
        "started_at": now_iso(daemon.started_at),
        "mode": daemon.mode,
        "interval_seconds": daemon.settings.interval,
        "ready": ready,
        "readiness": readiness,
        "stopping": daemon.stopping.is_set(),
        "organization": daemon.settings.org,  # orgs/NAME/ in a repository of several; None for one
        "desired_state": {
            "path": str(daemon.settings.desired_state),
            "valid": daemon.desired_check.valid,
            "problems": list(daemon.desired_check.problems),
        },
        "last_success_at": now_iso(daemon.last_success_at) if daemon.last_success_at is not None else None,
        "runs": {"finished": daemon.runs_completed, "skipped": daemon.runs_skipped},
        "current_run": (
            {"run_id": current.run_id, "started_at": now_iso(current.started_at), "phase": current.phase}
            if current is not None
            else None
        ),
        "last_run": daemon.last_run.to_json() if daemon.last_run is not None else None,
        "work": daemon.work_progress(),
        "open_drift": [item.to_json() for item in daemon.ledger.open.values()],
        "audit_log": {
            "available": daemon.audit.available,
            "error": daemon.audit.error,
            "events_kept": len(daemon.audit.events),
        },
    }
    return redact_value(document)  # type: ignore[no-any-return]


def summary_status(full: Mapping[str, Any]) -> dict[str, Any]:
    """States and counts only, copied field by field out of the full document: no email, key name, project
    name, plan or error text (readiness is the same as /readyz, which is open)."""
    desired = full.get("desired_state") or {}
    problems = list(desired.get("problems") or [])
    last = full.get("last_run")
    drift = list(full.get("open_drift") or [])
    return {
        "service": full.get("service"),
        "detail": "summary",
        "note": SUMMARY_NOTE,
        **{
            name: full.get(name)
            for name in ("organization", "started_at", "mode", "interval_seconds", "ready", "readiness")
        },
        "stopping": full.get("stopping"),
        "desired_state": {
            "valid": desired.get("valid"),
            "problem_count": len(problems),
            # Where each problem is (files of the desired state, which the reader has), not what it says.
            "problems": [_position(problem) for problem in problems],
        },
        "last_success_at": full.get("last_success_at"),
        "runs": full.get("runs"),
        "current_run": full.get("current_run"),
        "last_run": _run_summary(last) if isinstance(last, Mapping) else None,
        "work": _work_summary(full.get("work") or {}),
        "open_drift": {
            "count": len(drift),
            "by_kind": dict(sorted(Counter(str(item.get("kind")) for item in drift).items())),
            "by_severity": dict(
                sorted(Counter(str(item.get("alert_severity", item.get("severity"))) for item in drift).items())
            ),
        },
        "audit_log": {
            "available": (full.get("audit_log") or {}).get("available"),
            "events_kept": (full.get("audit_log") or {}).get("events_kept"),
        },
    }


def _run_summary(run: Mapping[str, Any]) -> dict[str, Any]:
    fields = ("run_id", "mode", "started_at", "finished_at", "duration_seconds", "outcome", "counts")
    requests = run.get("requests") or {}
    return {
        **{name: run.get(name) for name in fields},
        "requests": {name: requests.get(name) for name in ("total", "rate_limited", "failed")},
        "audit_log": run.get("audit_log"),
    }


def _work_summary(work: Mapping[str, Any]) -> dict[str, Any]:
    # Counts and ages only; the endpoints are route templates (no ids), so their counts are harmless too.
    fields = ("sweeps_completed", "swept_once", "sweep_progress", "queue_depth", "behind_schedule", "lanes")
    return {
        **{name: work.get(name) for name in fields},
        "max_requests_per_minute": work.get("max_requests_per_minute"),
        "requests_last_minute": work.get("requests_last_minute"),
    }


def _position(problem: Any) -> str:
    match = _POSITION.match(str(problem))
    return match.group("where") if match else "(see the full status)"
