"""The daemon and encryption keys: a project bound to the wrong key is alerted as critical drift like any other
uncorrectable finding, never written, and announced resolved once a person binds the agreed key; the finding
is attributed to whoever removed the key or changed the project's binding."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from daemon_support import ADMIN_KEY, BASE_URL, Hook, daemon_for, metric_value

from datacontrols.adminapi import AdminApi
from datacontrols.daemon.attribution import AuditTrail
from datacontrols.desired import load_desired_state
from datacontrols.emulator import Emulator
from datacontrols.engine import diff, observe
from testsupport.clock import SharedClock

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


async def person(emulator: Emulator, method: str, path: str, email: str, **kwargs: Any) -> None:
    headers = {"Authorization": f"Bearer {ADMIN_KEY}", "x-emulator-actor": email}
    async with httpx.AsyncClient(transport=emulator.http_transport(), base_url=BASE_URL, headers=headers) as raw:
        response = await raw.request(method, path, **kwargs)
        assert response.status_code == 200, response.text


async def test_a_removed_key_and_a_rebinding_are_attributed_to_who_did_them(tmp_path: Path) -> None:
    clock = SharedClock()
    emulator = Emulator(admin_key=ADMIN_KEY, seed=SEED, rng_seed=2, clock=clock, sleep=clock.sleep)
    desired = load_desired_state(desired_state(tmp_path))
    async with AdminApi.connect(
        admin_key=ADMIN_KEY, http_transport=emulator.http_transport(), sleep=clock.sleep, clock=clock
    ) as api:
        trail = AuditTrail(clock=clock)
        clock.advance(30)
        await person(
            emulator,
            "POST",
            f"/organization/projects/{PROJECT}",
            "bob@example.com",
            json={"external_key_id": "ekm_prod"},
        )
        clock.advance(30)
        await person(emulator, "DELETE", "/organization/external_keys/ekm_prod", "alice@example.com")
        await trail.refresh(api)
        [removed] = [c for c in diff(desired, await observe(api, desired)) if c.kind == "encryption_key"]
        assert "ekm_prod, which the organization does not have" in removed.reason
        attribution = trail.attribute(removed)
        assert (attribution.actor, attribution.event_type) == ("alice@example.com", "external_key.removed")

        clock.advance(30)
        await person(
            emulator, "POST", f"/organization/projects/{PROJECT}", "carol@example.com", json={"external_key_id": None}
        )
        await trail.refresh(api)
        [none] = [c for c in diff(desired, await observe(api, desired)) if c.kind == "encryption_key"]
        attribution = trail.attribute(none)
        assert none.subject is None, "no key now: the project's own events tell who cleared it"
        assert (attribution.actor, attribution.event_type) == ("carol@example.com", "project.updated")
