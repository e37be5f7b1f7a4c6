"""The fewest GET requests a full dry run of an organization can make, worked out from the spec, not the engine.

A dry run must read every setting the desired state manages, once: one request per single-object setting
(retention, model policy, hosted tools, spend limit) and every page of every list (at 100 items a page, the
largest the older list endpoints take; an empty list still costs one request). Nothing else is needed:

    organization    the project list; its data retention, spend limit and spend alerts when managed;
                    its users (emails -> ids) and groups (names -> ids) when projects list members by them;
                    the admin key list when members are managed (the guard against removing the key's
                    owner has to know who that is); pending invites when projects list users
    each project    one read per managed setting; its group grants, the project's roles (names -> ids) and
                    one role-assignment list per granted group (a grant does not say its role)

The counts come from the seed document (the organization's truth), so a read the engine repeats or adds
shows up as a surplus on its endpoint.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from typing import Any

from datacontrols.desired.schema import DesiredState
from datacontrols.emulator.routes.groups import PROJECT_ROLES
from datacontrols.emulator.state import default_model_rate_limits

__all__ = ["PAGE_SIZE", "PROJECTS", "minimum_reads", "pages"]

PAGE_SIZE = 100
PROJECTS = "GET /organization/projects"
P = "GET /organization/projects/{project_id}"


def pages(items: int, page_size: int = PAGE_SIZE) -> int:
    """Requests to read a list of `items`: a full last page says has_more=false, so 100 items is one page."""
    return max(1, math.ceil(items / page_size))


def minimum_reads(seed: Mapping[str, Any], desired: DesiredState) -> Counter[str]:
    """`Counter({"GET /organization/projects": 10, ...})`: the minimum requests per endpoint template."""
    need: Counter[str] = Counter()
    projects = list(seed.get("projects", []))
    need[PROJECTS] = pages(len(projects))

    org = desired.organization
    effective = [(p, desired.effective(p)) for p in desired.projects]
    members = [p.members for p in desired.projects if p.members is not None]
    if org.organization.data_retention is not None or any(s.data_retention is not None for _, s in effective):
        need["GET /organization/data_retention"] = 1  # a project's organization_default resolves to it
    if org.organization.spend_limit is not None:
        need["GET /organization/spend_limit"] = 1
    if org.organization.spend_alerts is not None:
        need["GET /organization/spend_alerts"] = pages(len(seed.get("organization", {}).get("spend_alerts", [])))
    if any(m.users is not None for m in members):
        need["GET /organization/users"] = pages(len(seed.get("users", [])))
        need["GET /organization/invites"] = pages(len(seed.get("invites", [])))
    if any(m.groups is not None for m in members):
        need["GET /organization/groups"] = pages(len(seed.get("groups", [])))
    if members:
        need["GET /organization/admin_api_keys"] = pages(len(seed.get("admin_api_keys", [])))

    models = seed.get("organization", {}).get("model_rate_limits") or default_model_rate_limits()
    live = {p["name"]: p for p in projects if p.get("status", "active") == "active"}
    for file, settings in effective:
        project = live.get(file.name)
        if project is None or file.status != "active":
            continue  # not created yet, or archived: nothing of it can be read
        if settings.data_retention is not None:
            need[f"{P}/data_retention"] += 1
        if settings.model_permissions is not None:
            need[f"{P}/model_permissions"] += 1
        if settings.hosted_tools is not None:
            need[f"{P}/hosted_tool_permissions"] += 1
        if settings.spend_limit is not None:
            need[f"{P}/spend_limit"] += 1
        if settings.rate_limits is not None:
            need[f"{P}/rate_limits"] += pages(len(models))  # one row per model of the organization
        if settings.spend_alerts is not None:
            need[f"{P}/spend_alerts"] += pages(len(project.get("spend_alerts", [])))
        if settings.keys is not None:
            need[f"{P}/api_keys"] += pages(len(project.get("api_keys", [])))
        if file.members is not None and file.members.users is not None:
            need[f"{P}/users"] += pages(len(project.get("users", [])))
        if file.members is not None and file.members.service_accounts is not None:
            need[f"{P}/service_accounts"] += pages(len(project.get("service_accounts", [])))
        if file.members is not None and file.members.groups is not None:
            grants = project.get("groups", [])
            need[f"{P}/groups"] += pages(len(grants))
            need["GET /projects/{project_id}/roles"] += pages(len(PROJECT_ROLES))
            need["GET /projects/{project_id}/groups/{group_id}/roles"] += sum(
                pages(len(grant.get("roles") or [grant.get("role")])) for grant in grants
            )
    return need
