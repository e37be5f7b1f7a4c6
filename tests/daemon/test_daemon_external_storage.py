"""The daemon and external storage: each health change of a project's storage is an alert. Healthy to
degraded is critical drift detected; degraded to unhealthy resolves the one and detects the other (the status
is part of what differs); back to validated resolves it. Nothing is ever written: the kind is report-only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from daemon_support import ADMIN_KEY, Hook, daemon_for, metric_value

from datacontrols.emulator import Emulator

PROJECT = "proj_daemonstorage000000001"
AWS = {"type": "aws", "bucket": "acme-eu", "role_arn": "arn:aws:iam::123456789012:role/openai", "region": "eu-west-1"}
SEED: dict[str, Any] = {
    "projects": [
        {
            "id": PROJECT,
            "name": "Support Bot",
            "external_storage": [{"id": "extstore_aws", "provider": AWS, "status": "validated"}],
        }
    ]
}


def desired_state(root: Path) -> Path:
    (root / "projects").mkdir(parents=True)
    (root / "organization.yaml").write_text("unmanaged_projects: ignore\n")
    (root / "projects" / "support.yaml").write_text(
        "name: Support Bot\nexternal_storage: {provider: aws, geography: EU, location: acme-eu}\n"
    )
    return root


async def test_each_health_change_of_a_project_storage_is_alerted(tmp_path: Path) -> None:
    emulator = Emulator(admin_key=ADMIN_KEY, seed=SEED, rng_seed=2)
    hook = Hook()
    daemon = daemon_for(emulator, notifier=hook.notifier(), mode="enforce", desired_state=desired_state(tmp_path))
    storage = emulator.state.external_storage["extstore_aws"]
    try:
        await daemon.run_once()
        assert hook.events() == [], "validated storage where the file says: nothing to say"

        storage.status = "degraded"  # OpenAI can no longer reliably reach the bucket
        await daemon.run_once()
        assert hook.events() == ["drift_detected"]
        [item] = hook.posted[-1]["items"]
        assert (item["kind"], item["action"], item["alert_severity"]) == (
            "external_storage",
            "uncorrectable",
            "critical",
        )
        assert "is degraded" in item["reason"]
        text = daemon.metrics.render().decode()
        assert metric_value(text, "datacontrols_drift_open", kind="external_storage", severity="critical") == 1

        await daemon.run_once()
        assert hook.events() == ["drift_detected"], "an open finding is not alerted twice"

        storage.status = "unhealthy"
        await daemon.run_once()
        assert sorted(hook.events()[1:]) == ["drift_detected", "drift_resolved"]
        detected = next(p for p in hook.posted[1:] if p["event"] == "drift_detected")
        assert "is unhealthy" in detected["items"][0]["reason"]

        storage.status = "validated"
        await daemon.run_once()
        assert len(hook.events()) == 4 and hook.events()[-1] == "drift_resolved"
        text = daemon.metrics.render().decode()
        assert metric_value(text, "datacontrols_drift_open", kind="external_storage", severity="critical") == 0
        assert emulator.requests.writes() == []
    finally:
        await daemon.aclose()
