"""Suite-wide: in-process creates skip the one-writer settle wait unless a test races writers.

`create_once` waits `SETTLE_SECONDS` (one real second outside virtual time) after every create so that two
writers racing within one `created_at` second agree on which object to keep. Only tests that race writers need
that; they carry `pytest.mark.settle`. Everywhere else the wait would add a second per create to the suite.
Processes started by tests (the CLI, the daemon) keep the real wait: this patches only this interpreter.
"""

from __future__ import annotations

import pytest

from datacontrols.adminapi import one_writer


@pytest.fixture(autouse=True)
def _no_settle_wait_without_a_race(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    if request.node.get_closest_marker("settle") is None:
        monkeypatch.setattr(one_writer, "SETTLE_SECONDS", 0.0)
