"""Durations, one grammar for the whole tool: `30s`, `5m`, `1h30m`, `1.5h`, `250ms`, `1d`, or plain seconds.

Parts are summed (`2h30m`); case and spaces are ignored (` 1H 5M `); numbers may have a fraction (`0.5`,
`1.5h`) but no exponent (a leading `-` is read only to say that a duration cannot be negative). The sum is
computed exactly (`0.1h` is 360 s, not 360.00000000000006) and must be at most `MAX_DURATION_SECONDS`: a
longer one is a typo, and would overflow the timers and dates it feeds (`timedelta`, the scheduler).

`parse_seconds` is the grammar; it raises a `DurationError` saying which rule the text broke, so each caller
words the error for its own setting. Two faces are here: `parse_duration` for a command-line flag (a
positive `timedelta`, a `ConfigError`) and `format_duration`, which writes one for a message in a form
`parse_duration` reads back. The daemon's settings wrap `parse_seconds`.
"""

from __future__ import annotations

import math
import re
from datetime import timedelta
from decimal import Decimal
from typing import Final, Literal

from datacontrols.errors import ConfigError

__all__ = [
    "MAX_DURATION_SECONDS",
    "DurationError",
    "format_duration",
    "parse_duration",
    "parse_seconds",
]

MAX_DURATION_SECONDS: Final = 36_500 * 86_400  # a hundred years

_UNIT_SECONDS: Final = {
    "ms": Decimal("0.001"),
    "s": Decimal(1),
    "m": Decimal(60),
    "h": Decimal(3600),
    "d": Decimal(86400),
}
_NUMBER: Final = r"(?:\d+(?:\.\d*)?|\.\d+)"
_PLAIN: Final = re.compile(_NUMBER)
_PART: Final = re.compile(rf"({_NUMBER})(ms|[smhd])")

Reason = Literal["syntax", "negative", "too_long"]


class DurationError(ValueError):
    """`value` is not a duration; `reason` says which rule it broke ("syntax", "negative" or "too_long")."""

    def __init__(self, value: object, reason: Reason) -> None:
        self.value = value
        self.reason: Reason = reason
        super().__init__(_REASONS[reason].format(value=_shown(value)))


_REASONS: Final[dict[Reason, str]] = {
    "syntax": "{value} is not a duration (write e.g. 30s, 5m, 1h, 1h30m or 90)",
    "negative": "a duration cannot be negative",
    "too_long": f"{{value}} is too long for a duration (at most {MAX_DURATION_SECONDS // 86400}d)",
}


def _shown(value: object) -> str:
    """`value` as the messages quote it (`'5x'`), cut short: a pasted wall of digits need not fill the screen."""
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:37]}..."


def parse_seconds(value: str | float) -> float:
    """Seconds from text in the grammar above, or from a number of seconds. Raises DurationError.

    Zero is a duration (a jitter of `0`); a caller that needs a positive one checks it.
    """
    if isinstance(value, bool):  # an int to Python, never a duration to a person
        raise DurationError(value, "syntax")
    if isinstance(value, int | float):
        if isinstance(value, float) and math.isnan(value):  # an int too large for a float is merely too long
            raise DurationError(value, "syntax")
        if value < 0:
            raise DurationError(value, "negative")
        if value > MAX_DURATION_SECONDS:  # infinity included
            raise DurationError(value, "too_long")
        return float(value)
    text = value.strip().lower().replace(" ", "")
    negative = text.startswith("-")
    seconds = _sum(text[1:] if negative else text)
    if seconds is None:
        raise DurationError(value, "syntax")
    if negative and seconds > 0:
        raise DurationError(value, "negative")
    if seconds > MAX_DURATION_SECONDS:
        raise DurationError(value, "too_long")
    return float(seconds)


def _sum(text: str) -> Decimal | None:
    """The exact number of seconds `text` writes, or None when it is not in the grammar."""
    if _PLAIN.fullmatch(text):
        return Decimal(text)
    parts = _PART.findall(text)
    if not parts or "".join(number + unit for number, unit in parts) != text:
        return None
    # Decimal reads any number of digits exactly (int() refuses over 4300), and a sum far past the limit
    # merely rounds: it is refused as too long all the same.
    return sum((Decimal(number) * _UNIT_SECONDS[unit] for number, unit in parts), Decimal(0))


def parse_duration(text: str, *, what: str = "a plan age limit") -> timedelta:
    """A positive duration given on the command line (`--max-plan-age 30m`); ConfigError otherwise.

    `what` names the limit in the error for zero.
    """
    try:
        seconds = parse_seconds(text)
    except DurationError as err:
        if err.reason == "too_long":
            raise ConfigError(str(err)) from None
        raise ConfigError(f"{_shown(text)} is not a duration; write e.g. 30m, 1h, 2h30m or 90s") from None
    delta = timedelta(seconds=seconds)
    if delta <= timedelta(0):
        raise ConfigError(f"{_shown(text)}: {what} must be more than zero")
    return delta


def format_duration(delta: timedelta) -> str:
    """`2h5m`, `45m`, `30s`: the form `parse_duration` reads. Seconds show only under a minute: a message
    says a plan is `1h5m` old, not `1h5m12.5s`."""
    seconds = int(delta.total_seconds())
    if seconds < 60:
        return f"{seconds}s"
    out = ""
    for unit in ("d", "h", "m"):
        amount, seconds = divmod(seconds, int(_UNIT_SECONDS[unit]))
        if amount:
            out += f"{amount}{unit}"
    return out
