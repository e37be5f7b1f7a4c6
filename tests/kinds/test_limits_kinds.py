"""Pure compare of the limit kinds: rate limits, hard spend limits and spend alerts, table-driven."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from kinds_support import desired_project

from datacontrols.adminapi.rate_limits import ProjectRateLimit
from datacontrols.adminapi.spend import NotificationChannel, SpendAlert, SpendLimit
from datacontrols.desired.limits import RateLimit
from datacontrols.desired.limits import SpendAlert as DesiredAlert
from datacontrols.desired.limits import SpendLimit as DesiredLimit
from datacontrols.desired.schema import DesiredState, OrganizationFile, OrganizationSettings, ProjectDefaults
from datacontrols.kinds.base import NOT_CREATED, World
from datacontrols.kinds.organization_retention import Unreadable
from datacontrols.kinds.rate_limits import ProjectRateLimits, RateLimitFacts
from datacontrols.kinds.spend_alerts import AlertFacts, OrganizationSpendAlerts, ProjectSpendAlerts
from datacontrols.kinds.spend_limit import LimitFacts, OrganizationSpendLimit, ProjectSpendLimit
from datacontrols.plan import Change, FieldChange

RATE = ProjectRateLimits()
LIMIT = ProjectSpendLimit()
ALERTS = ProjectSpendAlerts()
EMPTY_WORLD = World(desired=DesiredState())


def row(model: str, **limits: int) -> ProjectRateLimit:
    return ProjectRateLimit(id=f"rl_{model}", model=model, **limits)


def usd(amount: str) -> DesiredLimit:
    return DesiredLimit(amount_usd=Decimal(amount))


def live_limit(cents: int, **extra: Any) -> SpendLimit:
    return SpendLimit(threshold_amount=cents, enforcement={"status": "inactive"}, **extra)


def alert(alert_id: str, cents: int, *recipients: str, prefix: str | None = None, **extra: Any) -> SpendAlert:
    channel = NotificationChannel(recipients=list(recipients), subject_prefix=prefix)
    return SpendAlert(id=alert_id, threshold_amount=cents, notification_channel=channel, **extra)


def want_alert(amount: str, *recipients: str, **prefix: Any) -> DesiredAlert:
    return DesiredAlert(threshold_usd=Decimal(amount), recipients=list(recipients), **prefix)


def summary(changes: list[Change]) -> list[tuple[str, str | None, str, dict[str, tuple[Any, Any]]]]:
    return [
        (c.action, c.subject, c.severity, {k: (fc.before, fc.after) for k, fc in c.fields.items()}) for c in changes
    ]


# --- rate limits -----------------------------------------------------------------------------------------

GPT = {"max_requests_per_1_minute": 500, "max_tokens_per_1_minute": 200000}
LIVE_ROWS = [
    row("gpt-4.1", max_requests_per_1_minute=10000, max_tokens_per_1_minute=200000),
    row("o3", max_requests_per_1_minute=100, max_tokens_per_1_minute=1000, batch_1_day_max_input_tokens=9),
]

RATE_CASES: list[tuple[str, dict[str, dict[str, int]], Any, list[Any]]] = [
    (
        "lowering one field is a low update naming only that field",
        {"gpt-4.1": GPT},
        LIVE_ROWS,
        [("update", "gpt-4.1", "high", {"max_requests_per_1_minute": (10000, 500)})],
    ),
    (
        "raising any field is high",
        {"o3": {"max_requests_per_1_minute": 50, "max_tokens_per_1_minute": 2000}},
        LIVE_ROWS,
        [
            (
                "update",
                "o3",
                "high",
                {"max_requests_per_1_minute": (100, 50), "max_tokens_per_1_minute": (1000, 2000)},
            )
        ],
    ),
    ("equal values plan nothing", {"gpt-4.1": {"max_tokens_per_1_minute": 200000}}, LIVE_ROWS, []),
    (
        "fields the file leaves out are not managed",
        {"o3": {"batch_1_day_max_input_tokens": 9}},
        LIVE_ROWS,
        [],
    ),
    (
        "a model without a row is a report, and the other models are still planned",
        {"gpt-5-nano": {"max_requests_per_1_minute": 5}, "gpt-4.1": GPT},
        LIVE_ROWS,
        [
            ("update", "gpt-4.1", "high", {"max_requests_per_1_minute": (10000, 500)}),
            ("report", "gpt-5-nano", "normal", {}),
        ],
    ),
    (
        "a limit the model does not have is a report; its other fields are planned",
        {"gpt-4.1": {"max_images_per_1_minute": 5, "max_requests_per_1_minute": 400}},
        LIVE_ROWS,
        [
            ("report", "gpt-4.1", "normal", {}),
            ("update", "gpt-4.1", "high", {"max_requests_per_1_minute": (10000, 400)}),
        ],
    ),
    (
        "a project to be created gets its limits set after creation",
        {"gpt-4.1": GPT},
        NOT_CREATED,
        [
            (
                "update",
                "gpt-4.1",
                "normal",
                {"max_requests_per_1_minute": (None, 500), "max_tokens_per_1_minute": (None, 200000)},
            )
        ],
    ),
]


@pytest.mark.parametrize(("case", "wanted", "observed", "expected"), RATE_CASES, ids=[c[0] for c in RATE_CASES])
def test_rate_limit_compare(case: str, wanted: dict[str, dict[str, int]], observed: Any, expected: list[Any]) -> None:
    project = desired_project(name="P", rate_limits={m: RateLimit(**v) for m, v in wanted.items()})
    changes = RATE.compare(project, observed, EMPTY_WORLD)
    assert summary(changes) == expected
    assert all(c.kind == "project_rate_limit" and c.project == "P" for c in changes)


def test_rate_limit_changes_carry_the_row_id_and_reports_say_why() -> None:
    project = desired_project(name="P", rate_limits={"gpt-4.1": RateLimit(**GPT), "ada": RateLimit(**GPT)})
    report, update = RATE.compare(project, LIVE_ROWS, EMPTY_WORLD)
    assert update.facts == RateLimitFacts(rate_limit_id="rl_gpt-4.1", model="gpt-4.1")
    assert "no rate-limit row for ada" in report.reason and "gpt-4.1, o3" in report.reason
    assert not report.applies
    new = RATE.compare(project, NOT_CREATED, EMPTY_WORLD)
    assert [c.facts_as(RateLimitFacts).rate_limit_id for c in new] == [None, None], (
        "apply looks rows up once the project exists"
    )


def test_rate_limits_are_managed_only_when_named() -> None:
    assert not RATE.manages(desired_project(name="P"))
    assert RATE.manages(desired_project(name="P", rate_limits={"o3": RateLimit(max_requests_per_1_minute=1)}))


# --- hard spend limit ------------------------------------------------------------------------------------

LIMIT_CASES: list[tuple[str, Any, Any, list[Any]]] = [
    (
        "no limit live: create, low",
        usd("500"),
        None,
        [("create", None, "high", {"threshold_amount": (None, "500.00 USD")})],
    ),
    (
        "lowering is low",
        usd("500"),
        live_limit(100000),
        [("update", None, "high", {"threshold_amount": ("1000.00 USD", "500.00 USD")})],
    ),
    (
        "raising is high",
        usd("19.99"),
        live_limit(1000),
        [("update", None, "critical", {"threshold_amount": ("10.00 USD", "19.99 USD")})],
    ),
    ("equal: nothing", usd("19.99"), live_limit(1999), []),
    (
        "removing is high",
        "none",
        live_limit(1999),
        [("delete", None, "critical", {"threshold_amount": ("19.99 USD", None)})],
    ),
    ("none and none live: nothing", "none", None, []),
    (
        "another interval is drift even at the same amount",
        usd("5"),
        live_limit(500, interval="week"),
        [("update", None, "normal", {"interval": ("week", "month")})],
    ),
    (
        "a new project: create",
        usd("5"),
        NOT_CREATED,
        [("create", None, "normal", {"threshold_amount": (None, "5.00 USD")})],
    ),
    ("none on a new project: nothing", "none", NOT_CREATED, []),
]


@pytest.mark.parametrize(("case", "want", "observed", "expected"), LIMIT_CASES, ids=[c[0] for c in LIMIT_CASES])
def test_project_spend_limit_compare(case: str, want: Any, observed: Any, expected: list[Any]) -> None:
    changes = LIMIT.compare(desired_project(name="P", spend_limit=want), observed, EMPTY_WORLD)
    assert summary(changes) == expected
    for change in changes:
        assert (change.kind, change.project) == ("spend_limit", "P")
        assert change.facts_as(LimitFacts).threshold_amount == (
            None if change.action == "delete" else int(Decimal(want.amount_usd) * 100)
        )


def org_state(limit: Any = None, alerts: Any = None) -> DesiredState:
    # Only what is given: an explicit None is refused as ambiguous, as a null in YAML would be.
    given = {name: value for name, value in (("spend_limit", limit), ("spend_alerts", alerts)) if value is not None}
    return DesiredState(organization=OrganizationFile(organization=OrganizationSettings(**given)))


def test_organization_spend_limit_uses_the_same_rules_with_project_null() -> None:
    kind = OrganizationSpendLimit()
    state = org_state(usd("20000"))
    (change,) = kind.compare(state, None, World(desired=state))
    assert (change.action, change.project, change.fields) == (
        "create",
        None,
        {"threshold_amount": FieldChange(None, "20000.00 USD")},
    )
    assert kind.compare(state, live_limit(2000000), World(desired=state)) == []
    (unreadable,) = kind.compare(state, Unreadable("could not read: HTTP 403"), World(desired=state))
    assert (unreadable.action, unreadable.severity, unreadable.applies) == ("report", "high", False)
    assert not kind.manages(org_state()) and kind.manages(state)


def test_the_organization_limit_is_read_when_a_project_sets_one() -> None:
    kind = OrganizationSpendLimit()
    project_only = DesiredState(projects=(desired_project(name="P", spend_limit=usd("5")).file,))
    assert kind.reads(project_only) and not kind.manages(project_only)
    removal_only = DesiredState(projects=(desired_project(name="P", spend_limit="none").file,))
    assert not kind.reads(removal_only)


@pytest.mark.parametrize(
    ("organization_desired", "organization_live", "warned"),
    [
        (usd("100"), None, True),  # the organization's desired limit counts
        (None, live_limit(10000), True),  # else its live one
        (None, live_limit(70000), False),
        ("none", live_limit(100), False),  # it is being removed: nothing to exceed
        (usd("1000"), live_limit(100), False),  # desired wins over live
        (None, Unreadable("no"), False),
    ],
)
def test_a_project_limit_above_the_organizations_is_a_warning(
    organization_desired: Any, organization_live: Any, warned: bool
) -> None:
    state = org_state(organization_desired)
    world = World(desired=state, organization={"spend_limit": organization_live})
    changes = LIMIT.compare(desired_project(name="P", spend_limit=usd("600")), live_limit(60000), world)
    reports = [c for c in changes if c.action == "report"]
    assert bool(reports) == warned
    if warned:
        (report,) = reports
        assert (
            report.severity == "normal"
            and "600.00 USD" in report.reason
            and "USD, which is reached first" in (report.reason)
        )


# --- spend alerts ----------------------------------------------------------------------------------------

A = "a@example.com"
B = "b@example.com"

ALERT_CASES: list[tuple[str, list[DesiredAlert], Any, list[Any]]] = [
    (
        "a missing alert is created",
        [want_alert("250", A)],
        [],
        [("create", "250.00 USD", "normal", {"threshold_amount": (None, "250.00 USD"), "recipients": (None, [A])})],
    ),
    (
        "matched by threshold; recipients as a set, case-insensitively",
        [want_alert("250", A, B)],
        [alert("x", 25000, "B@Example.com", A)],
        [],
    ),
    (
        "changed recipients are one update",
        [want_alert("250", A)],
        [alert("x", 25000, B)],
        [("update", "250.00 USD", "normal", {"recipients": ([B], [A])})],
    ),
    (
        "only adding recipients is low",
        [want_alert("250", A, B)],
        [alert("x", 25000, A)],
        [("update", "250.00 USD", "normal", {"recipients": ([A], [A, B])})],
    ),
    (
        "a live alert at another threshold is deleted, and the desired one created",
        [want_alert("250", A)],
        [alert("x", 30000, A)],
        [
            ("create", "250.00 USD", "normal", {"threshold_amount": (None, "250.00 USD"), "recipients": (None, [A])}),
            ("delete", "300.00 USD", "normal", {"threshold_amount": ("300.00 USD", None), "recipients": ([A], None)}),
        ],
    ),
    (
        "an empty list deletes every alert",
        [],
        [alert("x", 100, A), alert("y", 200, B)],
        [
            ("delete", "1.00 USD", "normal", {"threshold_amount": ("1.00 USD", None), "recipients": ([A], None)}),
            ("delete", "2.00 USD", "normal", {"threshold_amount": ("2.00 USD", None), "recipients": ([B], None)}),
        ],
    ),
    (
        "of two live alerts at one threshold the right one stays, the other goes",
        [want_alert("1", A)],
        [alert("x", 100, B), alert("y", 100, A)],
        [("delete", "1.00 USD", "normal", {"threshold_amount": ("1.00 USD", None), "recipients": ([B], None)})],
    ),
    ("an absent subject prefix is not managed", [want_alert("1", A)], [alert("x", 100, A, prefix="[x]")], []),
    (
        "a set subject prefix is",
        [want_alert("1", A, subject_prefix="[y]")],
        [alert("x", 100, A, prefix="[x]")],
        [("update", "1.00 USD", "normal", {"subject_prefix": ("[x]", "[y]")})],
    ),
    (
        "null clears it",
        [want_alert("1", A, subject_prefix=None)],
        [alert("x", 100, A, prefix="[x]")],
        [("update", "1.00 USD", "normal", {"subject_prefix": ("[x]", None)})],
    ),
    (
        "a new project: every alert created",
        [want_alert("1", A, subject_prefix="[p]")],
        NOT_CREATED,
        [
            (
                "create",
                "1.00 USD",
                "normal",
                {"threshold_amount": (None, "1.00 USD"), "recipients": (None, [A]), "subject_prefix": (None, "[p]")},
            )
        ],
    ),
]


@pytest.mark.parametrize(("case", "want", "observed", "expected"), ALERT_CASES, ids=[c[0] for c in ALERT_CASES])
def test_project_spend_alert_compare(case: str, want: list[DesiredAlert], observed: Any, expected: list[Any]) -> None:
    changes = ALERTS.compare(desired_project(name="P", spend_alerts=want), observed, EMPTY_WORLD)
    assert summary(changes) == expected
    assert all((c.kind, c.project) == ("spend_alert", "P") for c in changes)


def test_alert_changes_carry_what_apply_sends() -> None:
    project = desired_project(name="P", spend_alerts=[want_alert("250", A), want_alert("5", B, subject_prefix="[s]")])
    live = [alert("keep", 25000, B, prefix="[kept]"), alert("gone", 100, A)]
    create, delete, update = sorted(ALERTS.compare(project, live, EMPTY_WORLD), key=lambda c: c.action)
    assert create.facts == AlertFacts(threshold_amount=500, recipients=(B,), subject_prefix="[s]")
    # An update replaces the alert whole, so the unmanaged prefix is sent back unchanged.
    assert update.facts == AlertFacts(alert_id="keep", threshold_amount=25000, recipients=(A,), subject_prefix="[kept]")
    assert delete.facts == AlertFacts(alert_id="gone")


def test_an_alert_above_the_effective_limit_is_reported() -> None:
    defaults = ProjectDefaults(spend_alerts=[want_alert("900", A)])
    project = desired_project(defaults, name="P", spend_limit=usd("100"))
    changes = ALERTS.compare(project, [alert("x", 90000, A)], EMPTY_WORLD)
    assert summary(changes) == [("report", "900.00 USD", "normal", {})]
    assert "above the project's hard spend limit 100.00 USD" in changes[0].reason


def test_organization_alerts_compare_with_project_null() -> None:
    kind = OrganizationSpendAlerts()
    state = org_state(alerts=[want_alert("15000", A, subject_prefix="[org]")])
    (change,) = kind.compare(state, [], World(desired=state))
    assert (change.action, change.project, change.subject) == ("create", None, "15000.00 USD")
    assert kind.compare(state, [alert("o", 1500000, A, prefix="[org]")], World(desired=state)) == []
    assert not kind.manages(org_state()) and kind.manages(org_state(alerts=[]))
    (unreadable,) = kind.compare(state, Unreadable("no"), World(desired=state))
    assert unreadable.action == "report"
