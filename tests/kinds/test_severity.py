"""Severity means one thing in every kind: the risk of applying the change. It weakens a data control:
critical. It may interrupt traffic or lock someone out: high. It tightens or corrects: normal. A report says
how serious its finding is. One case per kind and direction pins the rule."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from kinds_support import desired_project, live_project, permissions, policy, tools, world

from datacontrols.adminapi.external_keys import ExternalKey
from datacontrols.adminapi.service_tiers import ServiceTierSettings
from datacontrols.adminapi.spend import SpendLimit
from datacontrols.desired.encryption import EncryptionKey
from datacontrols.desired.limits import SpendLimit as DesiredLimit
from datacontrols.kinds.base import NOT_CREATED
from datacontrols.kinds.encryption_key import KeyBinding, ProjectEncryptionKey
from datacontrols.kinds.hosted_tools import ProjectHostedTools
from datacontrols.kinds.membership import GuardContext, member_change
from datacontrols.kinds.model_permissions import ProjectModelPermissions
from datacontrols.kinds.project import compare_project, compare_unmanaged, match_projects
from datacontrols.kinds.project_retention import ProjectDataRetention
from datacontrols.kinds.project_users import UserFacts
from datacontrols.kinds.protection import effective_retention, retention_strength
from datacontrols.kinds.rate_limits import ProjectRateLimits
from datacontrols.kinds.service_tiers import ProjectServiceTiers
from datacontrols.kinds.spend_limit import compare_spend_limit
from datacontrols.plan import Change, FieldChange

ZDR, MAM, EZDR, EMAM = (
    "zero_data_retention",
    "modified_abuse_monitoring",
    "enhanced_zero_data_retention",
    "enhanced_modified_abuse_monitoring",
)


@pytest.mark.parametrize(
    ("weaker", "stronger"),
    [("none", MAM), (MAM, EMAM), (EMAM, ZDR), (ZDR, EZDR), ("none", ZDR), (MAM, ZDR)],
)
def test_retention_strength_orders_protection(weaker: str, stronger: str) -> None:
    assert retention_strength(weaker) < retention_strength(stronger)  # type: ignore[operator]


@pytest.mark.parametrize(
    ("project_type", "organization_type", "effective"),
    [
        ("organization_default", ZDR, ZDR),
        ("organization_default", None, None),
        ("none", ZDR, "none"),
        (MAM, ZDR, MAM),
        (None, ZDR, None),
    ],
)
def test_effective_retention(project_type: str | None, organization_type: str | None, effective: str | None) -> None:
    assert effective_retention(project_type, organization_type) == effective


TOOLS = ProjectHostedTools()
MODELS = ProjectModelPermissions()
RETENTION = ProjectDataRetention()
RATE = ProjectRateLimits()
TIERS = ProjectServiceTiers()
KEYS = ProjectEncryptionKey()


def usd(amount: str) -> DesiredLimit:
    return DesiredLimit(amount_usd=Decimal(amount))


def live_limit(cents: int) -> SpendLimit:
    return SpendLimit(threshold_amount=cents, enforcement={"status": "inactive"})


def ekm(name: str, purpose: str = "ekm") -> KeyBinding:
    return KeyBinding(key_id="ekm_1", key=ExternalKey(id="ekm_1", name=name, type="aws", purpose=purpose))


def encryption(wanted: str | EncryptionKey, observed: object) -> Change:
    return only(KEYS.compare(desired_project(name="x", encryption_key=wanted), observed, world()))


def only(changes: list[Change]) -> Change:
    [change] = changes
    return change


Case = Callable[[], Change]
CASES: list[tuple[str, Case, str]] = [
    (
        "tool-enabled",
        lambda: only(TOOLS.compare(desired_project(name="x", hosted_tools={"mcp": True}), tools(), world())),
        "critical",
    ),
    (
        "tool-disabled-that-is-on-live",
        lambda: only(TOOLS.compare(desired_project(name="x", hosted_tools={"mcp": False}), tools("mcp"), world())),
        "high",
    ),
    (
        "tool-enabled-on-new-project",
        lambda: only(TOOLS.compare(desired_project(name="x", hosted_tools={"mcp": True}), NOT_CREATED, world())),
        "critical",
    ),
    (
        "tool-disabled-on-new-project",
        lambda: only(TOOLS.compare(desired_project(name="x", hosted_tools={"mcp": False}), NOT_CREATED, world())),
        "normal",
    ),
    (
        "model-policy-removed",
        lambda: only(
            MODELS.compare(
                desired_project(name="x", model_permissions="unrestricted"), permissions("deny_list", "o3"), world()
            )
        ),
        "critical",
    ),
    (
        "model-allow-list-widened",
        lambda: only(
            MODELS.compare(
                desired_project(name="x", model_permissions=policy("allow_list", "o3", "gpt-4.1")),
                permissions("allow_list", "o3"),
                world(),
            )
        ),
        "critical",
    ),
    (
        "model-deny-list-shrunk",
        lambda: only(
            MODELS.compare(
                desired_project(name="x", model_permissions=policy("deny_list", "o3")),
                permissions("deny_list", "o3", "gpt-4.1"),
                world(),
            )
        ),
        "critical",
    ),
    (
        "model-allow-list-narrowed",
        lambda: only(
            MODELS.compare(
                desired_project(name="x", model_permissions=policy("allow_list", "o3")),
                permissions("allow_list", "o3", "gpt-4.1"),
                world(),
            )
        ),
        "high",
    ),
    (
        "model-policy-where-there-was-none",
        lambda: only(
            MODELS.compare(desired_project(name="x", model_permissions=policy("allow_list", "o3")), None, world())
        ),
        "high",
    ),
    (
        "model-policy-on-new-project",
        lambda: only(
            MODELS.compare(
                desired_project(name="x", model_permissions=policy("allow_list", "o3")), NOT_CREATED, world()
            )
        ),
        "normal",
    ),
    (
        "archive",
        lambda: only(compare_project(desired_project(name="x", status="archived"), live_project("p1", "x"))),
        "high",
    ),
    ("unmanaged-archive", lambda: only(compare_unmanaged(live_project("p1", "x"), "archive")), "high"),
    (
        "residency-uncorrectable",
        lambda: only(
            compare_project(desired_project(name="x", residency="EU_STORAGE_PROCESSING"), live_project("p1", "x"))
        ),
        "critical",
    ),
    (
        "ambiguous-name",
        lambda: only(
            match_projects([desired_project(name="x")], [live_project("p1", "x"), live_project("p2", "x")]).unmatchable
        ),
        "high",
    ),
    ("create", lambda: only(compare_project(desired_project(name="x"), None)), "normal"),
    (
        "rename",
        lambda: only(compare_project(desired_project(name="x", id="p1"), live_project("p1", "y"))),
        "normal",
    ),
    ("unmanaged-report", lambda: only(compare_unmanaged(live_project("p1", "x"), "report")), "normal"),
    (
        "retention-weakened",
        lambda: only(RETENTION.compare(desired_project(name="x", data_retention=MAM), ZDR, world())),
        "critical",
    ),
    (
        "retention-tightened",
        lambda: only(RETENTION.compare(desired_project(name="x", data_retention=ZDR), MAM, world())),
        "normal",
    ),
    (
        "rate-limit-raised",
        lambda: only(
            [
                RATE._update(
                    desired_project(name="x"), "gpt-4.1", "rl", {"max_requests_per_1_minute": FieldChange(10, 20)}
                )
            ]
        ),
        "normal",
    ),
    (
        "rate-limit-lowered",
        lambda: only(
            [
                RATE._update(
                    desired_project(name="x"), "gpt-4.1", "rl", {"max_requests_per_1_minute": FieldChange(20, 10)}
                )
            ]
        ),
        "high",
    ),
    ("spend-limit-raised", lambda: only(compare_spend_limit("x", usd("200"), live_limit(10_000))), "critical"),
    ("spend-limit-lowered", lambda: only(compare_spend_limit("x", usd("50"), live_limit(10_000))), "high"),
    ("spend-limit-set-where-none", lambda: only(compare_spend_limit("x", usd("50"), None)), "high"),
    ("spend-limit-on-new-project", lambda: only(compare_spend_limit("x", usd("50"), NOT_CREATED)), "normal"),
    ("spend-limit-removed", lambda: only(compare_spend_limit("x", "none", live_limit(10_000))), "critical"),
    # Encryption keys are report-only: a project whose data is not protected by the agreed key is critical.
    ("encryption-key-missing", lambda: encryption(EncryptionKey(name="k"), KeyBinding(key_id=None)), "critical"),
    ("encryption-key-missing-on-new-project", lambda: encryption(EncryptionKey(name="k"), NOT_CREATED), "critical"),
    ("encryption-key-another", lambda: encryption(EncryptionKey(name="k"), ekm("other")), "critical"),
    ("encryption-key-removed", lambda: encryption(EncryptionKey(name="k"), KeyBinding(key_id="ekm_1")), "critical"),
    ("encryption-key-not-ekm", lambda: encryption(EncryptionKey(name="k"), ekm("k", "psp_decryption")), "critical"),
    ("encryption-key-where-none-is-wanted", lambda: encryption("openai_managed", ekm("k")), "high"),
    ("member-added", lambda: member("create", None, "member"), "critical"),
    ("member-made-owner", lambda: member("update", "member", "owner"), "critical"),
    ("owner-demoted", lambda: member("update", "owner", "member"), "high"),
    ("member-removed", lambda: member("delete", "member", None), "high"),
    ("service-tier-enabled", lambda: only(tiers(ServiceTierSettings(default="standard", enabled_tiers=[]))), "normal"),
    (
        "service-tier-taken-away",
        lambda: only(tiers(ServiceTierSettings(default="standard", enabled_tiers=["flex", "fast"]), ["flex"])),
        "high",
    ),
]


def tiers(observed: object, enabled: object = "all") -> list[Change]:
    return TIERS.compare(desired_project(name="x", service_tiers={"enabled_tiers": enabled}), observed, world())


def member(action: str, before: str | None, after: str | None) -> Change:
    guard = GuardContext(owners=("user:u1",) if before == "owner" else ())
    facts = UserFacts(principal="user:u1", role_before=before, role_after=after, guard=guard, user_id="u1")
    return member_change(action, "project_user", "x", "a@example.com", facts, reason="r")


def test_a_change_apply_makes_cannot_be_given_a_severity_by_hand() -> None:
    with pytest.raises(ValueError, match="comes from weakens and disrupts"):
        Change(action="update", kind="k", project="x", severity="critical")
    assert Change(action="update", kind="k", project="x", weakens="w", disrupts="d").severity == "critical"
    assert Change(action="report", kind="k", project="x", severity="critical").severity == "critical"


@pytest.mark.parametrize(("case", "severity"), [pytest.param(c, s, id=i) for i, c, s in CASES])
def test_severity_by_kind(case: Case, severity: str) -> None:
    assert case().severity == severity
