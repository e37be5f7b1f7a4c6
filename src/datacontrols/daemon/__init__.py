"""`reconcile serve`: the reconciler as a long-running controller.

settings.py        flags and DATACONTROLS_* environment variables, durations, --listen
service.py         Daemon: the run loop, the schedule, graceful stop
status.py          the /status document, its summary without the token, and who sees which
reconcile_run.py   the body of one run: observe -> diff -> ratchet -> attribute -> safety -> apply
run_record.py      RunRecord: one run as /status and the closing log line show it
readiness.py       the desired state re-read per run, and the liveness and readiness answers
alerts.py          after a run: the drift ledger updated, the alerts sent
alert_ledger.py    the drift ledger on disk (--state-dir), so a restart does not alert the same drift again
view.py            DaemonView, the read-only face the HTTP side serves (so http never imports service)
http.py            /healthz, /readyz, /metrics, /status on uvicorn, in the daemon's own loop
admin_key.py       the Admin API client, connected again when the mounted key file changes
metrics.py         the Prometheus metrics (bounded labels, a registry per daemon)
attribution.py     who changed a drifted resource, from the audit log; the daemon's own writes known
notifications.py   which drift is new, corrected or resolved; webhook alerts (JSON or Slack)
cli.py             the `serve` command
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from datacontrols.daemon.attribution import Attribution, AuditTrail
    from datacontrols.daemon.metrics import DaemonMetrics
    from datacontrols.daemon.notifications import DriftLedger, Notifier
    from datacontrols.daemon.service import Daemon, RunRecord
    from datacontrols.daemon.settings import DaemonSettings, parse_duration, parse_listen

__all__ = [
    "Attribution",
    "AuditTrail",
    "Daemon",
    "DaemonMetrics",
    "DaemonSettings",
    "DriftLedger",
    "Notifier",
    "RunRecord",
    "parse_duration",
    "parse_listen",
]

# Loaded when first asked for: every `reconcile` command registers `serve`, and only `serve` should pay for
# the scheduler, the metrics registry and the settings machinery (a third of a second at each start).
_HOMES = {
    "Attribution": "attribution",
    "AuditTrail": "attribution",
    "DaemonMetrics": "metrics",
    "DriftLedger": "notifications",
    "Notifier": "notifications",
    "Daemon": "service",
    "RunRecord": "service",
    "DaemonSettings": "settings",
    "parse_duration": "settings",
    "parse_listen": "settings",
}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
