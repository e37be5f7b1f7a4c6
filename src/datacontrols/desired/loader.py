"""Loading a `desired_state/` directory into a `DesiredState`, every problem positioned at file:line:col.

Each file goes through three stages, and each stage only collects `Problem`s, it never lets an exception out:

1. read: a size cap, then strict UTF-8 (a binary or mis-encoded file is a problem at the offending byte);
2. parse: ruamel.yaml's round-trip loader, the only one that keeps positions. It reads YAML 1.2 (`on`, `NO`
   stay strings) and refuses duplicate keys. Its tree is copied into plain Python values (dict, list, str,
   int, float, bool, None, dates) and a table of positions keyed by the path of each value;
3. validate: the strict, closed pydantic models of `schema.py`. Each error's `loc` is mapped back onto the
   data (pydantic puts union branch tags like `function-after[...]` in it), then onto a position, and its
   message is rewritten for a person: what is allowed, and the closest allowed value.

Then across files: a project name or id declared twice. Everything about the format comes from the models
(field names, enums, which values are mappings or lists), so a field added to a model needs no change here.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import types
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Final, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar
from ruamel.yaml.constructor import RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError, ReusedAnchorWarning, YAMLError
from ruamel.yaml.events import MappingEndEvent, MappingStartEvent, SequenceEndEvent, SequenceStartEvent
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.scalarbool import ScalarBoolean

from datacontrols.desired.schema import DesiredState, OrganizationFile, ProjectFile
from datacontrols.errors import ConfigError, DesiredStateError, Problem
from datacontrols.redaction import redact

__all__ = ["MAX_DEPTH", "MAX_FILE_BYTES", "MAX_VALUES", "ORGANIZATION_FILE", "PROJECTS_DIR", "load_desired_state"]

ORGANIZATION_FILE: Final = "organization.yaml"
PROJECTS_DIR: Final = "projects"
PROJECT_SUFFIXES: Final = (".yaml", ".yml")
IGNORED_IN_PROJECTS: Final = frozenset({"README.md"})

# Guards against hostile or accidental inputs. The real files are a few hundred bytes, four levels deep.
MAX_FILE_BYTES: Final = 1024 * 1024
MAX_DEPTH: Final = 50
MAX_VALUES: Final = 100_000  # after aliases are expanded: stops "billion laughs" documents

Loc = tuple[str | int, ...]
Position = tuple[int, int]  # 1-based line, column


def load_desired_state(directory: str | Path) -> DesiredState:
    """Load and validate `directory` (organization.yaml, projects/*.yaml); raise on any problem.

    Raises ConfigError when `directory` is not a directory, and DesiredStateError listing every problem in
    every file when any file is invalid. `DesiredState.sources` maps each project name to its file, relative
    to `directory` with forward slashes (e.g. `projects/support-bot.yaml`), stable whatever the cwd.
    """
    root = Path(directory)
    if not root.is_dir():
        what = "does not exist" if not root.exists() else "is not a directory"
        raise ConfigError(f"desired-state directory {root.as_posix()!r} {what}")
    loader = _Loader(root)
    state = loader.load()
    if loader.problems:
        raise DesiredStateError(loader.problems)
    return state


# --------------------------------------------------------------------------------------------------------
# Walking the directory and checking across files


class _Loader:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.display_root = _display_path(root)
        self.problems: list[Problem] = []

    def display(self, relative: str) -> str:
        return relative if self.display_root == "." else f"{self.display_root}/{relative}"

    def problem(self, relative: str, message: str, position: Position = (1, 1), field: str = "") -> None:
        line, col = position
        self.problems.append(Problem(self.display(relative), line, col, field, redact(message)))

    def load(self) -> DesiredState:
        organization = self.load_organization()
        projects: list[ProjectFile] = []
        sources: dict[str, str] = {}
        names: dict[str, tuple[str, Position]] = {}
        ids: dict[str, tuple[str, Position]] = {}
        for relative in self.project_files():
            project, parsed = self.load_file(relative, ProjectFile)
            if parsed is None:
                continue
            # Checked on the parsed data, so a clash is reported even in a file with other problems.
            unique = self.check_unique(relative, parsed, "name", names, "project name")
            self.check_unique(relative, parsed, "id", ids, "project id")
            if isinstance(project, ProjectFile) and unique:
                projects.append(project)
                sources[project.name] = relative
        return DesiredState(organization=organization or OrganizationFile(), projects=tuple(projects), sources=sources)

    def load_organization(self) -> OrganizationFile | None:
        if (self.root / "organization.yml").exists():
            self.problem("organization.yml", f"the organization file must be named {ORGANIZATION_FILE}")
        if not (self.root / ORGANIZATION_FILE).exists():
            return None
        organization, _ = self.load_file(ORGANIZATION_FILE, OrganizationFile)
        return organization if isinstance(organization, OrganizationFile) else None

    def project_files(self) -> list[str]:
        """Relative paths of the project files, sorted; anything else in projects/ is a problem."""
        directory = self.root / PROJECTS_DIR
        if not directory.exists():
            return []
        if not directory.is_dir():
            self.problem(PROJECTS_DIR, "must be a directory holding one YAML file per project")
            return []
        found: list[str] = []
        for entry in sorted(directory.iterdir(), key=lambda p: p.name):
            relative = f"{PROJECTS_DIR}/{entry.name}"
            if entry.name.startswith(".") or entry.name in IGNORED_IN_PROJECTS:
                continue
            if entry.is_dir():
                self.problem(relative, f"a directory; project files must sit directly in {PROJECTS_DIR}/")
            elif not entry.name.endswith(PROJECT_SUFFIXES):
                self.problem(
                    relative,
                    f"not a project file: files in {PROJECTS_DIR}/ must end in .yaml or .yml "
                    "(README.md and dotfiles are ignored)",
                )
            else:
                found.append(relative)
        return found

    def load_file(self, relative: str, model: type[BaseModel]) -> tuple[BaseModel | None, _Parsed | None]:
        """Read, parse and validate one file, recording its problems. The model is None when the file is
        invalid; the parsed data is None when it is not even a YAML mapping."""
        problems: list[_FileProblem] = []
        text = _read_text(self.root / relative, problems)
        parsed = _parse_yaml(text, problems, _empty_hint(model)) if text is not None else None
        validated = _validate(parsed, model, problems) if parsed is not None else None
        for found in problems:
            self.problem(relative, found.message, found.position, found.field)
        return validated, parsed

    def check_unique(
        self, relative: str, parsed: _Parsed, key: str, seen: dict[str, tuple[str, Position]], what: str
    ) -> bool:
        """Record the file's `key`, or report it here when an earlier file already declared the same value.
        Values are compared as the model sees them (whitespace stripped); a non-text value is skipped (the
        model reports it)."""
        raw = parsed.data.get(key)
        if not isinstance(raw, str) or not raw.strip():
            return True
        value = raw.strip()
        position = parsed.position((key,))
        if value in seen:
            first, (line, col) = seen[value]
            self.problem(
                relative,
                f"duplicate {what} {value!r}; already declared in {self.display(first)}:{line}:{col}",
                position,
                key,
            )
            return False
        seen[value] = (relative, position)
        return True


def _display_path(path: Path) -> str:
    """`path` relative to the cwd when it lies under it, else as given; forward slashes."""
    absolute = os.path.abspath(path)
    cwd = os.path.abspath(os.getcwd())
    if absolute == cwd:
        return "."
    if absolute.startswith(cwd.rstrip(os.sep) + os.sep):
        return Path(os.path.relpath(absolute, cwd)).as_posix()
    return path.as_posix()


def _empty_hint(model: type[BaseModel]) -> str:
    required = [name for name, info in model.model_fields.items() if info.is_required()]
    if required:
        return f"a {_kind(model)} needs at least `{required[0]}: ...`"
    return f"write `{{}}` for all defaults, or delete the {_kind(model)}"


def _kind(model: type[BaseModel]) -> str:
    return "project file" if model is ProjectFile else "organization file" if model is OrganizationFile else "file"


# --------------------------------------------------------------------------------------------------------
# Stage 1: reading bytes


@dataclass(frozen=True)
class _FileProblem:
    position: Position
    message: str
    field: str = ""


def _read_text(path: Path, problems: list[_FileProblem]) -> str | None:
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except IsADirectoryError:
        problems.append(_FileProblem((1, 1), "a directory, not a YAML file"))
        return None
    except OSError as err:
        problems.append(_FileProblem((1, 1), f"cannot read the file: {err.strerror or err}"))
        return None
    if len(data) > MAX_FILE_BYTES:
        problems.append(_FileProblem((1, 1), f"larger than {MAX_FILE_BYTES // 1024} KiB; is it the right file?"))
        return None
    nul = data.find(b"\x00")
    if nul >= 0:
        problems.append(_FileProblem(_byte_position(data, nul), "a binary file (it holds NUL bytes), not YAML"))
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        message = f"not UTF-8 text (byte 0x{data[err.start]:02x} cannot be decoded); save the file as UTF-8"
        problems.append(_FileProblem(_byte_position(data, err.start), message))
        return None


def _byte_position(data: bytes, offset: int) -> Position:
    line_start = data.rfind(b"\n", 0, offset) + 1
    return data.count(b"\n", 0, offset) + 1, offset - line_start + 1


def _text_position(text: str, offset: int) -> Position:
    offset = max(0, min(offset, len(text)))
    line_start = text.rfind("\n", 0, offset) + 1
    return text.count("\n", 0, offset) + 1, offset - line_start + 1


# --------------------------------------------------------------------------------------------------------
# Stage 2: parsing YAML into plain values and positions


@dataclass
class _Parsed:
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


def _parse_yaml(text: str, problems: list[_FileProblem], empty_hint: str) -> _Parsed | None:
    # Deeply nested flow collections make ruamel's scanner quadratic before its composer recurses too deep
    # (seconds for `[` * 10_000): look for them first, cheaply, and only believe the parser's verdict.
    too_deep = _too_deep_at(text) if _bracket_depth(text) > MAX_DEPTH else None
    if too_deep is not None:
        problems.append(_FileProblem(too_deep, f"nested more than {MAX_DEPTH} levels deep"))
        return None
    # `%YAML 1.1` would switch ruamel back to the rules where `on` and `NO` are booleans.
    directive = _OLD_YAML_DIRECTIVE.search(text)
    if directive is not None:
        where = _text_position(text, directive.start(1))
        message = f"only YAML 1.2 is read (in it `on` and `no` are text); remove the %YAML {directive[1]} line"
        problems.append(_FileProblem(where, message))
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ReusedAnchorWarning)  # an anchor defined twice is harmless here
            document = _new_yaml().load(text)
    except _DuplicateKey as dup:
        first = f" (first at line {dup.first[0]}, column {dup.first[1]})" if dup.first else ""
        problems.append(
            _FileProblem(dup.second, f"duplicate key {_short(dup.key)}{first}; a key may appear once in a mapping")
        )
        return None
    except ReaderError as err:
        character = err.character if isinstance(err.character, int) else ord(str(err.character)[:1] or "\0")
        message = f"invalid YAML: character U+{character:04X} is not allowed (control characters cannot appear)"
        problems.append(_FileProblem(_text_position(text, int(err.position)), message))
        return None
    except MarkedYAMLError as err:
        problems.append(_marked_problem(err))
        return None
    except RecursionError:
        where = _too_deep_at(text) or (1, 1)
        problems.append(_FileProblem(where, f"nested more than {MAX_DEPTH} levels deep"))
        return None
    except YAMLError as err:
        problems.append(_FileProblem((1, 1), f"invalid YAML: {_one_line(str(err))}"))
        return None
    except (ValueError, TypeError, OverflowError, AttributeError, KeyError, IndexError) as err:
        # ruamel's constructors let a few plain exceptions out for explicit tags with bad values (`!!int x`)
        problems.append(_FileProblem((1, 1), f"invalid YAML: a value cannot be read ({_one_line(str(err))})"))
        return None

    if document is None:
        problems.append(_FileProblem((1, 1), _empty_message(text, empty_hint)))
        return None
    parsed = _Parsed(data=None, root=_node_position(document))
    converter = _Converter(parsed)
    try:
        parsed.data = converter.convert(document, (), parsed.root, 1)
    except _TooLarge as err:
        problems.append(_FileProblem(err.position, err.message, _dotted(err.loc)))
        return None
    if converter.problems:
        problems.extend(converter.problems)
        return None
    if not isinstance(parsed.data, dict):
        problems.append(
            _FileProblem(parsed.root, f"expected a mapping (`key: value` lines), got {_describe(parsed.data)}")
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


def _marked_problem(err: MarkedYAMLError) -> _FileProblem:
    mark = err.problem_mark or err.context_mark
    position = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    problem = _one_line(err.problem or "")
    context = _one_line(err.context or "")
    if context and not context.startswith("while"):
        text = f"{context}, {problem}"  # e.g. "expected a single document in the stream, but found another"
    elif context and err.context_mark is not None and err.problem_mark is not None:
        cm = err.context_mark
        text = f"{problem} ({context} started at line {cm.line + 1}, column {cm.column + 1})"
    else:
        text = problem or context or "not valid YAML"
    if "'\\t'" in problem:
        text += "; indent with spaces, YAML does not allow tabs"
    return _FileProblem(position, f"invalid YAML: {text}")


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

    def __init__(self, parsed: _Parsed) -> None:
        self.parsed = parsed
        self.count = 0
        self.problems: list[_FileProblem] = []

    def refuse(self, where: Position, message: str, loc: Loc) -> None:
        self.problems.append(_FileProblem(where, message, _dotted(loc)))

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
                self.refuse(key_at, f"keys must be text, got {_describe(_plain_or_none(key))}", loc)
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
    """A key in a form `_describe` can name (keys can be lists or mappings in YAML)."""
    if isinstance(value, Mapping):
        return {}
    if isinstance(value, tuple | list):
        return []
    try:
        return _scalar(value)
    except _NotPlain:
        return None


# --------------------------------------------------------------------------------------------------------
# Stage 3: validating with pydantic, translating its errors


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


def _validate(parsed: _Parsed, model: type[BaseModel], problems: list[_FileProblem]) -> BaseModel | None:
    try:
        return model.model_validate(parsed.data)
    except ValidationError as exc:
        errors = [_map_error(parsed.data, raw) for raw in exc.errors(include_url=False)]
    for error, message in _explain(errors, model):
        key = error.on_key or error.type == "extra_forbidden"
        position = parsed.position(error.loc[:-1] if error.type == "missing" else error.loc, key=key)
        problems.append(_FileProblem(position, message, _dotted(error.loc)))
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
        return _unknown_key(str(error.loc[-1]), _allowed_keys(model, error.loc[:-1]))
    if error.on_key:
        return f"invalid key: {_lower_first(error.msg)}"
    if kind == "missing":
        return "required key is missing"
    if kind in ("literal_error", "enum"):
        return _not_allowed(error.input, _literal_values(model, error.loc) or _values_from_ctx(error.ctx))
    if kind.endswith("_type"):
        return _expected(_EXPECTED.get(kind, _lower_first(error.msg)), error.input)
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
        return _one_line(re.sub(r"^(Value error|Assertion failed), ", "", error.msg))
    return _lower_first(_one_line(error.msg))


def _union_message(error: _Error, model: type[BaseModel]) -> str:
    choices = _alternatives_at(model, error.loc)
    literals = [value for choice in choices for value in _literal_args(choice)]
    words = [_quote(v) for v in literals] + list(
        dict.fromkeys(_shape_word(c) for c in choices if not _literal_args(c) and c is not type(None))
    )
    allowed = _join_or(words) if words else "another value"
    if isinstance(error.input, str) and literals:
        guess = _closest(error.input, [str(v) for v in literals])
        hint = f"; did you mean {_quote(guess)}?" if guess else ""
        return f"{_quote(error.input)} is not allowed{hint} (allowed: {allowed})"
    return f"expected {allowed}, got {_describe(error.input)}"


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
    text = f"expected {what}, got {_describe(value)}"
    if what == "true or false" and isinstance(value, str) and value.lower() in {"yes", "no", "on", "off", "y", "n"}:
        text += " (YAML 1.2 reads yes/no/on/off as text; write true or false)"
    elif what == "a string" and isinstance(value, int | float | date) and not isinstance(value, bool):
        text += " (quote it to make it text)"
    return text


def _unknown_key(key: str, allowed: list[str]) -> str:
    guess = _closest(key, allowed)
    if guess:
        return f"unknown key; did you mean {_quote(guess)}?"
    if allowed:
        return f"unknown key (allowed: {', '.join(_quote(a) for a in allowed)})"
    return "unknown key"


def _not_allowed(value: Any, allowed: list[Any]) -> str:
    listed = ", ".join(_quote(a) for a in allowed) if allowed else "see the schema"
    if isinstance(value, str):
        guess = _closest(value, [str(a) for a in allowed])
        hint = f"; did you mean {_quote(guess)}?" if guess else ""
        return f"{_quote(value)} is not allowed{hint} (allowed: {listed})"
    return f"expected one of {listed}, got {_describe(value)}"


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


# --------------------------------------------------------------------------------------------------------
# Reading the models: what is allowed at a path (drives every "allowed:" and "did you mean")


def _alternatives(annotation: Any) -> list[Any]:
    """The concrete types an annotation allows: Annotated, unions and type aliases unwrapped."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _alternatives(get_args(annotation)[0])
    if origin is Union or origin is types.UnionType:
        return [alt for arg in get_args(annotation) for alt in _alternatives(arg)]
    value = getattr(annotation, "__value__", None)  # typing.TypeAliasType
    if value is not None and not isinstance(annotation, type):
        return _alternatives(value)
    return [annotation]


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _alternatives_at(model: type[BaseModel], loc: Loc) -> list[Any]:
    current: list[Any] = [model]
    for part in loc:
        following: list[Any] = []
        for choice in (alt for annotation in current for alt in _alternatives(annotation)):
            origin = get_origin(choice) or choice
            args = get_args(choice)
            if _is_model(choice):
                info = choice.model_fields.get(part) if isinstance(part, str) else None
                if info is not None:
                    following.append(info.annotation)
            elif origin in (list, tuple, set, frozenset, Sequence) and isinstance(part, int):
                following.append(args[0] if args else Any)
            elif origin in (dict, Mapping):
                following.append(args[1] if len(args) == 2 else Any)
        current = following
    return [alt for annotation in current for alt in _alternatives(annotation)]


def _allowed_keys(model: type[BaseModel], loc: Loc) -> list[str]:
    keys: list[str] = []
    for choice in _alternatives_at(model, loc):
        if _is_model(choice):
            keys.extend(info.alias or name for name, info in choice.model_fields.items())
        elif (get_origin(choice) or choice) in (dict, Mapping) and get_args(choice):
            keys.extend(str(v) for key_type in _alternatives(get_args(choice)[0]) for v in _literal_args(key_type))
    return list(dict.fromkeys(keys))


def _literal_values(model: type[BaseModel], loc: Loc) -> list[Any]:
    return [value for choice in _alternatives_at(model, loc) for value in _literal_args(choice)]


def _literal_args(annotation: Any) -> list[Any]:
    if get_origin(annotation) is Literal:
        return list(get_args(annotation))
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return [member.value for member in annotation]
    return []


def _values_from_ctx(ctx: Mapping[str, Any]) -> list[str]:
    return re.findall(r"'([^']*)'", str(ctx.get("expected", "")))


def _shape_word(annotation: Any) -> str:
    origin = get_origin(annotation) or annotation
    if _is_model(annotation) or origin in (dict, Mapping):
        return "a mapping"
    if origin in (list, tuple, set, frozenset, Sequence):
        return "a list"
    words = {str: "a string", bool: "true or false", int: "an integer", float: "a number"}
    return words.get(origin, getattr(origin, "__name__", str(origin)))


# --------------------------------------------------------------------------------------------------------
# Words


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the string {_quote(value)}"
    if isinstance(value, datetime | date):
        return f"the date {value.isoformat()}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    return type(value).__name__


def _quote(value: Any) -> str:
    text = _truncate(str(value))
    return repr(text) if isinstance(value, str) else text


def _truncate(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _short(value: Any) -> str:
    return _quote(value) if isinstance(value, str) else _quote(str(value))


def _join_or(words: list[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"


def _dotted(loc: Loc) -> str:
    """`hosted_tools.web_search`; a key that would break the line or the dots is quoted (`"a b\\n"`)."""
    return ".".join(str(part) if _plain_key(part) else json.dumps(_truncate(str(part))) for part in loc)


def _plain_key(part: str | int) -> bool:
    text = str(part)
    return bool(text) and len(text) <= 60 and "." not in text and text.isprintable() and text.strip() == text


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]
