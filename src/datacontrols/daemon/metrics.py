"""The daemon's Prometheus metrics, in a registry of its own (so two daemons in one test never collide).

Every label is bounded: modes, results, kind names, severities, HTTP methods, route templates and status
codes. No project name, id, email or request id is ever a label (one organization per deployment is implied
by the scrape target's own labels).

    datacontrols_runs_total{mode,result}                      result: success|failure|refused (a safety
                                                               threshold or guard)|invalid_desired_state|
                                                               interrupted|skipped
    datacontrols_runs_skipped_total{reason}                   overlap|missed|shutting_down
    datacontrols_run_duration_seconds{mode}                   histogram
    datacontrols_run_in_progress                              1 while a run is going
    datacontrols_last_run_timestamp_seconds                   end of the last run, whatever its result
    datacontrols_last_success_timestamp_seconds               end of the last successful run
    datacontrols_changes_applied_total{kind,action}
    datacontrols_changes_failed_total{kind,action}
    datacontrols_drift_open{kind,severity}                    drift items open after the last run
    datacontrols_changes_held_back{kind}                      drift that enforcement `report` keeps from applying
    datacontrols_desired_state_invalid                        1 while the desired state on disk is invalid
    datacontrols_desired_state_problems                       how many problems it has
    datacontrols_api_requests_total{method,endpoint,code}     code: the HTTP status, or "error" (no answer)
    datacontrols_api_request_duration_seconds{method,endpoint}
    datacontrols_api_rate_limited_total{endpoint}             429 answers (each was retried)
    datacontrols_audit_log_reads_total{result}                success|failure
    datacontrols_notifications_total{event,result}            sent|failed
    datacontrols_work_queue_depth                             work items due now, not yet read
    datacontrols_sweeps_completed                             times every work item was read since the start
    datacontrols_sweep_progress_ratio                         share of the items read in the sweep under way
    datacontrols_oldest_read_age_seconds{lane}                organization|quick (unaudited controls)|full
    datacontrols_request_budget_per_minute                    the cap per endpoint (--max-requests-per-minute)
    datacontrols_requests_last_minute{endpoint}               requests sent in the last minute, against the cap
    datacontrols_build_info{version,python}                   always 1
    datacontrols_organization_info{org}                       always 1: the organization served ("" for one)
"""

from __future__ import annotations

import platform
from collections.abc import Iterable, Mapping
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)

from datacontrols import __version__
from datacontrols.adminapi.transport import RequestRecord
from datacontrols.plan import Change

__all__ = ["CONTENT_TYPE_LATEST", "DaemonMetrics"]

# `*_created` series double the exposition for nothing a dashboard uses.
disable_created_metrics()  # type: ignore[no-untyped-call]

