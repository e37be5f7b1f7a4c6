"""After a run: update the drift ledger (new, corrected, resolved), send the alerts that follow from it, then save
the ledger when there is a file for it (`alert_ledger`: after sending, so a crash repeats an alert, never drops it)."""

from __future__ import annotations

from datacontrols.daemon.alert_ledger import LedgerFile
from datacontrols.daemon.attribution import Attribution
from datacontrols.daemon.notifications import DriftLedger, Notifier, drift_key
from datacontrols.daemon.run_record import RunRecord
from datacontrols.kinds.policy import alerted

__all__ = ["alert_run"]

_UNKNOWN = Attribution("not_found", "not attributed")


async def alert_run(
    run: RunRecord, *, ledger: DriftLedger, notifier: Notifier, at: str, ledger_file: LedgerFile | None = None
) -> None:
    """Announce what changed in the open drift since the last run, and a failed or refused run; `at` is ISO time."""
    await _announce(run, ledger=ledger, notifier=notifier, at=at)
    if ledger_file is not None:
        ledger_file.save(ledger, notifier)


async def _announce(run: RunRecord, *, ledger: DriftLedger, notifier: Notifier, at: str) -> None:
    if run.outcome == "failure" and run.plan is None:
        await notifier.run_failed(run.error or "unknown error", run_id=run.run_id, mode=run.mode, at=at)
        return
    if run.plan is None:
        return
    corrected = run.result.applied if run.result is not None else []
    # Policy findings are reports (nothing to apply), but a live project breaking the policy is alerted too.
    drift = [(c, (run.attributions.get(drift_key(c)) or _UNKNOWN).to_json()) for c in alerted(run.plan)]
    transitions = ledger.update(drift, corrected=corrected, unknown_projects=run.read_failures, now=at)
    await notifier.announce(transitions, run_id=run.run_id, mode=run.mode, at=at)
    if run.outcome in ("failure", "refused"):
        await notifier.run_failed(run.error or "unknown error", run_id=run.run_id, mode=run.mode, at=at)
    elif run.outcome == "success":
        await notifier.run_succeeded(run_id=run.run_id, mode=run.mode, at=at)
