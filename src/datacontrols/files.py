"""The small text files the CLI reads and writes (a saved plan, an export, the admin key file).

Errors are `ConfigError`s of one line that name the file the way the user named it (`label`), never its
contents. The secret sink writes keys on its own, stricter terms (mode 0600 from creation, fsync): see
`secretsink.py`.
"""

from __future__ import annotations

import os
from pathlib import Path

from datacontrols.errors import ConfigError

__all__ = ["read_text", "write_text_atomically"]


def read_text(path: Path, label: str) -> str:
    """The file's UTF-8 text; `label` starts the error message (`plan file x.json: no such file`)."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{label}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{label}: cannot read it ({type(exc).__name__})") from None


def write_text_atomically(path: Path, text: str, label: str | None = None) -> None:
    """Replace the file through a temporary file beside it: a reader sees the old text or the new, never half.

    The error says `cannot write <label>` (the path unless `label` says more)."""
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise ConfigError(f"cannot write {label or path}: {exc.strerror or exc}") from None
