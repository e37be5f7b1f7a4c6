"""Which organization a desired state belongs to, and the check that a run is talking to it.

An admin key reaches exactly one organization, and nothing in a request names it: a desired state applied
with another organization's key would rewrite that organization. So `organization.yaml` can carry the
organization's identity, a fact the Admin API gives to any admin key:

    identity:
      default_project_id: proj_abc123

The default project is created with the organization, can be neither archived nor deleted (the API refuses
to modify it), and so is the organization's oldest project for its whole life: its id is read from the
project list every run already makes (the oldest `created_at`, then the smallest id). `reconcile export`
writes it. Every plan, apply and daemon run compares it before anything else happens and stops with one line
naming both ids when they differ. A desired state without it still works; the front ends warn before
they write.
"""

from __future__ import annotations

from collections.abc import Sequence

from datacontrols.adminapi.projects import Project
from datacontrols.desired.schema import DesiredState
from datacontrols.errors import ConfigError

__all__ = ["OrganizationMismatch", "check_organization", "default_project_id"]


class OrganizationMismatch(ConfigError):
    """The admin key reaches another organization than the one the desired state names."""


def default_project_id(projects: Sequence[Project]) -> str | None:
    """The id of the organization's default project: its oldest active one (None when none was read).

    Archived projects are passed over: the default project can never be archived, so this changes nothing
    against the API, and it keeps the rule the same whether or not the caller listed archived projects.
    """
    active = [p for p in projects if not p.archived]
    if not active:
        return None
    return min(active, key=lambda p: (p.created_at, p.id)).id


def check_organization(desired: DesiredState, projects: Sequence[Project]) -> str | None:
    """Raise `OrganizationMismatch` unless the organization read is the one the desired state is pinned to.

    Returns, for a desired state without a pin, the warning a front end shows before it writes (None when
    pinned): the library logs nothing itself.
    """
    pinned = desired.organization.identity.default_project_id if desired.organization.identity else None
    live = default_project_id(projects)
    if pinned is None:
        pin = f"identity: {{default_project_id: {live}}}" if live else "identity.default_project_id"
        return (
            f"organization.yaml does not name its organization, so any organization's admin key would be "
            f"accepted: add {pin} to it (reconcile export writes it)"
        )
    if live != pinned:
        found = f"whose default project is {live}" if live else "where no project could be read"
        raise OrganizationMismatch(
            f"organization.yaml is pinned to the organization whose default project is {pinned}, but the admin "
            f"key reaches the organization {found}; nothing was written: use that organization's key, or fix "
            "identity.default_project_id"
        )
    return None
