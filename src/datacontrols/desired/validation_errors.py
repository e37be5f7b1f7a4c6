"""Validating parsed data with the schema models, and turning pydantic's errors into one-line messages.

Each error's `loc` is mapped back onto the data (pydantic puts union branch tags like `function-after[...]`
in it), then onto a position, and its message is rewritten for a person: what is allowed, and the closest
allowed value.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from pydantic import BaseModel, ValidationError

from datacontrols.desired.allowed import (
    allowed_keys,
    alternatives_at,
    literal_args,
    literal_values,
    shape_word,
    values_from_ctx,
)
from datacontrols.desired.reading import FileProblem, Loc
from datacontrols.desired.wording import describe, dotted, join_or, lower_first, one_line, quote
from datacontrols.desired.yamlparse import Parsed

__all__ = ["validate"]


@dataclass(frozen=True)
class _Error:
    """A pydantic error with its loc mapped onto the data."""

    type: str
    loc: Loc  # only real keys and indices
    tags_at: frozenset[int]  # lengths of `loc` at which a union branch tag was skipped
    on_key: bool  # the error is about a mapping key, not its value
    input: Any
    ctx: Mapping[str, Any]
    msg: str


_SHAPE_ERRORS: Final = frozenset({"literal_error", "enum", "model_type", "model_attributes_type", "none_required"})


def validate(parsed: Parsed, model: type[BaseModel], problems: list[FileProblem]) -> BaseModel | None:
    try:
        return model.model_validate(parsed.data)
    except ValidationError as exc:
        errors = [_map_error(parsed.data, raw) for raw in exc.errors(include_url=False)]
    for error, message in _explain(errors, model):
        key = error.on_key or error.type == "extra_forbidden"
        position = parsed.position(error.loc[:-1] if error.type == "missing" else error.loc, key=key)
        problems.append(FileProblem(position, message, dotted(error.loc)))
    return None


def _map_error(data: Any, raw: Mapping[str, Any]) -> _Error:
    """Follow pydantic's loc through the data; what the data does not hold is a union branch tag."""
    parts: tuple[Any, ...] = tuple(raw["loc"])
    loc: list[str | int] = []
    tags: set[int] = set()
    on_key = False
    node = data
    for index, part in enumerate(parts):
        if part == "[key]":
            on_key = True
        elif _holds(node, part):
            loc.append(part)
            node = node[part]
        elif raw["type"] == "missing" and index == len(parts) - 1 and isinstance(part, str | int):
            loc.append(part)  # the required key that is not there
        else:
            tags.add(len(loc))
    return _Error(
        type=str(raw["type"]),
        loc=tuple(loc),
        tags_at=frozenset(tags),
        on_key=on_key,
        input=raw.get("input"),
        ctx=raw.get("ctx") or {},
        msg=str(raw.get("msg", "")),
    )


def _holds(node: Any, part: Any) -> bool:
    if isinstance(node, dict):
        return isinstance(part, str) and part in node
    return isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)


def _explain(errors: list[_Error], model: type[BaseModel]) -> Iterator[tuple[_Error, str]]:
    """One (error, message) per finding. Union branches that failed on shape give way to the branch that
    matched the shape (its errors are the useful ones); when none matched, they merge into one message."""
    shape_failures: dict[Loc, list[_Error]] = {}
    for error in errors:
        if len(error.loc) in error.tags_at and _is_shape_error(error.type):
            shape_failures.setdefault(error.loc, []).append(error)
    failed = {id(e) for group in shape_failures.values() for e in group}
    for error in errors:
        if id(error) not in failed:
            yield error, _message(error, model)
    for union_loc, group in shape_failures.items():
        chosen = any(
            id(other) not in failed and other.loc[: len(union_loc)] == union_loc and len(union_loc) in other.tags_at
            for other in errors
        )
        if not chosen:
            yield group[0], _union_message(group[0], model)


def _is_shape_error(kind: str) -> bool:
    """The input is not even of the branch's shape (a string where a mapping was expected, ...)."""
    return kind in _SHAPE_ERRORS or kind.endswith("_type")


