"""Limits in desired state: dollars to exact cents, positioned errors, `none`, null refused, defaults merged."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from datacontrols.desired import load_desired_state
from datacontrols.desired.jsonschema import desired_state_json_schema
from datacontrols.desired.limits import RateLimit, SpendAlert, SpendLimit, format_usd, to_cents
from datacontrols.errors import DesiredStateError


def write(root: Path, project: str, organization: str | None = None) -> Path:
    (root / "projects").mkdir(parents=True, exist_ok=True)
    (root / "projects" / "p.yaml").write_text(project)
    if organization is not None:
        (root / "organization.yaml").write_text(organization)
    return root


def problems(root: Path) -> list[str]:
    with pytest.raises(DesiredStateError) as caught:
        load_desired_state(root)
    return [str(problem) for problem in caught.value.problems]


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run from tmp_path, so reported paths are short (`ds/projects/p.yaml`)."""
    monkeypatch.chdir(tmp_path)
    return Path("ds")


@pytest.mark.parametrize(
    ("written", "cents"),
    [("19.99", 1999), ("500", 50000), ("0.01", 1), ("0.1", 10), ("1e3", 100000), ("20000.00", 2000000)],
)
def test_dollars_become_exact_cents(here: Path, written: str, cents: int) -> None:
    state = load_desired_state(write(here, f"name: P\nspend_limit: {{amount_usd: {written}}}\n"))
    limit = state.projects[0].spend_limit
    assert isinstance(limit, SpendLimit)
    assert limit.cents == cents


def test_sub_cent_amounts_are_refused_at_their_position(here: Path) -> None:
    project = (
        "name: P\n"
        "spend_limit: {amount_usd: 19.999}\n"
        "spend_alerts:\n"
        "  - {threshold_usd: 0.001, recipients: [a@example.com]}\n"
    )
    assert problems(write(here, project)) == [
        "ds/projects/p.yaml:2:27: spend_limit.amount_usd: 19.999 is not a whole number of cents",
        "ds/projects/p.yaml:4:21: spend_alerts.0.threshold_usd: 0.001 is not a whole number of cents",
    ]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0", "a hard spend limit must be at least 0.01 USD, got 0"),
        ("-5", "a hard spend limit must be at least 0.01 USD, got -5"),
        (
            '"500"',
            "expected a number of US dollars such as 500 or 19.99, got the string '500' "
            "(write the number without quotes)",
        ),
        ("true", "expected a number of US dollars such as 500 or 19.99, got true"),
        (".inf", "inf is not an amount of dollars"),
    ],
)
def test_bad_amounts_say_what_is_wrong(here: Path, value: str, message: str) -> None:
    found = problems(write(here, f"name: P\nspend_limit:\n  amount_usd: {value}\n"))
    assert found == [f"ds/projects/p.yaml:3:15: spend_limit.amount_usd: {message}"]


def test_an_alert_threshold_may_be_zero_but_not_negative(here: Path) -> None:
    zero = load_desired_state(write(here, "name: P\nspend_alerts: [{threshold_usd: 0, recipients: [a@b.io]}]\n"))
    alerts = zero.projects[0].spend_alerts
    assert alerts is not None and alerts[0].cents == 0
    negative = write(here, "name: P\nspend_alerts: [{threshold_usd: -1, recipients: [a@b.io]}]\n")
    assert problems(negative) == [
        "ds/projects/p.yaml:2:32: spend_alerts.0.threshold_usd: an alert threshold must be at least 0 USD, got -1"
    ]


