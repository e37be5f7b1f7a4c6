"""The ratchet in the daemon: `serve --mode enforce` never applies a change that weakens a data control; it
reports it as critical drift and alerts it, and applies the rest of the plan."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
from daemon_support import ADMIN_KEY, daemon_for, one_project_desired, one_project_seed
from pydantic import SecretStr

from datacontrols.daemon import Notifier
from datacontrols.emulator import Emulator

WEBHOOK = "https://hooks.example.com/services/T0/B0/ratchet"
# Drift both ways: the file moves the project to zero data retention (tightening), and enables web_search,
# which is off (weakening), while the organization would leave zero data retention (weakening).
SEED = one_project_seed(data_retention="modified_abuse_monitoring", hosted_tools={"web_search": False})


def desired_state(root: Path) -> Path:
    return one_project_desired(
        root,
        "organization:\n  data_retention: modified_abuse_monitoring\n",
        "data_retention: zero_data_retention\nhosted_tools: {web_search: true}\n",
    )


async def test_enforce_mode_never_applies_a_weakening_change_and_alerts_it(tmp_path: Path) -> None:
    posted: list[dict[str, Any]] = []

    def hook(request: httpx.Request) -> httpx.Response:
        posted.append(json.loads(request.content))
        return httpx.Response(200)

    notifier = Notifier(SecretStr(WEBHOOK), "json", transport=httpx.MockTransport(hook))  # type: ignore[arg-type]
    emulator = Emulator(admin_key=ADMIN_KEY, seed=SEED, rng_seed=2)
    daemon = daemon_for(emulator, notifier=notifier, mode="enforce", desired_state=desired_state(tmp_path / "d"))
    try:
        runs = [await daemon.run_once() for _ in range(3)]  # not on the first run, nor on any later one
        assert all(r is not None and r.outcome == "success" for r in runs), [r and r.error for r in runs]
        first, run = runs[0], runs[-1]
        assert first is not None and first.result is not None and run is not None and run.plan is not None
        assert [(c.kind, c.project) for c in first.result.applied] == [("project_data_retention", "Payments")]
        state = emulator.state
        project = state.projects["proj_ratchet0000000000000001"]
        assert state.organization.data_retention == "zero_data_retention", "zero data retention was kept"
        assert project.hosted_tools["web_search"] is False, "the hosted tool stayed disabled"
        assert project.data_retention == "zero_data_retention", "the tightening half of the plan was applied"

        held = {c.kind: c for c in run.plan.drift if c.enforcement == "report"}
        assert set(held) == {"organization_data_retention", "project_hosted_tools"}
        assert all(c.severity == "critical" and "only a person's approval" in c.reason for c in held.values())
        assert any(item["kind"] == "organization_data_retention" for item in daemon.status()["open_drift"])
        detected = [m for m in posted if m["event"] == "drift_detected"]
        assert len(detected) == 1, "alerted once, not on every run"
        items = {item["kind"]: item for item in detected[0]["items"]}
        assert items["organization_data_retention"]["severity"] == "critical"
        assert not [w for w in emulator.requests.writes() if w.path.endswith("/organization/data_retention")]
    finally:
        await daemon.aclose()
