"""The small text files the CLI reads and writes (a saved plan, an export, the admin key file, CI reports).

Errors are `ConfigError`s of one line that name the file the way the user named it (`label`), never its
contents. The secret sink writes keys on its own, stricter terms (mode 0600 from creation, fsync): see
`secretsink.py`.

Reads take regular files only, up to a size: a FIFO would hang the run and `/dev/zero` would fill the
memory. Writes go through a temporary file created afresh (`O_EXCL | O_NOFOLLOW`, a random name), so a link
planted beside the target cannot redirect them, and the rename replaces a link at the target rather than
writing through it.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path
from typing import Final

from datacontrols.errors import ConfigError

__all__ = ["MAX_READ_BYTES", "read_text", "write_text_atomically"]

MAX_READ_BYTES: Final = 64 * 1024 * 1024  # a saved plan of 10,000 projects is a few MB


def read_text(path: Path, label: str, *, max_bytes: int = MAX_READ_BYTES) -> str:
    """The file's UTF-8 text; `label` starts the error message (`plan file x.json: no such file`)."""
    try:
        # O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise ConfigError(f"{label}: no such file") from None
    except OSError as exc:
        raise ConfigError(f"{label}: cannot read it ({type(exc).__name__})") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ConfigError(f"{label}: not a regular file")
        chunks: list[bytes] = []
        total = 0
        while chunk := os.read(fd, min(1 << 20, max_bytes + 1 - total)):
            chunks.append(chunk)
            total += len(chunk)
            if total > max_bytes:
                raise ConfigError(f"{label}: larger than {max_bytes:,} bytes, which no such file is")
        return b"".join(chunks).decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{label}: cannot read it (not UTF-8 text)") from None
    except OSError as exc:
        raise ConfigError(f"{label}: cannot read it ({type(exc).__name__})") from None
    finally:
        os.close(fd)


def write_text_atomically(path: Path, text: str, label: str | None = None) -> None:
    """Replace the file through a temporary file beside it: a reader sees the old text or the new, never half.

    The error says `cannot write <label>` (the path unless `label` says more)."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(temporary, flags, 0o644)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(text)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        os.replace(temporary, path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise ConfigError(f"cannot write {label or path}: {exc.strerror or exc}") from None
