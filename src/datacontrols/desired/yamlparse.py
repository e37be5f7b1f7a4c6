"""Parsing one file's YAML into plain Python values and a table of positions, refusing what is unsafe.

ruamel.yaml's round-trip loader is the only one that keeps positions. It reads YAML 1.2 (`on`, `NO` stay
strings); a `%YAML 1.1` directive, a duplicate key, a tag, too deep a nesting or too many values (after
aliases are expanded) are problems at their position. Its tree is copied into plain values (dict, list, str,
int, float, bool, None, dates) and the position of each value and key, keyed by its path. Nothing here
raises: every problem is collected as a `FileProblem`.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Final

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar
from ruamel.yaml.constructor import RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError, ReusedAnchorWarning, YAMLError
from ruamel.yaml.events import MappingEndEvent, MappingStartEvent, SequenceEndEvent, SequenceStartEvent
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.scalarbool import ScalarBoolean

from datacontrols.desired.reading import FileProblem, Loc, Position, text_position
from datacontrols.desired.wording import describe, dotted, one_line, short

__all__ = ["MAX_DEPTH", "MAX_VALUES", "Parsed", "parse_yaml"]

# Guards against hostile or accidental inputs. The real files are four levels deep.
MAX_DEPTH: Final = 50
MAX_VALUES: Final = 100_000  # after aliases are expanded: stops "billion laughs" documents


@dataclass
class Parsed:
    """Plain data from one file, and where each value (and each mapping key) starts."""

    data: Any
    root: Position = (1, 1)
    values: dict[Loc, Position] = field(default_factory=dict)
    keys: dict[Loc, Position] = field(default_factory=dict)

    def position(self, loc: Loc, *, key: bool = False) -> Position:
        """Where `loc` starts (its key when `key`); else where its nearest located ancestor starts."""
        if key and loc in self.keys:
            return self.keys[loc]
        while loc:
            if loc in self.values:
                return self.values[loc]
            loc = loc[:-1]
        return self.root


class _DuplicateKey(Exception):
    def __init__(self, key: object, first: Position | None, second: Position) -> None:
        super().__init__(key)
        self.key = key
        self.first = first
        self.second = second


class _Constructor(RoundTripConstructor):
    """ruamel's round-trip constructor, raising a duplicate key with the position of its first use."""

    def check_mapping_key(self, node: Any, key_node: Any, mapping: Any, key: Any, value: Any) -> bool:
        if key in mapping:
            first = _line_table(mapping).get(key)
            mark = key_node.start_mark
            raise _DuplicateKey(key, (first[0] + 1, first[1] + 1) if first else None, (mark.line + 1, mark.column + 1))
        return True


class _TooLarge(Exception):
    """A guard tripped (too deep, too many values): the rest of the file is not worth reading."""

    def __init__(self, position: Position, message: str, loc: Loc = ()) -> None:
        super().__init__(message)
        self.position = position
        self.message = message
        self.loc = loc


def _new_yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.Constructor = _Constructor
    yaml.allow_duplicate_keys = False
    return yaml


