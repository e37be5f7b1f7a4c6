"""What the probes answer: alive unless wedged, ready once a run got through with a valid desired state.

The desired state is re-read for every run (a changed ConfigMap applies without a restart), and whether the
last read was valid is part of readiness, so its loading and its verdict live here too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import structlog

from datacontrols.daemon.metrics import DaemonMetrics
from datacontrols.daemon.project_files import project_files_shortfall
from datacontrols.desired import load_desired_state
from datacontrols.desired.schema import DesiredState
from datacontrols.errors import ConfigError, DesiredStateError
from datacontrols.redaction import redact

__all__ = ["DesiredStateCheck", "answer_liveness", "answer_readiness", "hung_threshold"]

log = structlog.get_logger("datacontrols.daemon")


class DesiredStateCheck:
    """The desired state of one daemon, read afresh on each `load()`; remembers whether the last read was valid."""

    def __init__(self, path: Path, metrics: DaemonMetrics, expect_project_files: int | None = None) -> None:
        self.path = path
        self.expect_project_files = expect_project_files
        self.metrics = metrics
        self.valid: bool | None = None  # None: not read yet
        self.problems: list[str] = []
        self._warned: set[str] = set()  # the file is read every run: each warning is logged once

    def load(self) -> DesiredState | None:
        """The desired state, or None when it is invalid (its problems are then in `problems`, and logged)."""
        try:
            # A file lost after the start (git-sync moved to a commit without it) counts as invalid: nothing
            # is applied, so its project is not archived as unmanaged in the meantime.
            if (shortfall := project_files_shortfall(self.path, self.expect_project_files)) is not None:
                raise ConfigError(shortfall)
            desired = load_desired_state(self.path)
        except DesiredStateError as exc:
            problems = [redact(str(p)) for p in exc.problems]
        except ConfigError as exc:
            problems = [exc.message]
        else:
            for warning in sorted(set(desired.warnings) - self._warned):
                log.warning("desired_state_warning", warning=warning)
            self._warned.update(desired.warnings)
            if self.valid is False:
                log.info("desired_state_valid_again")
            self.valid, self.problems = True, []
            self.metrics.desired_state(None)
            return desired
        self.valid, self.problems = False, problems
        self.metrics.desired_state(len(problems))
        log.error("desired_state_invalid", problems=problems[:20], count=len(problems))
        return None


def hung_threshold(interval: float) -> float:
    """A run longer than this is taken as hung (API calls time out long before)."""
    return max(3600.0, 3 * interval)


def answer_liveness(
    *, scheduler_running: bool | None, stopping: bool, running_for: float | None, hung_after: float
) -> tuple[bool, dict[str, Any]]:
    """Alive unless wedged: the scheduler died while not stopping, or one run has gone on far too long.
    Never false because the Admin API is down: a restart would not fix that.

    `scheduler_running` is None before the scheduler exists; `running_for` is None when no run is going."""
    checks: dict[str, Any] = {}
    ok = True
    if scheduler_running is False and not stopping:
        checks["scheduler"] = "stopped"
        ok = False
    else:
        checks["scheduler"] = "running" if scheduler_running else "not started"
    if running_for is not None:
        checks["run_seconds"] = round(running_for, 1)
        if running_for > hung_after:
            checks["run"] = "hung"
            ok = False
    return ok, {"status": "ok" if ok else "failing", "checks": checks}


def answer_readiness(
    *,
    stopping: bool,
    desired_valid: bool | None,
    desired_problems: int,
    completed_once: bool,
    last_success_age: float | None,
    unchecked_for: float | None = None,
    max_staleness: float | None = None,
    last_error: str | None = None,
    key_rejected: int | None = None,
    leader: dict[str, Any] | None = None,
) -> tuple[bool, dict[str, Any]]:
    """Ready after one run that got through with a valid desired state and a working key, until shutdown,
    and while the last successful run is at most `max_staleness` old (a daemon that has not been able to
    check for hours is not keeping its promise, and its pod should say so). `key_rejected` is the HTTP status of
    the API's refusal of the admin key (401, 403) since the last run that got through: at once not ready, for a
    key that does not work will not start working by waiting out the staleness.

    `leader` (`LeaderElection.describe()`, with a Lease): a follower is ready while it is not stopping, for it
    keeps no promise of its own (the leader reads and writes), and a rollout must be able to wait for it."""
    reasons = []
    if stopping:
        reasons.append("shutting down")
    if leader is not None and leader["role"] == "follower":
        return not stopping, {"status": "not ready" if stopping else "ready", "reasons": reasons, "leader": leader}
    if desired_valid is False:
        reasons.append(f"the desired state is invalid ({desired_problems} problem(s))")
    if key_rejected is not None:
        reasons.append(f"admin key rejected (HTTP {key_rejected})")
    if not completed_once:
        reasons.append("no run has completed with a valid desired state yet")
    if max_staleness is not None and unchecked_for is not None and unchecked_for > max_staleness:
        why = f"; the last run: {last_error}" if last_error else ""
        reasons.append(
            f"the organization has not been checked for {unchecked_for:.0f}s (--max-staleness {max_staleness:g}s){why}"
        )
    ready = not reasons
    body: dict[str, Any] = {"status": "ready" if ready else "not ready", "reasons": reasons}
    if last_success_age is not None:
        body["last_success_age_seconds"] = round(last_success_age, 1)
    if leader is not None:
        body["leader"] = leader
    return ready, body
