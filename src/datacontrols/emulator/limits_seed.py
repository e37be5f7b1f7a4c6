"""The seed and dump shapes of rate limits, spend limits and spend alerts (used by `seed.py`).

    organization:
      model_rate_limits:                    # optional: the models every project has a row for, with the
        gpt-4.1: {max_requests_per_1_minute: 10000, max_tokens_per_1_minute: 2000000}   # organization's limits
      spend_limit: {threshold_amount: 2000000}          # cents a month; null (default): none
      spend_alerts:
        - {id: alert_..., threshold_amount: 1500000, recipients: [finops@example.com], subject_prefix: null}
    projects:
      - name: Support Bot
        rate_limits:                        # limits set on this project's rows; the rest are the organization's
          gpt-4.1: {max_requests_per_1_minute: 5000}
        spend_limit: {threshold_amount: 100000}
        spend_alerts: [{threshold_amount: 25000, recipients: [ops@example.com]}]   # id optional: generated

Without `model_rate_limits` the organization has the fixed list of `state.default_model_rate_limits()`.
Amounts are cents, as in the API. A project's limit must be one its model has and may not exceed the
organization's (the emulator refuses such an update too).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from datacontrols.adminapi.rate_limits import RATE_LIMIT_FIELDS
from datacontrols.emulator.state import IdFactory, SpendAlertRecord, default_model_rate_limits

__all__ = [
    "SeedRateLimit",
    "SeedSpendAlert",
    "SeedSpendLimit",
    "alerts_from_seed",
    "check_alert_ids",
    "check_organization_rate_limits",
    "check_project_rate_limits",
    "default_seed_model_rate_limits",
    "dump_alerts",
    "dump_rate_limits",
    "dump_spend_limit",
]

_REQUIRED_IN_A_ROW = ("max_requests_per_1_minute", "max_tokens_per_1_minute")  # the spec requires both


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class SeedRateLimit(_Strict):
    max_requests_per_1_minute: int | None = Field(default=None, ge=0)
    max_tokens_per_1_minute: int | None = Field(default=None, ge=0)
    max_images_per_1_minute: int | None = Field(default=None, ge=0)
    max_audio_megabytes_per_1_minute: int | None = Field(default=None, ge=0)
    max_requests_per_1_day: int | None = Field(default=None, ge=0)
    batch_1_day_max_input_tokens: int | None = Field(default=None, ge=0)

    def limits(self) -> dict[str, int]:
        values = {name: getattr(self, name) for name in RATE_LIMIT_FIELDS}
        return {name: value for name, value in values.items() if value is not None}


class SeedSpendLimit(_Strict):
    threshold_amount: int = Field(ge=1)


class SeedSpendAlert(_Strict):
    id: str | None = None
    threshold_amount: int = Field(ge=0)
    recipients: list[str]  # may be empty, as through the API (the spec sets no minimum)
    subject_prefix: str | None = None


def default_seed_model_rate_limits() -> dict[str, SeedRateLimit]:
    return {model: SeedRateLimit(**limits) for model, limits in default_model_rate_limits().items()}


def check_organization_rate_limits(models: dict[str, SeedRateLimit]) -> None:
    for model, row in models.items():
        missing = [name for name in _REQUIRED_IN_A_ROW if name not in row.limits()]
        if missing:
            raise ValueError(f"organization.model_rate_limits.{model} needs {' and '.join(missing)}")


def check_project_rate_limits(project: str, rows: dict[str, SeedRateLimit], models: dict[str, SeedRateLimit]) -> None:
    """Each limit a project sets must be one its model has, and at most the organization's."""
    for model, row in rows.items():
        ceiling = models.get(model)
        if ceiling is None:
            raise ValueError(
                f"project {project!r}: rate_limits.{model}: the organization has no such model "
                "(add it to organization.model_rate_limits)"
            )
        for name, value in row.limits().items():
            limit = ceiling.limits().get(name)
            if limit is None:
                raise ValueError(f"project {project!r}: rate_limits.{model}.{name}: the model has no such limit")
            if value > limit:
                raise ValueError(
                    f"project {project!r}: rate_limits.{model}.{name}: {value} is above the organization's {limit}"
                )


def check_alert_ids(alert_lists: list[list[SeedSpendAlert]]) -> None:
    ids = [alert.id for alerts in alert_lists for alert in alerts if alert.id is not None]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"spend alert ids used twice: {', '.join(duplicates)}")


def alerts_from_seed(entries: list[SeedSpendAlert], ids: IdFactory, taken: set[str]) -> list[SpendAlertRecord]:
    """Records for seeded alerts; an alert without an id gets a new one (not in `taken`, which grows)."""
    records = []
    for entry in entries:
        alert_id = entry.id
        while alert_id is None or (entry.id is None and alert_id in taken):
            alert_id = ids.resource("alert_")
        taken.add(alert_id)
        records.append(SpendAlertRecord(alert_id, entry.threshold_amount, list(entry.recipients), entry.subject_prefix))
    return records


def dump_rate_limits(rows: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    return {
        model: {name: limits[name] for name in RATE_LIMIT_FIELDS if name in limits} for model, limits in rows.items()
    }


def dump_spend_limit(cents: int | None) -> dict[str, int] | None:
    return None if cents is None else {"threshold_amount": cents}


def dump_alerts(alerts: list[SpendAlertRecord]) -> list[dict[str, Any]]:
    return [
        {
            "id": alert.id,
            "threshold_amount": alert.threshold_amount,
            "recipients": list(alert.recipients),
            "subject_prefix": alert.subject_prefix,
        }
        for alert in alerts
    ]