def parse_yaml(text: str, problems: list[FileProblem], empty_hint: str) -> Parsed | None:
    # Deeply nested flow collections make ruamel's scanner quadratic before its composer recurses too deep
    # (seconds for `[` * 10_000): look for them first, cheaply, and only believe the parser's verdict.
    too_deep = _too_deep_at(text) if _bracket_depth(text) > MAX_DEPTH else None
    if too_deep is not None:
        problems.append(FileProblem(too_deep, f"nested more than {MAX_DEPTH} levels deep"))
        return None
    # `%YAML 1.1` would switch ruamel back to the rules where `on` and `NO` are booleans.
    directive = _OLD_YAML_DIRECTIVE.search(text)
    if directive is not None:
        where = text_position(text, directive.start(1))
        message = f"only YAML 1.2 is read (in it `on` and `no` are text); remove the %YAML {directive[1]} line"
        problems.append(FileProblem(where, message))
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ReusedAnchorWarning)  # an anchor defined twice is harmless here
            document = _new_yaml().load(text)
    except _DuplicateKey as dup:
        first = f" (first at line {dup.first[0]}, column {dup.first[1]})" if dup.first else ""
        problems.append(
            FileProblem(dup.second, f"duplicate key {short(dup.key)}{first}; a key may appear once in a mapping")
        )
        return None
    except ReaderError as err:
        character = err.character if isinstance(err.character, int) else ord(str(err.character)[:1] or "\0")
        message = f"invalid YAML: character U+{character:04X} is not allowed (control characters cannot appear)"
        problems.append(FileProblem(text_position(text, int(err.position)), message))
        return None
    except MarkedYAMLError as err:
        problems.append(_marked_problem(err))
        return None
    except RecursionError:
        where = _too_deep_at(text) or (1, 1)
        problems.append(FileProblem(where, f"nested more than {MAX_DEPTH} levels deep"))
        return None
    except YAMLError as err:
        problems.append(FileProblem((1, 1), f"invalid YAML: {one_line(str(err))}"))
        return None
    except (ValueError, TypeError, OverflowError, AttributeError, KeyError, IndexError) as err:
        # ruamel's constructors let a few plain exceptions out for explicit tags with bad values (`!!int x`)
        problems.append(FileProblem((1, 1), f"invalid YAML: a value cannot be read ({one_line(str(err))})"))
        return None

    if document is None:
        problems.append(FileProblem((1, 1), _empty_message(text, empty_hint)))
        return None
    parsed = Parsed(data=None, root=_node_position(document))
    converter = _Converter(parsed)
    try:
        parsed.data = converter.convert(document, (), parsed.root, 1)
    except _TooLarge as err:
        problems.append(FileProblem(err.position, err.message, dotted(err.loc)))
        return None
    if converter.problems:
        problems.extend(converter.problems)
        return None
    if not isinstance(parsed.data, dict):
        problems.append(
            FileProblem(parsed.root, f"expected a mapping (`key: value` lines), got {describe(parsed.data)}")
        )
        return None
    return parsed


def _empty_message(text: str, hint: str) -> str:
    lines = [line.strip() for line in text.splitlines()]
    if not any(lines):
        return f"the file is empty; {hint}"
    if all(not line or line.startswith("#") for line in lines):
        return f"the file holds only comments; {hint}"
    return f"expected a mapping (`key: value` lines), got null; {hint}"


def _marked_problem(err: MarkedYAMLError) -> FileProblem:
    mark = err.problem_mark or err.context_mark
    position = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    problem = one_line(err.problem or "")
    context = one_line(err.context or "")
    if context and not context.startswith("while"):
        text = f"{context}, {problem}"  # e.g. "expected a single document in the stream, but found another"
    elif context and err.context_mark is not None and err.problem_mark is not None:
        cm = err.context_mark
        text = f"{problem} ({context} started at line {cm.line + 1}, column {cm.column + 1})"
    else:
        text = problem or context or "not valid YAML"
    if "'\\t'" in problem:
        text += "; indent with spaces, YAML does not allow tabs"
    return FileProblem(position, f"invalid YAML: {text}")


def _bracket_depth(text: str) -> int:
    """An upper bound of the flow nesting (brackets inside quoted text count too: hence only a hint)."""
    depth = deepest = 0
    for bracket in _BRACKETS.findall(text):
        depth = depth + 1 if bracket in "[{" else max(0, depth - 1)
        deepest = max(deepest, depth)
    return deepest


_BRACKETS: Final = re.compile(r"[\[\]{}]")
_OLD_YAML_DIRECTIVE: Final = re.compile(r"^%YAML[ \t]+(?!1\.2\b)(\S+)", re.MULTILINE)


def _too_deep_at(text: str) -> Position | None:
    """Where nesting first exceeds MAX_DEPTH, found with the parser's event stream (it does not recurse)."""
    depth = 0
    try:
        for event in _new_yaml().parse(text):
            if isinstance(event, MappingStartEvent | SequenceStartEvent):
                depth += 1
                if depth > MAX_DEPTH and event.start_mark is not None:
                    return event.start_mark.line + 1, event.start_mark.column + 1
            elif isinstance(event, MappingEndEvent | SequenceEndEvent):
                depth -= 1
    except (YAMLError, RecursionError, ValueError):
        pass
    return None


def _line_table(node: Any) -> dict[Any, list[int]]:
    """ruamel's positions of a mapping's keys and values, or a list's items (0-based); empty when it has
    none (merged mappings, for one, have `lc.data = None`)."""
    data = getattr(getattr(node, "lc", None), "data", None)
    return data if isinstance(data, dict) else {}


