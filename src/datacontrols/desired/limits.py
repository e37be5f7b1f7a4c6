"""The desired-state format of limits: per-model rate limits, hard spend limits and spend alerts.

    rate_limits:                                   # project files and project_defaults
      gpt-4.1: {max_requests_per_1_minute: 500, max_tokens_per_1_minute: 200000}
    spend_limit: {amount_usd: 500}                 # or `none` to remove the limit
    spend_alerts:
      - {threshold_usd: 250, recipients: [finops@example.com], subject_prefix: "[OpenAI]"}

Amounts are written in US dollars and must be a whole number of cents: YAML reads `19.99` as a binary float,
so it is converted through its shortest decimal text (`Decimal(repr(19.99)) == Decimal("19.99")`), never
through float arithmetic; `19.999` is refused at its position by the loader. The API takes integer cents.

`schema.py` puts these models on its settings classes. The checks that concern a whole file (an alert above
the hard limit of its scope, an explicit null, which is ambiguous) live in `LimitChecks`, mixed into the
classes a file is validated with, so the loader reports them at their position.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from typing import Annotated, Any, Final, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    StringConstraints,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from datacontrols.adminapi.rate_limits import RATE_LIMIT_FIELDS
from datacontrols.desired.model import EMAIL_SHAPE, DesiredModel

__all__ = [
    "RATE_LIMITS_DESCRIPTION",
    "RATE_LIMIT_FIELDS",
    "SPEND_ALERTS_DESCRIPTION",
    "SPEND_LIMIT_DESCRIPTION",
    "LimitChecks",
    "RateLimit",
    "RateLimits",
    "SpendAlert",
    "SpendAlerts",
    "SpendLimit",
    "SpendLimitSetting",
    "check_alerts_within_limit",
    "format_usd",
    "merge_rate_limits",
    "not_null_in_schema",
    "refuse_null",
    "to_cents",
]

_CENT: Final = Decimal("0.01")

# --------------------------------------------------------------------------------------------------------
# Money


def to_cents(amount: Decimal) -> int:
    """Dollars (already a whole number of cents) as integer cents: `Decimal("19.99")` -> 1999."""
    return int(amount * 100)


def from_cents(cents: int) -> int | float:
    """Cents as the files write dollars: whole dollars as an integer, else dollars and cents (`1999` -> 19.99)."""
    return cents // 100 if cents % 100 == 0 else round(cents / 100, 2)


def format_usd(cents: int) -> str:
    """How the plan shows money: `1999` -> `"19.99 USD"`, `2000000` -> `"20000.00 USD"`."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole}.{part:02d} USD"


def _dollars(minimum: Decimal, what: str) -> Callable[[Any], Decimal]:
    """A validator reading a YAML number of dollars exactly, refusing fractions of a cent and amounts below
    `minimum`."""

    def parse(value: Any) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
            raise ValueError(f"expected a number of US dollars such as 500 or 19.99, got {_shown(value)}")
        try:
            # repr gives a float's shortest round-tripping text: 19.99 stays 19.99, not 19.989999...
            amount = value if isinstance(value, Decimal) else Decimal(repr(value))
        except InvalidOperation:
            raise ValueError(f"{value!r} is not an amount of dollars") from None
        if not amount.is_finite():
            raise ValueError(f"{value} is not an amount of dollars")
        if amount != amount.quantize(_CENT, rounding=ROUND_DOWN):
            raise ValueError(f"{amount.normalize():f} is not a whole number of cents")
        if amount < minimum:
            raise ValueError(f"{what} must be at least {minimum} USD, got {amount.normalize():f}")
        return amount.quantize(_CENT)

    return parse


def _shown(value: Any) -> str:
    if isinstance(value, str):
        return f"the string {value!r} (write the number without quotes)"
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    return "a mapping" if isinstance(value, dict) else "a list" if isinstance(value, list) else type(value).__name__


