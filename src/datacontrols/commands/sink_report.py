"""Managed service accounts whose key is not in the secret sink: said every run, not found out in an outage.

A service account's key is shown once, in the answer to its creation. If that answer was lost (a dropped
connection after the write, the process killed between the create and the sink write), or the account was
created before a sink was configured, the account exists and nobody holds its key, and no plan would ever
change: the account is as the file says. So every plan and apply given `--secret-sink` checks, for each
service account the files manage and the organization has, that the sink holds a key file for it, and warns
with the way out. Only file names are looked at, never a key.
"""

from __future__ import annotations

from pathlib import Path

from datacontrols.adminapi.service_accounts import ServiceAccount
from datacontrols.desired.schema import DesiredState
from datacontrols.kinds.membership import PROJECT_SERVICE_ACCOUNT
from datacontrols.observed import Observed
from datacontrols.secretsink import holds_key, secret_file_name

__all__ = ["missing_sink_keys"]


def missing_sink_keys(desired: DesiredState, observed: Observed, sink: Path) -> list[str]:
    """One warning per managed, existing service account with no key file in `sink`."""
    live = {p.name: p for p in observed.projects if not p.archived and p.name}
    warnings: list[str] = []
    for project in desired.projects:
        members = project.members
        found = live.get(project.name)
        if members is None or members.service_accounts is None or found is None:
            continue
        accounts = observed.settings.get(found.id, {}).get(PROJECT_SERVICE_ACCOUNT)
        names = {a.name for a in accounts or () if isinstance(a, ServiceAccount)}
        for name in sorted(set(members.service_accounts) & names):
            if not holds_key(sink, project.name, name):
                warnings.append(
                    f"service account {name!r} of project {project.name!r} exists, but the secret sink {sink} holds "
                    f"no key for it ({secret_file_name(project.name, name)}): its key was lost or never written. "
                    "Create a key for it outside this tool, or delete the account and let the next apply create "
                    "it with a key"
                )
    return warnings
