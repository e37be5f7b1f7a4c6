"""One daemon run as /status and the closing log line show it: when, outcome, plan, drift with authors, requests."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

from datacontrols.adminapi.transport import RequestRecord
from datacontrols.daemon.attribution import Attribution
from datacontrols.daemon.notifications import drift_key, now_iso
from datacontrols.engine import ApplyResult
from datacontrols.plan import Plan
from datacontrols.render.notation import redact_plan

__all__ = ["CANCELLABLE_PHASES", "Outcome", "Phase", "RunRecord"]

Outcome = Literal["running", "success", "failure", "refused", "invalid_desired_state", "interrupted"]
Phase = Literal["load", "observe", "attribute", "apply", "report", "done"]
CANCELLABLE_PHASES = frozenset({"load", "observe", "attribute"})  # nothing is being written


@dataclass
class RunRecord:
    """One run, as /status and the closing log line show it."""

    run_id: str
    mode: str
    started_at: float
    finished_at: float | None = None
    outcome: Outcome = "running"
    phase: Phase = "load"
    error: str | None = None
    plan: Plan | None = None
    result: ApplyResult | None = None
    read_failures: dict[str, str] = field(default_factory=dict)
    attributions: dict[str, Attribution] = field(default_factory=dict)  # drift key -> attribution
    requests: Counter[tuple[str, str, str]] = field(default_factory=Counter)  # (method, template, code) -> count
    audit_events_read: int | None = None
    batch: dict[str, Any] | None = None  # what the work queue gave this run to read (`queue.Batch.describe`)
    not_read: list[str] = field(default_factory=list)  # live projects not planned yet: the first sweep is going

    def count(self, record: RequestRecord) -> None:
        code = str(record.status) if record.status is not None else "error"
        self.requests[(record.method, record.template, code)] += 1

    @property
    def duration(self) -> float | None:
        return None if self.finished_at is None else max(0.0, self.finished_at - self.started_at)

    def counts(self) -> dict[str, int]:
        plan, result = self.plan, self.result
        return {
            "changes": len(plan) if plan is not None else 0,
            "drift": len(plan.drift) if plan is not None else 0,
            "held_back": sum(1 for c in plan.drift if c.enforcement == "report") if plan is not None else 0,
            "applied": len(result.applied) if result else 0,
            "failed": len(result.failed) if result else 0,
            "skipped": len(result.skipped) if result else 0,
            "requests": sum(self.requests.values()),
            "rate_limited": sum(n for (_, _, code), n in self.requests.items() if code == "429"),
            "read_failures": len(self.read_failures),
            "not_read": len(self.not_read),
        }

    def to_json(self) -> dict[str, Any]:
        plan = self.plan
        drift = []
        for change in plan.drift if plan is not None else ():
            key = drift_key(change)
            attribution = self.attributions.get(key)
            drift.append(
                {"key": key, **change.to_json(), "attribution": attribution.to_json() if attribution else None}
            )
        result = self.result
        by_endpoint = [
            {"method": method, "endpoint": template, "status": code, "count": count}
            for (method, template, code), count in sorted(self.requests.items())
        ]
        counts = self.counts()
        return {
            "run_id": self.run_id,
            "mode": self.mode,
            "started_at": now_iso(self.started_at),
            "finished_at": now_iso(self.finished_at) if self.finished_at is not None else None,
            "duration_seconds": round(self.duration, 3) if self.duration is not None else None,
            "outcome": self.outcome,
            "error": self.error,
            "counts": counts,
            "plan": redact_plan(plan).to_json() if plan is not None else None,
            "plan_digest": plan.digest() if plan is not None else None,
            "drift": drift,
            "findings": [c.to_json() for c in plan.changes if c.action == "report"] if plan is not None else [],
            "applied": [c.to_json() for c in result.applied] if result else [],
            "failed": [{**c.to_json(), "error": why} for c, why in result.failed] if result else [],
            "skipped": [c.to_json() for c in result.skipped] if result else [],
            "read_failures": dict(self.read_failures),
            "requests": {
                "total": counts["requests"],
                "rate_limited": counts["rate_limited"],
                "failed": sum(n for (_, _, code), n in self.requests.items() if code == "error" or code[0] == "5"),
                "by_endpoint": by_endpoint,
            },
            "audit_log": {"events_read": self.audit_events_read},
            "batch": self.batch,
        }
