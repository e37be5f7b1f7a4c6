"""Serving the emulator over real HTTP with uvicorn, until SIGTERM or SIGINT.

Either signal stops the server gracefully, writes the dump if asked, and returns normally, so the process
exits 0. (uvicorn's own handling re-raises the signal after shutdown, which would end the process with
"killed by SIGTERM"; a container orchestrator or a test would read that as a crash.)
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
from collections.abc import Generator, Sequence
from types import FrameType

import structlog
import uvicorn

from datacontrols.emulator.app import Emulator
from datacontrols.emulator.asgi import close_on_drop
from datacontrols.emulator.faults import FaultConfig
from datacontrols.emulator.ratelimit import RateLimitConfig
from datacontrols.emulator.seed import SeedSource, write_document

__all__ = ["build_server", "serve", "serve_emulator"]

log = structlog.get_logger("datacontrols.emulator")


class _Server(uvicorn.Server):
    """uvicorn.Server whose signal handling stops the server and nothing more."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        if threading.current_thread() is not threading.main_thread():
            yield  # signals can only be handled on the main thread; the caller stops us via should_exit
            return
        previous = {sig: signal.signal(sig, self._stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _stop(self, sig: int, frame: FrameType | None) -> None:
        if self.should_exit and sig == signal.SIGINT:
            self.force_exit = True  # a second Ctrl+C skips waiting for open connections
        self.should_exit = True


class _QuietDrops(logging.Filter):
    """Hide uvicorn's complaint about the half-sent responses that injected drops leave on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "without completing response" not in record.getMessage()


_DROP_FILTER = _QuietDrops()  # one instance, so adding it again is a no-op


def build_server(
    emulator: Emulator, host: str = "127.0.0.1", port: int = 8089, log_level: str = "info"
) -> uvicorn.Server:
    """A uvicorn server for the emulator; `server.run()` serves, `server.should_exit = True` stops it."""
    config = uvicorn.Config(
        close_on_drop(emulator.app),
        host=host,
        port=port,
        log_level=log_level,
        access_log=False,  # the emulator's own request log records every request
        lifespan="off",
    )
    logging.getLogger("uvicorn.error").addFilter(_DROP_FILTER)
    return _Server(config)


def serve_emulator(
    emulator: Emulator,
    host: str = "127.0.0.1",
    port: int = 8089,
    *,
    dump_on_exit: str | os.PathLike[str] | None = None,
    log_level: str = "info",
) -> None:
    """Serve an existing emulator until a signal stops it; then write the dump."""
    server = build_server(emulator, host, port, log_level)
    log.info("emulator_started", host=host, port=port, projects=len(emulator.state.projects))
    try:
        server.run()
    finally:
        if dump_on_exit is not None:
            write_document(dump_on_exit, emulator.dump_state())
            log.info("emulator_state_dumped", path=os.fspath(dump_on_exit))
        log.info("emulator_stopped", requests=len(emulator.requests))


def serve(
    host: str,
    port: int,
    *,
    admin_key: str,
    seed: SeedSource | None = None,
    dump_on_exit: str | os.PathLike[str] | None = None,
    faults: FaultConfig | Sequence[FaultConfig] | None = None,
    rate_limit: RateLimitConfig | None = None,
    approved_retention_types: Sequence[str] | None = None,
    rng_seed: int | None = None,
) -> None:
    """Run the emulator on host:port until SIGTERM/SIGINT, which end it cleanly (dump written)."""
    emulator = Emulator(
        admin_key=admin_key,
        seed=seed,
        faults=faults,
        rate_limit=rate_limit,
        approved_retention_types=approved_retention_types,
        rng_seed=rng_seed,
    )
    serve_emulator(emulator, host, port, dump_on_exit=dump_on_exit)
