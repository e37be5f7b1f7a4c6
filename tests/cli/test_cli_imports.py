"""Importing the CLI loads no emulator, no web server and no daemon: planning pays only for what it uses."""

from __future__ import annotations

import json
import subprocess
import sys

# The daemon's own machinery too: only `serve` pays for the scheduler, the metrics and the settings.
HEAVY = (
    "datacontrols.emulator",
    "starlette",
    "uvicorn",
    "apscheduler",
    "pydantic_settings",
    "prometheus_client",
    "datacontrols.daemon.service",
)


def test_importing_the_cli_loads_no_emulator_and_no_web_server() -> None:
    probe = (
        "import json, sys, datacontrols.cli\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m.startswith({HEAVY!r}))))\n"
    )
    loaded = json.loads(
        subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True).stdout
    )
    assert loaded == [], f"imported at CLI start-up: {loaded}"
