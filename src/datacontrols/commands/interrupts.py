"""Ctrl-C or SIGTERM during an apply: finish the writes in flight, start no new one, and say what was done.

Before the apply phase nothing is written, so an interrupt there keeps Python's default (KeyboardInterrupt,
one line from the CLI). Once writes begin, the first signal sets the engine's `stopping` event: the writes
already sent complete (a write cut off mid-flight would have an unknown outcome), the rest are skipped, and
the front end prints the result and "run a plan again". A second signal stops at once.

The handlers go on the event loop only for the apply phase: the confirmation prompt blocks the loop, and a
loop-level handler would leave Ctrl-C at the prompt unanswered until Enter.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys

from datacontrols.engine import ApplyResult
from datacontrols.reconcile import Phase

__all__ = ["STOPPED_AT_ONCE", "GracefulStop"]

STOPPED_AT_ONCE = (
    "interrupted twice during apply: the writes in flight were cut off and may or may not have taken effect; "
    "run a plan again (reconcile --dry-run) to see what is left"
)

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class GracefulStop:
    def __init__(self) -> None:
        self.stopping = asyncio.Event()
        self.signal_name: str | None = None
        self._task: asyncio.Task[object] | None = None
        self._installed: list[signal.Signals] = []

    def on_phase(self, phase: Phase) -> None:
        if phase == "apply":
            self._install()

    def _install(self) -> None:
        loop = asyncio.get_running_loop()
        self._task = asyncio.current_task()
        for sig in _SIGNALS:
            # Not the main thread, or a platform without loop signal handlers: the default stays.
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, self._received, sig)
                self._installed.append(sig)

    def _received(self, sig: signal.Signals) -> None:
        if self.stopping.is_set():
            if self._task is not None:
                self._task.cancel()  # the second signal: stop now
            return
        self.signal_name = sig.name
        self.stopping.set()
        print(
            f"{sig.name}: finishing the writes in flight, starting no new one (again to stop at once)",
            file=sys.stderr,
            flush=True,
        )

    def report(self, result: ApplyResult) -> bool:
        """After an apply: whether it was interrupted; if so, the error line that ends the run is printed."""
        if self.signal_name is None:
            return False
        print(
            f"error: {self.signal_name} during apply: {len(result.applied)} change(s) applied, "
            f"{len(result.failed)} failed, {len(result.skipped)} not started; "
            "run a plan again (reconcile --dry-run) to see what is left",
            file=sys.stderr,
        )
        return True

    def uninstall(self) -> None:
        with contextlib.suppress(RuntimeError):
            loop = asyncio.get_running_loop()
            for sig in self._installed:
                loop.remove_signal_handler(sig)
        self._installed.clear()