_RUN_BUCKETS = (0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800)
_REQUEST_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class DaemonMetrics:
    """Counters, gauges and histograms of one daemon; `render()` gives the exposition text."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.runs = Counter("datacontrols_runs", "Reconcile runs by mode and result", ["mode", "result"], registry=r)
        self.runs_skipped = Counter(
            "datacontrols_runs_skipped",
            "Runs not started: one was still going, missed, or shutting down",
            ["reason"],
            registry=r,
        )
        self.run_duration = Histogram(
            "datacontrols_run_duration_seconds", "Duration of a run", ["mode"], buckets=_RUN_BUCKETS, registry=r
        )
        self.run_in_progress = Gauge("datacontrols_run_in_progress", "1 while a run is going", registry=r)
        self.last_run = Gauge(
            "datacontrols_last_run_timestamp_seconds", "Unix time the last run ended, whatever its result", registry=r
        )
        self.last_success = Gauge(
            "datacontrols_last_success_timestamp_seconds", "Unix time the last successful run ended", registry=r
        )
        self.changes_applied = Counter(
            "datacontrols_changes_applied", "Changes applied", ["kind", "action"], registry=r
        )
        self.changes_failed = Counter(
            "datacontrols_changes_failed", "Changes whose write failed", ["kind", "action"], registry=r
        )
        self.drift_open = Gauge(
            "datacontrols_drift_open", "Drift items open after the last run", ["kind", "severity"], registry=r
        )
        self.held_back = Gauge(
            "datacontrols_changes_held_back",
            "Drift that enforcement `report` keeps from being applied",
            ["kind"],
            registry=r,
        )
        self.desired_invalid = Gauge(
            "datacontrols_desired_state_invalid", "1 while the desired state on disk is invalid", registry=r
        )
        self.desired_problems = Gauge(
            "datacontrols_desired_state_problems", "Problems found in the desired state on disk", registry=r
        )
        self.api_requests = Counter(
            "datacontrols_api_requests",
            "Admin API requests by route template and status code",
            ["method", "endpoint", "code"],
            registry=r,
        )
        self.api_duration = Histogram(
            "datacontrols_api_request_duration_seconds",
            "Admin API request duration",
            ["method", "endpoint"],
            buckets=_REQUEST_BUCKETS,
            registry=r,
        )
        self.rate_limited = Counter(
            "datacontrols_api_rate_limited", "Admin API 429 answers (each retried)", ["endpoint"], registry=r
        )
        self.audit_reads = Counter("datacontrols_audit_log_reads", "Audit-log reads", ["result"], registry=r)
        self.notifications = Counter(
            "datacontrols_notifications", "Webhook notifications by event and result", ["event", "result"], registry=r
        )
        self.queue_depth = Gauge("datacontrols_work_queue_depth", "Work items due now and not yet read", registry=r)
        self.sweeps = Gauge(
            "datacontrols_sweeps_completed", "Times every work item has been read since the start", registry=r
        )
        self.sweep_progress = Gauge(
            "datacontrols_sweep_progress_ratio", "Share of the work items read in the sweep under way", registry=r
        )
        self.oldest_read = Gauge(
            "datacontrols_oldest_read_age_seconds",
            "Age of the oldest read per lane (organization, quick: unaudited controls, full); absent until read",
            ["lane"],
            registry=r,
        )
        self.budget_cap = Gauge(
            "datacontrols_request_budget_per_minute", "The cap on requests a minute per endpoint", registry=r
        )
        self.budget_used = Gauge(
            "datacontrols_requests_last_minute",
            "Requests sent to each endpoint in the last minute, against the cap",
            ["endpoint"],
            registry=r,
        )
        self.leader = Gauge(
            "datacontrols_leader", "1 while this replica may read and write (holds the Lease, or has none)", registry=r
        )
        self.build_info = Gauge("datacontrols_build_info", "Build information", ["version", "python"], registry=r)
        self.build_info.labels(version=__version__, python=platform.python_version()).set(1)
        # Which organization this daemon serves (orgs/NAME/; "" for a repository of one), to tell them apart.
        self.organization = Gauge("datacontrols_organization_info", "The organization served", ["org"], registry=r)
        self.desired_invalid.set(0)
        self._drift_series: set[tuple[str, str]] = set()
        self._held_series: set[str] = set()
        self._budget_series: set[str] = set()

    def render(self) -> bytes:
        return generate_latest(self.registry)

    def work(self, progress: Mapping[str, Any], cap: float, sent: Mapping[str, int]) -> None:
        """Set the work-queue and budget gauges (from `WorkQueue.progress` and `RequestBudget`), at a scrape."""
        self.queue_depth.set(progress["queue_depth"])
        self.sweeps.set(progress["sweeps_completed"])
        self.sweep_progress.set(progress["sweep_progress"])
        for lane, values in progress["lanes"].items():
            age = values["oldest_read_age_seconds"]
            if age is not None:
                self.oldest_read.labels(lane).set(age)
        self.budget_cap.set(cap)
        for endpoint in self._budget_series - sent.keys():
            self.budget_used.labels(endpoint).set(0)
        for endpoint, count in sent.items():
            self.budget_used.labels(endpoint).set(count)
        self._budget_series |= sent.keys()

    # --- recorded as things happen ---------------------------------------------------------------------

    def request(self, record: RequestRecord) -> None:
        code = str(record.status) if record.status is not None else "error"
        self.api_requests.labels(record.method, record.template, code).inc()
        self.api_duration.labels(record.method, record.template).observe(max(0.0, record.duration))
        if record.status == 429:
            self.rate_limited.labels(record.template).inc()

    def finished(self, mode: str, outcome: str, at: float, duration: float, drift: Iterable[Change] | None) -> None:
        """A run ended at `at`: its count, duration and time, and the drift it planned (None: none planned)."""
        self.runs.labels(mode, outcome).inc()
        self.run_duration.labels(mode).observe(duration)
        self.last_run.set(at)
        if outcome == "success":
            self.last_success.set(at)
        if drift is not None:
            self.drift(drift)

    def change(self, change: Change, outcome: str) -> None:
        counter = self.changes_applied if outcome == "applied" else self.changes_failed
        counter.labels(change.kind, change.action).inc()

    def drift(self, drift: Iterable[Change]) -> None:
        """Set the open-drift gauges; series that were open before and are not now go to 0 (not away)."""
        counts: dict[tuple[str, str], int] = {}
        held: dict[str, int] = {}
        for change in drift:
            labels = (change.kind, str(change.alert_severity))  # drift the live state opened counts as critical
            counts[labels] = counts.get(labels, 0) + 1
            if change.enforcement == "report":
                held[change.kind] = held.get(change.kind, 0) + 1
        for series in self._drift_series | counts.keys():
            self.drift_open.labels(*series).set(counts.get(series, 0))
        for kind in self._held_series | held.keys():
            self.held_back.labels(kind).set(held.get(kind, 0))
        self._drift_series |= counts.keys()
        self._held_series |= held.keys()

    def desired_state(self, problems: int | None) -> None:
        """`None`: valid. Otherwise the number of problems found."""
        self.desired_invalid.set(0 if problems is None else 1)
        self.desired_problems.set(problems or 0)