LimitUsd = Annotated[
    Decimal,
    BeforeValidator(_dollars(_CENT, "a hard spend limit")),
    WithJsonSchema({"type": "number", "minimum": 0.01}),
]
ThresholdUsd = Annotated[
    Decimal,
    BeforeValidator(_dollars(Decimal(0), "an alert threshold")),
    WithJsonSchema({"type": "number", "minimum": 0}),
]


# --------------------------------------------------------------------------------------------------------
# Rate limits

RateLimitValue = Annotated[int, Field(ge=1)]


class RateLimit(DesiredModel):
    """One model's limits; each field left out (or null) is not managed and keeps its live value."""

    max_requests_per_1_minute: RateLimitValue | None = Field(default=None, description="Requests per minute")
    max_tokens_per_1_minute: RateLimitValue | None = Field(default=None, description="Tokens per minute")
    max_images_per_1_minute: RateLimitValue | None = Field(
        default=None, description="Images per minute (only models that make images have it)"
    )
    max_audio_megabytes_per_1_minute: RateLimitValue | None = Field(
        default=None, description="Audio megabytes per minute (only audio models have it)"
    )
    max_requests_per_1_day: RateLimitValue | None = Field(
        default=None, description="Requests per day (only some models have it)"
    )
    batch_1_day_max_input_tokens: RateLimitValue | None = Field(
        default=None, description="Batch input tokens per day (only some models have it)"
    )

    @model_validator(mode="after")
    def _names_a_limit(self) -> RateLimit:
        if not self.limits():
            raise ValueError(f"name at least one limit ({', '.join(RATE_LIMIT_FIELDS)})")
        return self

    def limits(self) -> dict[str, int]:
        """The managed limits: field name -> value."""
        values = {name: getattr(self, name) for name in RATE_LIMIT_FIELDS}
        return {name: value for name, value in values.items() if value is not None}


ModelKey = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
RateLimits = dict[ModelKey, RateLimit]


def merge_rate_limits(defaults: RateLimits | None, own: RateLimits | None) -> RateLimits | None:
    """`project_defaults` and a project's own rate limits, merged model by model and field by field."""
    if defaults is None and own is None:
        return None
    merged: dict[str, RateLimit] = dict(defaults or {})
    for model, limits in (own or {}).items():
        base = merged.get(model)
        merged[model] = limits if base is None else RateLimit(**{**base.limits(), **limits.limits()})
    return merged


# --------------------------------------------------------------------------------------------------------
# Spend limit and alerts


class SpendLimit(DesiredModel):
    """A monthly hard spend limit."""

    amount_usd: LimitUsd = Field(description="US dollars a month, a whole number of cents (e.g. 500 or 19.99)")

    @property
    def cents(self) -> int:
        return to_cents(self.amount_usd)


SpendLimitSetting = Literal["none"] | SpendLimit


def _email(address: str) -> str:
    if not EMAIL_SHAPE.match(address):
        raise ValueError(f"{address!r} is not an email address")
    return address


def _distinct(addresses: list[str]) -> list[str]:
    seen: set[str] = set()
    for address in addresses:
        if address.casefold() in seen:
            raise ValueError(f"{address!r} is listed twice")
        seen.add(address.casefold())
    return addresses


Recipients = Annotated[list[Annotated[str, AfterValidator(_email)]], Field(min_length=1), AfterValidator(_distinct)]


class SpendAlert(DesiredModel):
    """An email alert when the month's spend reaches a threshold. Alerts are matched by threshold."""

    threshold_usd: ThresholdUsd = Field(description="US dollars a month, a whole number of cents")
    recipients: Recipients = Field(description="Email addresses to notify; compared as a set, case-insensitively")
    subject_prefix: str | None = Field(
        default=None, description="Prefix of the alert emails' subject; null clears it, absent leaves it unmanaged"
    )

    @property
    def cents(self) -> int:
        return to_cents(self.threshold_usd)

    @property
    def manages_subject_prefix(self) -> bool:
        return "subject_prefix" in self.model_fields_set


