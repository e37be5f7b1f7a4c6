"""`reconcile serve` for one organization of a repository of several: the admin key comes from the variable
that organization's files name (identity.admin_key_env), never from the default one another key sits in."""

from __future__ import annotations

from pathlib import Path

import pytest

from datacontrols.daemon.cli import build_daemon
from datacontrols.daemon.settings import DaemonSettings
from datacontrols.errors import ConfigError

OTHER_KEY = "sk-admin-otherOrgKey0123456789abcdefghijklmnopqrstu"


def test_the_daemon_takes_the_key_from_the_variable_its_organization_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    prod = tmp_path / "orgs" / "prod"
    (prod / "projects").mkdir(parents=True)
    (prod / "organization.yaml").write_text(
        "identity: {default_project_id: proj_prod, admin_key_env: OPENAI_ADMIN_KEY_PROD}\n"
    )
    monkeypatch.setenv("OPENAI_ADMIN_KEY", OTHER_KEY)  # another organization's key, in the default variable
    monkeypatch.delenv("OPENAI_ADMIN_KEY_PROD", raising=False)
    with pytest.raises(ConfigError, match="no admin key: set OPENAI_ADMIN_KEY_PROD"):
        build_daemon(DaemonSettings(desired_state=prod))


async def test_status_and_metrics_name_the_organization_served() -> None:
    from daemon_support import ADMIN_KEY, DEMO_SEED, daemon_for, daemon_http, metric_value

    from datacontrols.emulator import Emulator

    served = daemon_for(Emulator(admin_key=ADMIN_KEY, seed=DEMO_SEED, rng_seed=7), org="prod")
    single = daemon_for(Emulator(admin_key=ADMIN_KEY, seed=DEMO_SEED, rng_seed=7))
    try:
        async with daemon_http(served) as http:
            summary = (await http.get("/status")).json()
            metrics = (await http.get("/metrics")).text
        assert summary["organization"] == "prod"
        assert served.status()["organization"] == "prod"
        assert metric_value(metrics, "datacontrols_organization_info", org="prod") == 1
        assert single.status()["organization"] is None
        assert metric_value(single.metrics.render().decode(), "datacontrols_organization_info", org="") == 1
    finally:
        await served.aclose()
        await single.aclose()
