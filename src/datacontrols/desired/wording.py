"""Words for problem messages: how a value, a key path or a list of choices reads in one line."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from datacontrols.desired.reading import Loc

__all__ = ["describe", "dotted", "join_or", "lower_first", "one_line", "quote", "short"]


def describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the string {quote(value)}"
    if isinstance(value, datetime | date):
        return f"the date {value.isoformat()}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    return type(value).__name__


def quote(value: Any) -> str:
    text = _truncate(str(value))
    return repr(text) if isinstance(value, str) else text


def _truncate(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def short(value: Any) -> str:
    return quote(value) if isinstance(value, str) else quote(str(value))


def join_or(words: list[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"


def dotted(loc: Loc) -> str:
    """`hosted_tools.web_search`; a key that would break the line or the dots is quoted (`"a b\\n"`)."""
    return ".".join(str(part) if _plain_key(part) else json.dumps(_truncate(str(part))) for part in loc)


def _plain_key(part: str | int) -> bool:
    text = str(part)
    return bool(text) and len(text) <= 60 and "." not in text and text.isprintable() and text.strip() == text


def one_line(text: str) -> str:
    return " ".join(text.split())


def lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]