def test_none_removes_and_null_is_refused_as_ambiguous(here: Path) -> None:
    state = load_desired_state(write(here, "name: P\nspend_limit: none\n"))
    assert state.projects[0].spend_limit == "none"

    project = "name: P\nspend_limit: null\nspend_alerts:\nrate_limits: ~\n"
    organization = "organization:\n  spend_limit: null\n"
    assert problems(write(here, project, organization)) == [
        "ds/organization.yaml:2:16: organization.spend_limit: null is ambiguous here; "
        "write `none` to remove the limit, or leave the key out to leave it unmanaged",
        "ds/projects/p.yaml:2:14: spend_limit: null is ambiguous here; "
        "write `none` to remove the limit, or leave the key out to leave it unmanaged",
        "ds/projects/p.yaml:3:1: spend_alerts: null is ambiguous here; "
        "write [] to delete every alert, or leave the key out to leave them unmanaged",
        "ds/projects/p.yaml:4:14: rate_limits: null is ambiguous here; "
        "leave the key out to leave rate limits unmanaged",
    ]


def test_a_typo_in_none_is_caught(here: Path) -> None:
    assert problems(write(here, "name: P\nspend_limit: None\n")) == [
        "ds/projects/p.yaml:2:14: spend_limit: 'None' is not allowed; did you mean 'none'? "
        "(allowed: 'none' or a mapping)"
    ]


def test_alerts_above_the_limit_and_repeated_thresholds_are_refused(here: Path) -> None:
    project = (
        "name: P\n"
        "spend_limit: {amount_usd: 500}\n"
        "spend_alerts:\n"
        "  - {threshold_usd: 500, recipients: [a@example.com]}\n"  # at the limit: fine
        "  - {threshold_usd: 600, recipients: [a@example.com]}\n"
    )
    organization = (
        "organization:\n"
        "  spend_alerts:\n"
        "    - {threshold_usd: 250, recipients: [a@example.com]}\n"
        "    - {threshold_usd: 250.00, recipients: [b@example.com]}\n"
    )
    assert problems(write(here, project, organization)) == [
        "ds/organization.yaml:3:5: organization.spend_alerts: two alerts at 250.00 USD; "
        "alerts are matched by threshold, so each needs its own",
        "ds/projects/p.yaml:4:3: spend_alerts: alert threshold 600.00 USD is above the hard spend limit 500.00 USD; "
        "spend stops at the limit, so the alert could never fire",
    ]


def test_recipients_must_be_addresses_listed_once(here: Path) -> None:
    project = (
        "name: P\n"
        "spend_alerts:\n"
        "  - {threshold_usd: 1, recipients: [finops]}\n"
        "  - {threshold_usd: 2, recipients: [a@example.com, A@Example.com]}\n"
        "  - {threshold_usd: 3, recipients: []}\n"
    )
    assert problems(write(here, project)) == [
        "ds/projects/p.yaml:3:37: spend_alerts.0.recipients.0: 'finops' is not an email address",
        "ds/projects/p.yaml:4:36: spend_alerts.1.recipients: 'A@Example.com' is listed twice",
        "ds/projects/p.yaml:5:36: spend_alerts.2.recipients: needs at least 1 items",
    ]


def test_rate_limits_use_the_api_field_names(here: Path) -> None:
    project = (
        "name: P\n"
        "rate_limits:\n"
        "  gpt-4.1: {max_requests_per_1_minute: 500, max_tokens_per_1_minute: 200000}\n"
        "  o3: {max_request_per_1_minute: 5}\n"
        "  gpt-4o: {}\n"
        "  gpt-4o-mini: {max_tokens_per_1_minute: 0}\n"
    )
    assert problems(write(here, project)) == [
        "ds/projects/p.yaml:4:8: rate_limits.o3.max_request_per_1_minute: unknown key; "
        "did you mean 'max_requests_per_1_minute'?",
        "ds/projects/p.yaml:5:11: rate_limits.gpt-4o: name at least one limit (max_requests_per_1_minute, "
        "max_tokens_per_1_minute, max_images_per_1_minute, max_audio_megabytes_per_1_minute, "
        "max_requests_per_1_day, batch_1_day_max_input_tokens)",
        "ds/projects/p.yaml:6:42: rate_limits.gpt-4o-mini.max_tokens_per_1_minute: "
        "input should be greater than or equal to 1",
    ]
    fine = load_desired_state(write(here, "name: P\nrate_limits: {gpt-4.1: {max_requests_per_1_minute: 5}}\n"))
    limits = fine.projects[0].rate_limits
    assert limits is not None and limits["gpt-4.1"].limits() == {"max_requests_per_1_minute": 5}


