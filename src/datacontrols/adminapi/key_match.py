"""Telling whether a redacted admin key, as the key list shows it, is the key in use."""

from __future__ import annotations

import re

__all__ = ["redacted_matches"]

_MASK = re.compile(r"\.{2,}|\u2026|\*+")


def redacted_matches(redacted_value: str, key: str) -> bool:
    """Whether `key` fits a redacted form: its visible start and end, around one mask (`...`, `…`, `***`).

    A redacted form without a mask, or one that shows fewer than six characters, matches nothing: too
    little to tell keys apart."""
    parts = _MASK.split(redacted_value.strip())
    if len(parts) != 2:
        return False
    prefix, suffix = parts
    if len(prefix) + len(suffix) < 6 or len(key) <= len(prefix) + len(suffix):
        return False
    return key.startswith(prefix) and key.endswith(suffix)
