"""The daemon and encryption keys: a project bound to the wrong key is alerted as critical drift like any other
uncorrectable finding, never written, and announced resolved once a person binds the agreed key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from daemon_support import ADMIN_KEY, Hook, daemon_for, metric_value

from datacontrols.emulator import Emulator

PROJECT = "proj_daemonkeys00000000001"
SEED: dict[str, Any] = {
    "projects": [{"id": PROJECT, "name": "Support Bot", "external_key_id": "ekm_dev"}],
    "external_keys": [
        {"id": "ekm_prod", "name": "acme-prod", "type": "aws", "kms_arn": "arn:aws:kms:eu-west-1:1:key/prod"},
        {"id": "ekm_dev", "name": "acme-dev", "type": "aws", "kms_arn": "arn:aws:kms:eu-west-1:1:key/dev"},
    ],
}


def desired_state(root: Path) -> Path:
    (root / "projects").mkdir(parents=True)
    (root / "organization.yaml").write_text("unmanaged_projects: ignore\n")
    (root / "projects" / "support.yaml").write_text("name: Support Bot\nencryption_key: {name: acme-prod}\n")
    return root


async def test_the_wrong_key_is_alerted_critical_never_written_and_resolved_when_fixed_by_hand(tmp_path: Path) -> None:
    emulator = Emulator(admin_key=ADMIN_KEY, seed=SEED, rng_seed=2)
    hook = Hook()
    daemon = daemon_for(emulator, notifier=hook.notifier(), mode="enforce", desired_state=desired_state(tmp_path))
    try:
        await daemon.run_once()
        assert hook.events() == ["drift_detected"], "nothing corrected: the kind is report-only"
        [item] = [i for i in hook.posted[0]["items"] if i["kind"] == "encryption_key"]
        assert (item["project"], item["action"], item["alert_severity"]) == ("Support Bot", "uncorrectable", "critical")
        assert 'aws key "acme-dev" (ekm_dev)' in item["reason"]
        text = daemon.metrics.render().decode()
        assert metric_value(text, "datacontrols_drift_open", kind="encryption_key", severity="critical") == 1
        assert emulator.requests.writes() == []

        emulator.state.projects[PROJECT].external_key_id = "ekm_prod"  # a person binds the agreed key
        await daemon.run_once()
        assert hook.events() == ["drift_detected", "drift_resolved"]
        [resolved] = hook.posted[1]["items"]
        assert (resolved["kind"], resolved["project"]) == ("encryption_key", "Support Bot")
    finally:
        await daemon.aclose()