def _message(error: _Error, model: type[BaseModel]) -> str:
    kind = error.type
    if kind == "extra_forbidden" or (error.on_key and kind == "literal_error"):
        return _unknown_key(str(error.loc[-1]), allowed_keys(model, error.loc[:-1]))
    if error.on_key:
        return f"invalid key: {lower_first(error.msg)}"
    if kind == "missing":
        return "required key is missing"
    if kind in ("literal_error", "enum"):
        return _not_allowed(error.input, literal_values(model, error.loc) or values_from_ctx(error.ctx))
    if kind.endswith("_type"):
        return _expected(_EXPECTED.get(kind, lower_first(error.msg)), error.input)
    if kind == "string_too_short":
        length = error.ctx.get("min_length", 1)
        return "must not be empty" if length == 1 else f"must be at least {length} characters long"
    if kind == "string_too_long":
        return f"must be at most {error.ctx.get('max_length')} characters long"
    if kind == "too_short":
        return f"needs at least {error.ctx.get('min_length')} items"
    if kind == "too_long":
        return f"allows at most {error.ctx.get('max_length')} items"
    if kind in ("value_error", "assertion_error"):
        return one_line(re.sub(r"^(Value error|Assertion failed), ", "", error.msg))
    return lower_first(one_line(error.msg))


def _union_message(error: _Error, model: type[BaseModel]) -> str:
    choices = alternatives_at(model, error.loc)
    literals = [value for choice in choices for value in literal_args(choice)]
    words = [quote(v) for v in literals] + list(
        dict.fromkeys(shape_word(c) for c in choices if not literal_args(c) and c is not type(None))
    )
    allowed = join_or(words) if words else "another value"
    if isinstance(error.input, str) and literals:
        guess = _closest(error.input, [str(v) for v in literals])
        hint = f"; did you mean {quote(guess)}?" if guess else ""
        return f"{quote(error.input)} is not allowed{hint} (allowed: {allowed})"
    return f"expected {allowed}, got {describe(error.input)}"


_EXPECTED: Final = {
    "string_type": "a string",
    "bool_type": "true or false",
    "int_type": "an integer",
    "float_type": "a number",
    "list_type": "a list",
    "tuple_type": "a list",
    "set_type": "a list",
    "frozen_set_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "date_type": "a date",
    "datetime_type": "a date and time",
}


def _expected(what: str, value: Any) -> str:
    text = f"expected {what}, got {describe(value)}"
    if what == "true or false" and isinstance(value, str) and value.lower() in {"yes", "no", "on", "off", "y", "n"}:
        text += " (YAML 1.2 reads yes/no/on/off as text; write true or false)"
    elif what == "a string" and isinstance(value, int | float | date) and not isinstance(value, bool):
        text += " (quote it to make it text)"
    return text


def _unknown_key(key: str, allowed: list[str]) -> str:
    guess = _closest(key, allowed)
    if guess:
        return f"unknown key; did you mean {quote(guess)}?"
    if allowed:
        return f"unknown key (allowed: {', '.join(quote(a) for a in allowed)})"
    return "unknown key"


def _not_allowed(value: Any, allowed: list[Any]) -> str:
    listed = ", ".join(quote(a) for a in allowed) if allowed else "see the schema"
    if isinstance(value, str):
        guess = _closest(value, [str(a) for a in allowed])
        hint = f"; did you mean {quote(guess)}?" if guess else ""
        return f"{quote(value)} is not allowed{hint} (allowed: {listed})"
    return f"expected one of {listed}, got {describe(value)}"


def _closest(word: str, choices: list[str]) -> str | None:
    """The allowed value a typo most likely meant: the same word in another case or with `-` for `_`, then
    a value the typo begins (`EU_STORAGE` -> `EU_STORAGE_PROCESSING`, which plain difflib ranks below
    `JP_STORAGE`), then difflib's closest match."""
    if not word or not choices:
        return None

    def norm(text: str) -> str:
        return re.sub(r"[\s\-]+", "_", text.strip().lower())

    wanted = norm(word)
    by_norm = {norm(choice): choice for choice in choices}
    if wanted in by_norm:
        return by_norm[wanted]
    prefixed = [choice for choice in choices if norm(choice).startswith(wanted)]
    if prefixed and len(wanted) >= 2:
        return max(prefixed, key=lambda c: difflib.SequenceMatcher(None, wanted, norm(c)).ratio())
    close = difflib.get_close_matches(wanted, list(by_norm), n=1, cutoff=0.6)
    return by_norm[close[0]] if close else None
