"""What the schema models allow at a path in a file: the keys, the literal values, the shapes.

This drives every "allowed: ..." and "did you mean ...?" in the loader's messages, so a field or an enum
value added to a model shows up in them with no change here.
"""

from __future__ import annotations

import re
import types
from collections.abc import Mapping, Sequence
from enum import Enum
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel

from datacontrols.desired.reading import Loc

__all__ = ["allowed_keys", "alternatives_at", "literal_args", "literal_values", "shape_word", "values_from_ctx"]


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


def alternatives_at(model: type[BaseModel], loc: Loc) -> list[Any]:
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


def allowed_keys(model: type[BaseModel], loc: Loc) -> list[str]:
    keys: list[str] = []
    for choice in alternatives_at(model, loc):
        if _is_model(choice):
            keys.extend(info.alias or name for name, info in choice.model_fields.items())
        elif (get_origin(choice) or choice) in (dict, Mapping) and get_args(choice):
            keys.extend(str(v) for key_type in _alternatives(get_args(choice)[0]) for v in literal_args(key_type))
    return list(dict.fromkeys(keys))


def literal_values(model: type[BaseModel], loc: Loc) -> list[Any]:
    return [value for choice in alternatives_at(model, loc) for value in literal_args(choice)]


def literal_args(annotation: Any) -> list[Any]:
    if get_origin(annotation) is Literal:
        return list(get_args(annotation))
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return [member.value for member in annotation]
    return []


def values_from_ctx(ctx: Mapping[str, Any]) -> list[str]:
    return re.findall(r"'([^']*)'", str(ctx.get("expected", "")))


def shape_word(annotation: Any) -> str:
    origin = get_origin(annotation) or annotation
    if _is_model(annotation) or origin in (dict, Mapping):
        return "a mapping"
    if origin in (list, tuple, set, frozenset, Sequence):
        return "a list"
    words = {str: "a string", bool: "true or false", int: "an integer", float: "a number"}
    return words.get(origin, getattr(origin, "__name__", str(origin)))
