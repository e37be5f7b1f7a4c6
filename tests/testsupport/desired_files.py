"""A desired state written as files and loaded back, and its plan against a client: what the engine tests share."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from datacontrols.adminapi import AdminApi
from datacontrols.desired import DesiredState, load_desired_state
from datacontrols.engine import diff, observe
from datacontrols.plan import Plan


def write_desired_state(root: Path, organization: str, projects: Mapping[str, str]) -> DesiredState:
    """`organization.yaml` and `projects/<name>.yaml` under `root`, loaded as the tool loads them."""
    (root / "projects").mkdir(parents=True, exist_ok=True)
    (root / "organization.yaml").write_text(organization)
    for name, text in projects.items():
        (root / "projects" / f"{name}.yaml").write_text(text)
    return load_desired_state(root)


async def plan_of(api: AdminApi, desired: DesiredState) -> Plan:
    return diff(desired, await observe(api, desired))
