"""Scrubbing secrets out of text and structures before they are printed, logged or stored.

Two nets, because either alone misses cases: values under a secret-looking key name are replaced whole,
and anything shaped like an OpenAI key (`sk-...`) is replaced wherever it appears in a string. Exact secrets
known at run time (the admin key in use, a key just created) are registered with `register_secret` so they
are scrubbed even if they do not look like keys.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["REDACTED", "is_secret_key", "redact", "redact_value", "register_secret"]

REDACTED = "[REDACTED]"

_KEY_PATTERN = re.compile(r"\bsk-[A-Za-z0-9_\-]{6,}")
_SECRET_NAMES = re.compile(
    # `token` only as a whole word or suffix: `max_tokens_per_1_minute` is a rate limit, not a secret.
    r"(authorization|api[_-]?key$|admin[_-]?key|(^|[_-])token$|secret|password|cookie|^value$)",
    re.I,
)
_known: set[str] = set()


def register_secret(secret: str) -> None:
    """Remember an exact secret string so every later `redact` call removes it."""
    if secret and len(secret) >= 8:
        _known.add(secret)


def is_secret_key(name: str) -> bool:
    """Whether a mapping key names something secret (`authorization`, `api_key`, `value`, ...)."""
    return bool(_SECRET_NAMES.search(name))


def redact(text: str) -> str:
    """Replace every known secret and every `sk-...` token in `text`."""
    for secret in _known:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return _KEY_PATTERN.sub(REDACTED, text)


def redact_value(value: Any) -> Any:
    """Recursively redact a JSON-like structure: secret-named keys whole, other strings by pattern."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return {
            k: (REDACTED if isinstance(k, str) and is_secret_key(k) and v is not None else redact_value(v))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact_value(v) for v in value]
    return value