def _node_position(node: Any) -> Position:
    lc = getattr(node, "lc", None)
    line, col = (getattr(lc, "line", None), getattr(lc, "col", None)) if lc is not None else (None, None)
    return (line + 1, col + 1) if isinstance(line, int) and isinstance(col, int) else (1, 1)


_CORE_TAG_PREFIX: Final = "tag:yaml.org,2002:"  # !!map, !!seq, !!str: harmless, YAML's own


class _Converter:
    """Copies ruamel's tree into plain values, recording positions; refuses what the format cannot hold."""

    def __init__(self, parsed: Parsed) -> None:
        self.parsed = parsed
        self.count = 0
        self.problems: list[FileProblem] = []

    def refuse(self, where: Position, message: str, loc: Loc) -> None:
        self.problems.append(FileProblem(where, message, dotted(loc)))

    def convert(self, node: Any, loc: Loc, where: Position, depth: int) -> Any:
        self.count += 1
        if self.count > MAX_VALUES:  # reported at the top-level key whose value explodes
            top = loc[:1]
            raise _TooLarge(self.parsed.position(top, key=True), f"more than {MAX_VALUES} values", top)
        if isinstance(node, TaggedScalar | CommentedMap | CommentedSeq):
            tag = getattr(node.tag, "value", None)
            if isinstance(node, TaggedScalar) or (tag and not tag.startswith(_CORE_TAG_PREFIX)):
                self.refuse(where, f"YAML tags like {tag or '!tag'} are not supported here", loc)
                return None
        if isinstance(node, Mapping | list | tuple) and depth > MAX_DEPTH:  # `depth` counts mappings and lists
            raise _TooLarge(where, f"nested more than {MAX_DEPTH} levels deep", loc[:1])
        if isinstance(node, Mapping):
            return self.mapping(node, loc, where, depth)
        if isinstance(node, list | tuple):
            return self.sequence(node, loc, depth)
        try:
            return _scalar(node)
        except _NotPlain as err:
            self.refuse(where, str(err), loc)
            return None

    def mapping(self, node: Mapping[Any, Any], loc: Loc, where: Position, depth: int) -> dict[str, Any]:
        lines = _line_table(node)
        result: dict[str, Any] = {}
        for key, value in node.items():
            spot = lines.get(key)
            key_at = (spot[0] + 1, spot[1] + 1) if spot else where
            value_at = (spot[2] + 1, spot[3] + 1) if spot else key_at
            if not isinstance(key, str):
                self.refuse(key_at, f"keys must be text, got {describe(_plain_or_none(key))}", loc)
                continue
            if value is None and value_at[0] != key_at[0]:
                value_at = key_at  # an empty value is "located" at the next token, often the next line
            child = (*loc, str(key))
            self.parsed.keys[child] = key_at
            self.parsed.values[child] = value_at
            result[str(key)] = self.convert(value, child, value_at, depth + 1)
        return result

    def sequence(self, node: Sequence[Any], loc: Loc, depth: int) -> list[Any]:
        lines = _line_table(node)
        result: list[Any] = []
        for index, item in enumerate(node):
            spot = lines.get(index)
            child = (*loc, index)
            where = (spot[0] + 1, spot[1] + 1) if spot else self.parsed.position(loc)
            self.parsed.values[child] = where
            result.append(self.convert(item, child, where, depth + 1))
        return result


class _NotPlain(Exception):
    """A scalar this format has no use for: binary data, a set, anything not text, number, boolean, date."""


def _scalar(node: Any) -> Any:
    if node is None or isinstance(node, bool):
        return node
    if isinstance(node, ScalarBoolean):  # an anchored boolean: an int subclass in ruamel
        return bool(node)
    if isinstance(node, str):
        return str(node)
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, datetime):
        return datetime(
            node.year, node.month, node.day, node.hour, node.minute, node.second, node.microsecond, node.tzinfo
        )
    if isinstance(node, date):
        return date(node.year, node.month, node.day)
    what = "binary data" if isinstance(node, bytes) else "a set" if isinstance(node, set | frozenset) else "value"
    raise _NotPlain(f"unsupported YAML {what}; use text, numbers, true/false, lists and mappings")


def _plain_or_none(value: Any) -> Any:
    """A key in a form `describe` can name (keys can be lists or mappings in YAML)."""
    if isinstance(value, Mapping):
        return {}
    if isinstance(value, tuple | list):
        return []
    try:
        return _scalar(value)
    except _NotPlain:
        return None
