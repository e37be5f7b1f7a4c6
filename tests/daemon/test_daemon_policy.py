"""The daemon alerts on live projects that break the organization policy, as on other critical drift."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from daemon_support import ADMIN_KEY, Hook, daemon_for, metric_value

from datacontrols.emulator import Emulator

SEED: dict[str, Any] = {
    "organization": {"data_retention": "zero_data_retention"},
    "projects": [
        {"id": "proj_managed", "name": "Managed", "data_retention": "zero_data_retention"},
        {"id": "proj_rogue", "name": "Rogue", "data_retention": "none", "hosted_tools": {"mcp": True}},
    ],
}
ORGANIZATION = """\
unmanaged_projects: ignore
policy:
  data_retention: [zero_data_retention]
  forbidden_hosted_tools: [mcp]
"""


async def test_a_project_without_a_file_breaking_the_policy_is_alerted_once(tmp_path: Path) -> None:
    (tmp_path / "projects").mkdir()
    (tmp_path / "organization.yaml").write_text(ORGANIZATION)
    (tmp_path / "projects" / "managed.yaml").write_text("name: Managed\ndata_retention: zero_data_retention\n")
    emulator = Emulator(admin_key=ADMIN_KEY, seed=SEED, rng_seed=2)
    hook = Hook()
    daemon = daemon_for(emulator, notifier=hook.notifier(), mode="enforce", desired_state=tmp_path)
    try:
        run = await daemon.run_once()
        assert run is not None and run.outcome == "success", run and run.error
        assert hook.events() == ["drift_detected"]
        items = {(i["project"], i["kind"], i["subject"], i["alert_severity"]) for i in hook.posted[0]["items"]}
        assert items == {
            ("Rogue", "project_data_retention", "policy: data_retention", "critical"),
            ("Rogue", "project_hosted_tools", "policy: forbidden_hosted_tools", "critical"),
            # Managed's file leaves its hosted tools undeclared: the policy checks the live value too.
            ("Managed", "project_hosted_tools", "policy: forbidden_hosted_tools", "critical"),
        }
        assert emulator.requests.writes() == []  # enforce mode, and still nothing applied: they are reports
        text = daemon.metrics.render().decode()
        gauge = "datacontrols_drift_open"
        assert metric_value(text, gauge, kind="project_hosted_tools", severity="critical") == 2
        assert metric_value(text, gauge, kind="project_data_retention", severity="critical") == 1
        await daemon.run_once()
        assert hook.events() == ["drift_detected"]  # not announced again
    finally:
        await daemon.aclose()
