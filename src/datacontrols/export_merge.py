"""`reconcile export --merge`: fold a fresh export into files a person has already edited, keeping their words.

A plain export writes each file anew, so the comments a team put beside its settings ("ZDR: contract
2025-03, clause 4") would be lost on the next refresh. Merging edits the existing YAML tree in place
(ruamel's round-trip nodes carry the comments) and touches only what changed:

- a key the export writes with the same value as the file: left as it is, comment and all;
- a mapping in both: merged key by key, recursively;
- a list of mappings whose items carry an identity (`id`, `email`, `name`, a spend alert's `threshold_usd`):
  merged item by item, so a comment on one item survives a new one being added; items no longer live are
  dropped;
- any other changed value: replaced by the live one;
- a key the file has and the export does not write: kept, and named, because it is either a setting the
  export cannot write (a rate limit, an invite) or one the live organization no longer has; either way a
  person decides, and the next plan shows which.

Pure functions over plain data and ruamel nodes: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from ruamel.yaml.comments import CommentedMap, CommentedSeq

__all__ = ["merge_document"]

_IDENTITIES: Final = ("id", "email", "name", "threshold_usd")


def merge_document(existing: Any, fresh: Mapping[str, Any]) -> tuple[Any, list[str]]:
    """`existing` (a round-trip-loaded document) brought to `fresh`'s values; returns it and the dotted paths
    of the keys kept only because the file had them. A file that is not a mapping is replaced whole."""
    if not isinstance(existing, CommentedMap):
        return dict(fresh), []
    kept: list[str] = []
    _merge_mapping(existing, fresh, "", kept)
    return existing, kept


def _merge_mapping(node: CommentedMap, fresh: Mapping[str, Any], where: str, kept: list[str]) -> None:
    for key, value in fresh.items():
        if key in node:
            node[key] = _merged(node[key], value, f"{where}{key}", kept)
        else:
            node[key] = value  # appended after the file's keys: a person's order is theirs
    kept.extend(f"{where}{key}" for key in node if key not in fresh)


def _merged(current: Any, value: Any, where: str, kept: list[str]) -> Any:
    if _plain(current) == _plain(value):
        return current  # unchanged: the node keeps its comments and its style
    if isinstance(current, CommentedMap) and isinstance(value, Mapping):
        _merge_mapping(current, value, f"{where}.", kept)
        return current
    if isinstance(current, CommentedSeq) and isinstance(value, list) and _keyed(current) and _keyed(value):
        return _merge_keyed_list(current, value, where, kept)
    return value


def _merge_keyed_list(current: CommentedSeq, value: list[Any], where: str, kept: list[str]) -> CommentedSeq:
    """Items matched by identity keep their place and comments; new ones are appended, gone ones dropped."""
    fresh_by_identity = {_identity(item): item for item in value}
    merged = CommentedSeq()
    for index, item in enumerate(current):
        identity = _identity(item)
        if identity is not None and identity in fresh_by_identity:
            merged.append(_merged(item, fresh_by_identity.pop(identity), f"{where}[{identity[1]}]", kept))
            _carry_item_comment(current, index, merged, len(merged) - 1)
    merged.extend(item for item in value if _identity(item) in fresh_by_identity)
    if current.ca.comment:  # the comment before the list's first item
        merged.ca.comment = current.ca.comment
    return merged


def _carry_item_comment(source: CommentedSeq, index: int, target: CommentedSeq, at: int) -> None:
    if index in source.ca.items:
        target.ca.items[at] = source.ca.items[index]


def _keyed(items: Any) -> bool:
    """A list whose every item is a mapping with an identity, no two alike (a members list, not a model list)."""
    if not items or not all(isinstance(item, Mapping) for item in items):
        return False
    identities = [_identity(item) for item in items]
    return None not in identities and len(set(identities)) == len(identities)


def _identity(item: Mapping[str, Any]) -> tuple[str, str] | None:
    for key in _IDENTITIES:
        value = item.get(key)
        if isinstance(value, str | int | float) and not isinstance(value, bool) and value != "":
            return key, str(value)
    return None


def _plain(value: Any) -> Any:
    """Round-trip nodes as plain data, for comparing with what an exporter returned."""
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value
