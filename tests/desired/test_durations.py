"""The one duration grammar: what it reads, exactly; what it refuses and why; each caller's wording kept."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from datacontrols.daemon.settings import DaemonSettings
from datacontrols.daemon.settings import parse_duration as daemon_duration
from datacontrols.durations import (
    MAX_DURATION_SECONDS,
    DurationError,
    format_duration,
    parse_duration,
    parse_seconds,
)
from datacontrols.errors import ConfigError


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90", 90.0),
        ("0", 0.0),
        ("0.5", 0.5),
        (".5", 0.5),
        ("30s", 30.0),
        ("5m", 300.0),
        ("1h", 3600.0),
        ("1d", 86400.0),
        ("250ms", 0.25),
        ("1h30m", 5400.0),
        ("1m30s", 90.0),  # `m` then `30s`, not `ms`
        ("1.5h", 5400.0),
        ("0.1h", 360.0),  # exact: not 0.1 * 3600.0 in floats
        ("1h1h", 7200.0),  # parts are summed
        (" 1H 5M ", 3900.0),
        ("36500d", float(MAX_DURATION_SECONDS)),
    ],
)
def test_the_grammar(text: str, seconds: float) -> None:
    assert parse_seconds(text) == seconds


@pytest.mark.parametrize(("value", "seconds"), [(45, 45.0), (2.5, 2.5), (0, 0.0)])
def test_a_number_is_seconds(value: float, seconds: float) -> None:
    assert parse_seconds(value) == seconds


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("", "syntax"),
        ("s", "syntax"),
        ("5x", "syntax"),
        ("m5", "syntax"),
        ("5 minutes", "syntax"),
        ("1h-5m", "syntax"),
        ("--5m", "syntax"),
        ("1e3", "syntax"),  # no exponents: nobody writes a duration that way
        ("inf", "syntax"),
        ("nan", "syntax"),
        (True, "syntax"),
        (float("nan"), "syntax"),
        ("-1", "negative"),
        ("-1s", "negative"),
        (-1, "negative"),
        ("36500d1s", "too_long"),
        ("99999999999d", "too_long"),
        ("9" * 5000, "too_long"),  # more digits than int() reads: still an answer, not a crash
        (float("inf"), "too_long"),
        (10**400, "too_long"),  # too large for a float: no OverflowError
    ],
)
def test_what_is_refused_and_why(value: Any, reason: str) -> None:
    with pytest.raises(DurationError) as caught:
        parse_seconds(value)
    assert caught.value.reason == reason


def test_a_long_value_is_cut_short_in_the_message() -> None:
    with pytest.raises(DurationError, match=r"^'9{36}\.\.\. is too long for a duration \(at most 36500d\)$"):
        parse_seconds("9" * 5000)


# --- the command-line face: a positive timedelta, a ConfigError worded for a flag ---------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [("30m", timedelta(minutes=30)), ("250ms", timedelta(milliseconds=250)), ("2h30m", timedelta(hours=2.5))],
)
def test_a_flag_duration_is_a_timedelta(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("soon", "'soon' is not a duration; write e.g. 30m, 1h, 2h30m or 90s"),
        ("-5m", "'-5m' is not a duration; write e.g. 30m, 1h, 2h30m or 90s"),
        ("0", "'0': a plan age limit must be more than zero"),
        ("0m", "'0m': a plan age limit must be more than zero"),
        ("0.0000001s", "'0.0000001s': a plan age limit must be more than zero"),  # below a timedelta's microsecond
        ("99999999999d", "'99999999999d' is too long for a duration (at most 36500d)"),
    ],
)
def test_a_bad_flag_duration_is_a_config_error(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_duration(text)
    assert str(caught.value) == message


def test_the_limit_is_named_by_the_caller() -> None:
    with pytest.raises(ConfigError, match=r"^'0': a lookback must be more than zero$"):
        parse_duration("0", what="a lookback")


@pytest.mark.parametrize(
    ("seconds", "text"), [(0, "0s"), (5, "5s"), (59.9, "59s"), (60, "1m"), (3900, "1h5m"), (90061, "1d1h1m")]
)
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(timedelta(seconds=seconds)) == text


@given(st.integers(min_value=1, max_value=MAX_DURATION_SECONDS))
def test_a_formatted_duration_reads_back_to_the_minute(seconds: int) -> None:
    delta = timedelta(seconds=seconds)
    read = parse_duration(format_duration(delta))
    assert read <= delta < read + timedelta(minutes=1)  # seconds are shown only under a minute


# --- the daemon's face: float seconds, a ValueError worded for a setting ------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("5x", "'5x' is not a duration (write e.g. 30s, 5m, 1h, 1h30m or 90)"),
        ("-1", "a duration cannot be negative"),
        (None, "a duration is a number of seconds or text like 30s, 5m, 1h"),
        (True, "a duration is a number of seconds or text like 30s, 5m, 1h"),
        ("99999999999d", "'99999999999d' is too long for a duration (at most 36500d)"),
    ],
)
def test_the_daemon_keeps_its_wording(value: Any, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        daemon_duration(value)
    assert str(caught.value) == message


def test_a_huge_daemon_interval_is_a_validation_error_not_an_overflow() -> None:
    with pytest.raises(ValidationError, match="too long for a duration"):
        DaemonSettings(interval="99999999999d")
