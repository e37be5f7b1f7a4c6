"""The alert ledger on disk (`--state-dir`): what was alerted survives a restart, so it is not alerted again.

It holds what the notifier remembers between runs: the open drift items that were announced (their change,
attribution and when first seen) and, during an outage, the error the outage began with. After a restart,
drift still open is not announced again, drift that went away meanwhile is announced as resolved, and an
outage still going is the same outage.

Alerts are at least once, never lost: the file is written after a run's alerts were sent (a crash in between
sends them again), and a missing or corrupt file counts as empty, so whatever is open is announced again
once, with a warning saying so. What cannot be told from a lost file is what was open before: its
resolutions. The file is replaced atomically (`files.write_text_atomically`) and only when it changed; a
failing write is a warning, never a failed run.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Final

import structlog

from datacontrols.daemon.notifications import DriftLedger, Notifier, OpenDrift
from datacontrols.errors import ConfigError
from datacontrols.files import read_text, write_text_atomically

__all__ = ["LEDGER_NAME", "LedgerFile"]

log = structlog.get_logger("datacontrols.daemon")

LEDGER_NAME: Final = "alert-ledger.json"
_FORMAT: Final = 1
_MAX_BYTES: Final = 32 * 1024 * 1024  # tens of thousands of drift items; a larger file is not ours


class LedgerFile:
    """The ledger in `state_dir/alert-ledger.json`."""

    def __init__(self, state_dir: Path) -> None:
        if state_dir.exists() and not state_dir.is_dir():
            raise ConfigError(f"--state-dir {state_dir}: not a directory")
        try:
            state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)  # it holds member emails: the owner only
        except OSError as exc:
            raise ConfigError(f"--state-dir {state_dir}: cannot create it ({exc.strerror or exc})") from None
        if not os.access(state_dir, os.W_OK | os.X_OK):
            raise ConfigError(f"--state-dir {state_dir}: not writable by this user")
        self.path = state_dir / LEDGER_NAME
        self._written: str | None = None

    def __repr__(self) -> str:
        return f"LedgerFile({str(self.path)!r})"

    def restore(self, notifier: Notifier) -> DriftLedger:
        """The ledger as last saved (the outage, if any, handed to `notifier`); empty, with a warning, when the
        file is missing or cannot be read."""
        if not self.path.exists():
            log.warning("alert_ledger_missing", path=str(self.path), consequence=_REALERT)
            return DriftLedger()
        try:
            text = read_text(self.path, f"alert ledger {self.path}", max_bytes=_MAX_BYTES)
            ledger, outage = _parse(json.loads(text))
        except (ConfigError, ValueError, TypeError, KeyError, RecursionError) as exc:
            why = exc.message if isinstance(exc, ConfigError) else f"not a ledger ({type(exc).__name__})"
            log.warning("alert_ledger_unreadable", path=str(self.path), error=why, consequence=_REALERT)
            return DriftLedger()
        self._written = text
        if outage is not None:
            notifier.resume_outage(outage)
        log.info("alert_ledger_restored", path=str(self.path), open_drift=len(ledger.open), outage=outage is not None)
        return ledger

    def save(self, ledger: DriftLedger, notifier: Notifier) -> None:
        """Write the ledger if it changed; a failure is logged, and tried again after the next run."""
        document = {
            "format": _FORMAT,
            "outage": notifier.outage,
            "open": [_item_json(item) for item in ledger.open.values()],
        }
        text = json.dumps(document, sort_keys=True, separators=(",", ":"), default=str)
        if text == self._written:
            return
        try:
            write_text_atomically(self.path, text, f"alert ledger {self.path}")
        except ConfigError as exc:
            log.warning("alert_ledger_unwritable", error=exc.message, consequence="alerts may repeat after a restart")
            return
        self._written = text


_REALERT: Final = "drift open now is alerted (again, if it was before the restart); earlier drift's resolution is lost"


def _item_json(item: OpenDrift) -> dict[str, Any]:
    return {
        "key": item.key,
        "change": item.change,
        "attribution": item.attribution,
        "first_seen": item.first_seen,
        "project": item.project,
    }


def _parse(document: Any) -> tuple[DriftLedger, str | None]:
    """The ledger and the outage's first error from a saved document; ValueError or TypeError when it is not one."""
    if not isinstance(document, dict) or document.get("format") != _FORMAT:
        raise ValueError("unknown format")
    outage = document.get("outage")
    if outage is not None and not isinstance(outage, str):
        raise TypeError("outage")
    items: dict[str, OpenDrift] = {}
    for raw in document["open"]:
        key, change, attribution = raw["key"], raw["change"], raw["attribution"]
        first_seen, project = raw["first_seen"], raw["project"]
        if not (isinstance(key, str) and isinstance(change, dict) and isinstance(attribution, dict)):
            raise TypeError("item")
        if not isinstance(first_seen, str) or not (project is None or isinstance(project, str)):
            raise TypeError("item")
        items[key] = OpenDrift(key, change, attribution, first_seen, project)
    return DriftLedger(open=items), outage