def _unique_thresholds(alerts: list[SpendAlert]) -> list[SpendAlert]:
    seen: set[int] = set()
    for alert in alerts:
        if alert.cents in seen:
            raise ValueError(
                f"two alerts at {format_usd(alert.cents)}; alerts are matched by threshold, so each needs its own"
            )
        seen.add(alert.cents)
    return alerts


SpendAlerts = Annotated[list[SpendAlert], AfterValidator(_unique_thresholds)]


# --------------------------------------------------------------------------------------------------------
# Checks across the fields of one file (attached by schema.py to the file-level classes only: the merged
# `ProjectSettings` built by `DesiredState.effective` is never refused, its combinations are planned)

NULL_MEANS: Final[Mapping[str, str]] = {
    "spend_limit": "write `none` to remove the limit, or leave the key out to leave it unmanaged",
    "spend_alerts": "write [] to delete every alert, or leave the key out to leave them unmanaged",
    "rate_limits": "leave the key out to leave rate limits unmanaged",
}


def refuse_null(value: Any, field: str) -> Any:
    """An explicit null is ambiguous (remove? leave alone?), so it is refused with what to write instead."""
    if value is None:
        raise ValueError(f"null is ambiguous here; {NULL_MEANS[field]}")
    return value


def check_alerts_within_limit(alerts: list[SpendAlert] | None, limit: Any) -> list[SpendAlert] | None:
    """An alert above the hard limit of the same scope can never fire: spend stops at the limit."""
    if alerts and isinstance(limit, SpendLimit):
        above = [alert for alert in alerts if alert.cents > limit.cents]
        if above:
            thresholds = ", ".join(format_usd(alert.cents) for alert in above)
            raise ValueError(
                f"alert threshold {thresholds} is above the hard spend limit {format_usd(limit.cents)}; "
                "spend stops at the limit, so the alert could never fire"
            )
    return alerts


class LimitChecks(DesiredModel):
    """Mixed into each class a file is validated with (project files, `project_defaults`, `organization:`);
    the merged `ProjectSettings` of `DesiredState.effective` is not one of them, so a default alert above a
    project's own limit is planned as a finding rather than refused."""

    @field_validator("rate_limits", "spend_limit", "spend_alerts", mode="before", check_fields=False)
    @classmethod
    def _refuse_null(cls, value: Any, info: ValidationInfo) -> Any:
        return refuse_null(value, str(info.field_name))

    @field_validator("spend_alerts", check_fields=False)
    @classmethod
    def _alerts_within_limit(cls, alerts: list[SpendAlert] | None, info: ValidationInfo) -> list[SpendAlert] | None:
        return check_alerts_within_limit(alerts, info.data.get("spend_limit"))


# Field descriptions (editor hover text), shared by the project and organization settings.
RATE_LIMITS_DESCRIPTION: Final = (
    "Per-model rate limits, keyed by model id, with the API's field names. Rows exist only for models the "
    "project can use and can only be updated: a model without a row is reported. Fields left out are not "
    "managed; removing a model (or this key) stops managing it and leaves the live limit as it is"
)
SPEND_LIMIT_DESCRIPTION: Final = (
    "Monthly hard spend limit: {amount_usd: 500} (dollars, whole cents), or `none` to remove it; absent = not managed"
)
SPEND_ALERTS_DESCRIPTION: Final = (
    "Monthly spend alerts, matched by threshold. When present the list is authoritative: live alerts at other "
    "thresholds are deleted ([] deletes them all); absent = not managed"
)


def not_null_in_schema(schema: dict[str, Any]) -> None:
    """`json_schema_extra` for the fields above: editors should flag the null the loader refuses (pydantic
    lists null as an option of every `X | None` field, and null as its default)."""
    branches = [branch for branch in schema.get("anyOf", []) if branch != {"type": "null"}]
    if branches:
        schema["anyOf"] = branches
    schema.pop("default", None)
