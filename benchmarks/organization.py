"""A generated organization of N projects, and a desired state that manages every control of every project.

    org = generate(100)
    org.seed        # a seed document for `datacontrols.emulator.Emulator(seed=...)`
    org.desired     # a `DesiredState`: every project kind and every organization kind managed

The organization is shaped like a mid-sized company's, and grows with N:

    users              5 + N/2   (each project has 3: an owner and two members)
    groups             2 + N/20  (each project grants one, as member)
    pending invites    N/8
    admin keys         2         (one of them is the key the benchmark uses)
    per project        1 service account, 2 API keys (one a user's, one the account's), 2 spend alerts,
                       a rate-limit row for each of the organization's models, a spend limit on 5 of 6

Some projects drift on purpose (every 10th has the wrong retention, every 5th has MCP enabled, every 4th a
different rate limit, every 7th no model policy, every 6th no spend limit), so the plan is not empty and the
"not set" answers (404) are exercised too.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from datacontrols.desired.limits import RateLimit, SpendAlert, SpendLimit
from datacontrols.desired.members import KeyHygiene, MemberRole, Members
from datacontrols.desired.schema import (
    DesiredState,
    ModelPolicy,
    OrganizationFile,
    OrganizationSettings,
    ProjectDefaults,
    ProjectFile,
)

__all__ = ["ADMIN_KEY", "NOW", "Organization", "generate", "project_id", "project_name"]

# Only ever sent to the in-process emulator. The admin key list holds its redacted form, so the lock-out
# guard can tell who owns it, as in a real organization.
ADMIN_KEY = "sk-admin-benchmark-000000000000000000000000abc"
ADMIN_KEY_REDACTED = "sk-admin...abc"
NOW = 1_780_000_000  # the emulator's clock in every benchmark: timestamps (and key ages) are reproducible
DAY = 86_400
FINOPS = "finops@example.com"


@dataclass(frozen=True)
class Organization:
    """A seed for the emulator and the desired state that manages all of it."""

    projects: int
    seed: dict[str, Any]
    desired: DesiredState

    @property
    def project_ids(self) -> list[str]:
        return [p["id"] for p in self.seed["projects"]]


def project_id(index: int) -> str:
    return f"proj_bench{index:019d}"


def project_name(index: int) -> str:
    return f"project-{index:05d}"


def _email(index: int) -> str:
    return f"user{index:05d}@example.com"


def generate(projects: int) -> Organization:
    """An organization of `projects` active projects, all managed, with matching desired state."""
    users = 5 + projects // 2
    groups = 2 + projects // 20
    seed: dict[str, Any] = {
        "organization": {
            "data_retention": "zero_data_retention",
            "spend_limit": {"threshold_amount": 1_000_000},
            "spend_alerts": [{"threshold_amount": 500_000, "recipients": [FINOPS]}],
        },
        "users": [
            {"id": f"user-{i:05d}", "email": _email(i), "name": f"User {i}", "role": "owner" if i == 0 else "reader"}
            for i in range(users)
        ],
        "groups": [{"id": f"group_{g:05d}", "name": f"team-{g:05d}"} for g in range(groups)],
        "invites": [{"email": f"invitee{i:05d}@example.com", "status": "pending"} for i in range(projects // 8)],
        "admin_api_keys": [
            {"id": "key_bench", "name": "bench", "redacted_value": ADMIN_KEY_REDACTED, "owner": {"id": "user-00000"}},
            {"id": "key_other", "name": "other", "redacted_value": "sk-admin...zzz", "owner": {"id": "user-00001"}},
        ],
        "projects": [_seed_project(i, users, groups) for i in range(projects)],
    }
    return Organization(projects=projects, seed=seed, desired=_desired(projects, users, groups))


def _members(index: int, users: int, groups: int) -> tuple[list[tuple[str, MemberRole]], str, str]:
    """(email, role) of the project's three users, its group's name and its service account's name."""
    people: list[tuple[str, MemberRole]] = [(_email(index % users), "owner")]
    people += [(_email((index + 1) % users), "member"), (_email((index + 2) % users), "member")]
    return people, f"team-{index % groups:05d}", f"bot-{index:05d}"


def _seed_project(index: int, users: int, groups: int) -> dict[str, Any]:
    people, group, account = _members(index, users, groups)
    owner = people[0][0]
    project: dict[str, Any] = {
        "id": project_id(index),
        "name": project_name(index),
        "created_at": NOW - 400 * DAY,
        "data_retention": "organization_default" if index % 10 == 9 else "zero_data_retention",
        "hosted_tools": {"code_interpreter": False, "mcp": index % 5 == 4, "image_generation": False},
        "rate_limits": {"gpt-4.1": {"max_requests_per_1_minute": 1000 if index % 4 == 3 else 500}},
        "spend_alerts": [
            {"threshold_amount": 5_000, "recipients": [FINOPS]},
            {"threshold_amount": 8_000, "recipients": [FINOPS]},
        ],
        "users": [{"user": email, "role": role} for email, role in people],
        "groups": [{"group": group, "role": "member"}],
        "service_accounts": [{"name": account, "role": "member"}],
        "api_keys": [
            {"name": "ci", "owner": {"type": "service_account", "id": account}, "created_at": NOW - 10 * DAY},
            {"name": "laptop", "owner": {"type": "user", "id": owner}, "created_at": NOW - 200 * DAY},
        ],
    }
    if index % 7 != 6:
        project["model_permissions"] = {"mode": "allow_list", "model_ids": ["gpt-4.1-mini", "gpt-4.1"]}
    if index % 6 != 5:
        project["spend_limit"] = {"threshold_amount": 10_000}
    return project


def _desired(projects: int, users: int, groups: int) -> DesiredState:
    """Every control managed: the shared settings in `project_defaults`, members in each project's file."""
    organization = OrganizationFile(
        organization=OrganizationSettings(
            data_retention="zero_data_retention",
            spend_limit=SpendLimit(amount_usd=Decimal(10_000)),
            spend_alerts=[SpendAlert(threshold_usd=Decimal(5_000), recipients=[FINOPS])],
        ),
        project_defaults=ProjectDefaults(
            data_retention="zero_data_retention",
            hosted_tools={"code_interpreter": False, "mcp": False, "image_generation": False},
            model_permissions=ModelPolicy(mode="allow_list", model_ids=["gpt-4.1", "gpt-4.1-mini"]),
            rate_limits={"gpt-4.1": RateLimit(max_requests_per_1_minute=500)},
            spend_limit=SpendLimit(amount_usd=Decimal(100)),
            spend_alerts=[
                SpendAlert(threshold_usd=Decimal(50), recipients=[FINOPS]),
                SpendAlert(threshold_usd=Decimal(80), recipients=[FINOPS]),
            ],
            keys=KeyHygiene(max_age_days=90, max_idle_days=30, user_keys="report"),
        ),
        invite_missing_users=True,
    )
    files = []
    for index in range(projects):
        people, group, account = _members(index, users, groups)
        members = Members(users=dict(people), groups={group: "member"}, service_accounts={account: "member"})
        files.append(ProjectFile(name=project_name(index), members=members))
    sources = {f.name: f"projects/{f.name}.yaml" for f in files}
    return DesiredState(organization=organization, projects=tuple(files), sources=sources)