def test_project_defaults_merge_model_by_model_and_field_by_field(here: Path) -> None:
    organization = (
        "project_defaults:\n"
        "  rate_limits:\n"
        "    gpt-4.1: {max_requests_per_1_minute: 100, max_tokens_per_1_minute: 1000}\n"
        "    o3: {max_requests_per_1_minute: 7}\n"
        "  spend_limit: {amount_usd: 100}\n"
        "  spend_alerts: [{threshold_usd: 50, recipients: [ops@example.com]}]\n"
    )
    project = "name: P\nrate_limits: {gpt-4.1: {max_tokens_per_1_minute: 500}}\nspend_limit: none\n"
    state = load_desired_state(write(here, project, organization))
    settings = state.effective(state.projects[0])
    assert settings.rate_limits is not None
    assert {model: r.limits() for model, r in settings.rate_limits.items()} == {
        "gpt-4.1": {"max_requests_per_1_minute": 100, "max_tokens_per_1_minute": 500},
        "o3": {"max_requests_per_1_minute": 7},
    }
    assert settings.spend_limit == "none", "the project's own value wins, `none` included"
    assert settings.spend_alerts is not None and [a.cents for a in settings.spend_alerts] == [5000]


def test_a_default_alert_above_a_projects_own_limit_is_not_a_load_error(here: Path) -> None:
    # Within one file it is refused; across project_defaults and a project file it is planned as a finding.
    organization = "project_defaults:\n  spend_alerts: [{threshold_usd: 900, recipients: [ops@example.com]}]\n"
    state = load_desired_state(write(here, "name: P\nspend_limit: {amount_usd: 100}\n", organization))
    settings = state.effective(state.projects[0])
    assert isinstance(settings.spend_limit, SpendLimit) and settings.spend_alerts is not None


def test_subject_prefix_absent_null_and_set_differ() -> None:
    absent = SpendAlert(threshold_usd=Decimal(1), recipients=["a@example.com"])
    cleared = SpendAlert(threshold_usd=Decimal(1), recipients=["a@example.com"], subject_prefix=None)
    assert (absent.manages_subject_prefix, cleared.manages_subject_prefix) == (False, True)


def test_money_helpers() -> None:
    assert to_cents(Decimal("19.99")) == 1999
    assert [format_usd(c) for c in (0, 1, 1999, 2000000, -150)] == [
        "0.00 USD",
        "0.01 USD",
        "19.99 USD",
        "20000.00 USD",
        "-1.50 USD",
    ]
    assert RateLimit(max_requests_per_1_minute=1).limits() == {"max_requests_per_1_minute": 1}


def test_the_json_schema_describes_the_keys_and_refuses_null() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    project = desired_state_json_schema("project")
    organization = desired_state_json_schema("organization")
    for name in ("rate_limits", "spend_limit", "spend_alerts"):
        assert {"type": "null"} not in project["properties"][name]["anyOf"], name
    assert "stops managing it" in project["properties"]["rate_limits"]["description"]
    validator = jsonschema.Draft7Validator(project)
    good = {
        "name": "P",
        "rate_limits": {"gpt-4.1": {"max_requests_per_1_minute": 500}},
        "spend_limit": {"amount_usd": 19.99},
        "spend_alerts": [{"threshold_usd": 250, "recipients": ["a@example.com"], "subject_prefix": None}],
    }
    assert list(validator.iter_errors(good)) == []
    refused: list[dict[str, Any]] = [
        {"spend_limit": None},
        {"spend_limit": {"amount_usd": 0}},
        {"spend_alerts": [{"recipients": []}]},
    ]
    for broken in refused:
        assert list(validator.iter_errors({"name": "P", **broken})), broken
    settings = organization["definitions"]["OrganizationSettings"]["properties"]
    assert {"spend_limit", "spend_alerts"} <= set(settings)
