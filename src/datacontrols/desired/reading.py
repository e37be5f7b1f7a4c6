"""Reading a desired-state file's bytes safely, and the positions every problem is reported at.

A file is read under a size cap, then as strict UTF-8: a binary or mis-encoded file becomes a problem at the
offending byte, never an exception. Positions are 1-based (line, column), as editors show them.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Final

__all__ = ["MAX_FILE_BYTES", "FileProblem", "Loc", "Position", "read_text", "text_position"]

# The real files are a few hundred bytes: a bigger one is a mistake or an attack, not worth parsing.
MAX_FILE_BYTES: Final = 1024 * 1024

Loc = tuple[str | int, ...]  # a path into a file's data: mapping keys and list indices
Position = tuple[int, int]  # 1-based line, column


@dataclass(frozen=True)
class FileProblem:
    """A problem found in one file; the loader adds the file's name when it reports it."""

    position: Position
    message: str
    field: str = ""


def read_text(path: Path, problems: list[FileProblem], *, root: Path | None = None) -> str | None:
    """The file's text, or None with the reason recorded in `problems`.

    With `root`, a file that resolves outside it (a symlink planted by a pull request, pointing at a CI
    secret) is refused before it is opened, and nothing of its target is read or echoed. Only a regular file
    is read: a FIFO would hang the run, a device would never end."""
    if root is not None and not _inside(path, root):
        problems.append(
            FileProblem((1, 1), "a link to a file outside the desired-state directory; files must be inside it")
        )
        return None
    try:
        # O_NONBLOCK: opening a FIFO waits for a writer otherwise; fstat then refuses it.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except IsADirectoryError:
        problems.append(FileProblem((1, 1), "a directory, not a YAML file"))
        return None
    except OSError as err:
        problems.append(FileProblem((1, 1), f"cannot read the file: {err.strerror or err}"))
        return None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            problems.append(FileProblem((1, 1), "a directory, not a YAML file"))
            return None
        if not stat.S_ISREG(mode):
            problems.append(FileProblem((1, 1), "not a regular file (a FIFO, a device or a socket)"))
            return None
        with os.fdopen(os.dup(fd), "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as err:
        problems.append(FileProblem((1, 1), f"cannot read the file: {err.strerror or err}"))
        return None
    finally:
        os.close(fd)
    if len(data) > MAX_FILE_BYTES:
        problems.append(FileProblem((1, 1), f"larger than {MAX_FILE_BYTES // 1024} KiB; is it the right file?"))
        return None
    nul = data.find(b"\x00")
    if nul >= 0:
        problems.append(FileProblem(_byte_position(data, nul), "a binary file (it holds NUL bytes), not YAML"))
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        message = f"not UTF-8 text (byte 0x{data[err.start]:02x} cannot be decoded); save the file as UTF-8"
        problems.append(FileProblem(_byte_position(data, err.start), message))
        return None


def _inside(path: Path, root: Path) -> bool:
    try:
        return path.resolve().is_relative_to(root.resolve())
    except (OSError, RuntimeError):  # a symlink loop
        return False


def _byte_position(data: bytes, offset: int) -> Position:
    line_start = data.rfind(b"\n", 0, offset) + 1
    return data.count(b"\n", 0, offset) + 1, offset - line_start + 1


def text_position(text: str, offset: int) -> Position:
    offset = max(0, min(offset, len(text)))
    line_start = text.rfind("\n", 0, offset) + 1
    return text.count("\n", 0, offset) + 1, offset - line_start + 1
