"""The secret sink: where a created API key goes, and the only place it goes.

`--secret-sink DIR` names a directory; each key is one file in it, `<project>__<account>.key`, holding the
key and a newline. The file is written atomically and is never readable by anyone else, not even for an
instant:

1. the value is registered for redaction before anything else happens, so no later message can show it;
2. a temporary file is created in the same directory with `O_CREAT | O_EXCL` and mode 0600 from the start
   (never created wider and narrowed later), written, fsynced and closed;
3. it is renamed over the final name with `os.replace` (atomic on one filesystem), and the directory is
   fsynced so the rename survives a crash.

A reader sees the old file or the new one, never half of one. Names are sanitised (anything but letters,
digits, `.`, `_` and `-` becomes `_`; no leading dot), so a project or account name cannot climb out of the
directory. Errors name the path and the operation, never the value.

A directory that does not exist is created with mode 0700. `check_sink` does that and proves the directory
is writable before a run sends any request, so a typo in the flag fails before an account is created.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
from pathlib import Path

from datacontrols.errors import ConfigError
from datacontrols.redaction import register_secret

__all__ = ["SecretSinkError", "check_sink", "secret_file_name", "secret_path", "write_secret"]

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class SecretSinkError(ConfigError):
    """The sink directory cannot be used; the message names it, never a secret."""


def secret_file_name(project: str, account: str) -> str:
    """`Support Bot`, `support-bot-prod` -> `Support_Bot__support-bot-prod.key`."""
    return f"{_safe(project)}__{_safe(account)}.key"


def secret_path(directory: str | os.PathLike[str], project: str, account: str) -> Path:
    """Where `write_secret` puts the key of this project's account (pure: nothing is touched)."""
    return Path(directory) / secret_file_name(project, account)


def check_sink(directory: str | os.PathLike[str]) -> Path:
    """Create the directory if needed (mode 0700) and prove a file can be created in it."""
    path = Path(directory)
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise SecretSinkError(f"--secret-sink {path}: cannot create the directory ({exc.strerror})") from None
    if not path.is_dir():
        raise SecretSinkError(f"--secret-sink {path}: not a directory")
    probe = path / f".probe-{secrets.token_hex(8)}"
    try:
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        probe.unlink()
    except OSError as exc:
        raise SecretSinkError(f"--secret-sink {path}: cannot write there ({exc.strerror})") from None
    return path


def write_secret(directory: str | os.PathLike[str], project: str, account: str, value: str) -> Path:
    """Write `value` to `<directory>/<project>__<account>.key` atomically with mode 0600; return the path."""
    register_secret(value)
    final = secret_path(directory, project, account)
    try:
        final.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise SecretSinkError(f"secret sink {final.parent}: cannot create the directory ({exc.strerror})") from None
    temporary = final.with_name(f".{final.name}.{secrets.token_hex(8)}.tmp")
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except OSError as exc:
        raise SecretSinkError(f"secret sink {final.parent}: cannot create a file ({exc.strerror})") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            os.fchmod(handle.fileno(), 0o600)  # exactly 0600 whatever the umask
            handle.write(value + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, final)
    except OSError as exc:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise SecretSinkError(f"secret sink {final}: cannot write the key ({exc.strerror})") from None
    _sync_directory(final.parent)
    return final


def _safe(name: str) -> str:
    cleaned = _UNSAFE.sub("_", name.strip()).lstrip(".") or "_"
    return cleaned[:100]


def _sync_directory(directory: Path) -> None:
    # Makes the rename durable; not every platform can open a directory, and the file is complete either way.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
