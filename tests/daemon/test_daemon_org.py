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
