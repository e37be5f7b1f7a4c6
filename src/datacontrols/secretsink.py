"""The secret sink: where a created API key goes, and the only place it goes.

`--secret-sink DIR` names a directory; each key is one file in it, `<project>__<account>.key`, holding the
key and a newline. The file is written atomically and is never readable by anyone else, not even for an
instant:

1. the value is registered for redaction before anything else happens, so no later message can show it;
2. a temporary file is created in the same directory with `O_CREAT | O_EXCL` and mode 0600 from the start
   (never created wider and narrowed later), written, fsynced and closed;
3. it is renamed over the final name with `os.replace` (atomic on one filesystem), and the directory is
   fsynced so the rename survives a crash.

A key file is never overwritten: a second key for the same account (re-created, rotated) goes to
`<project>__<account>.2.key`, and so on, so no live key is ever lost to a later one.

Names are escaped one-to-one, so two accounts never share a file: letters, digits, `.` and `-` stay, a
single inner space becomes `_`, and anything else (including `_` itself, a leading dot, `/`) becomes `%XX`
of its UTF-8 bytes. A part therefore never holds `__` and never starts or ends with `_`, so `__` separates
project and account unambiguously: `Team A` + `x__svc` is `Team_A__x%5F%5Fsvc.key`, `Team A__x` + `svc` is
`Team_A%5F%5Fx__svc.key`. No name can climb out of the directory. A part longer than 100 characters is cut
and ends in `~` and a digest of the whole name (`~` is otherwise escaped). Errors name the path and the
operation, never the value.

A directory that does not exist is created with mode 0700. `check_sink` does that and proves the directory
is writable before a run sends any request, so a typo in the flag fails before an account is created.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import secrets
from pathlib import Path

from datacontrols.errors import ConfigError
from datacontrols.redaction import register_secret

__all__ = ["SecretSinkError", "check_sink", "holds_key", "secret_file_name", "secret_path", "write_secret"]

_KEPT = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-")
_MAX_PART = 100
_MAX_COPIES = 1000


class SecretSinkError(ConfigError):
    """The sink directory cannot be used; the message names it, never a secret."""


def secret_file_name(project: str, account: str, copy: int = 1) -> str:
    """`Support Bot`, `support-bot-prod` -> `Support_Bot__support-bot-prod.key` (`.2.key` for copy 2)."""
    suffix = ".key" if copy == 1 else f".{copy}.key"
    return f"{_escape(project)}__{_escape(account)}{suffix}"


def secret_path(directory: str | os.PathLike[str], project: str, account: str) -> Path:
    """Where `write_secret` puts the key of this project's account (pure: nothing is touched)."""
    return Path(directory) / secret_file_name(project, account)


def holds_key(directory: str | os.PathLike[str], project: str, account: str) -> bool:
    """Whether the sink holds a key file of this project's account, under any copy number `write_secret`
    gives. Only names are looked at, never a key; an unreadable sink holds none (`check_sink` refuses an
    unusable one before an apply)."""
    first = secret_file_name(project, account)
    stem = first.removesuffix(".key") + "."
    try:
        names = os.listdir(directory)
    except OSError:
        return False
    # `<stem>.key`, or a later copy `<stem>.<n>.key`.
    return any(name == first or (name.startswith(stem) and _copy_number(name[len(stem) :])) for name in names)


def _copy_number(rest: str) -> bool:
    number = rest.removesuffix(".key")
    return rest.endswith(".key") and number.isdigit() and 1 < int(number) <= _MAX_COPIES


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
    directory_path = final.parent
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
        final = _link_at_a_free_name(temporary, directory_path, project, account)
    except OSError as exc:
        raise SecretSinkError(f"secret sink {final}: cannot write the key ({exc.strerror})") from None
    finally:
        with contextlib.suppress(OSError):
            temporary.unlink()
    _sync_directory(final.parent)
    return final


def _link_at_a_free_name(temporary: Path, directory: Path, project: str, account: str) -> Path:
    """Give the complete file its final name without replacing any file: a hard link fails if the name is
    taken (atomically, unlike a check and a rename), and the next copy number is tried."""
    for copy in range(1, _MAX_COPIES + 1):
        final = directory / secret_file_name(project, account, copy)
        try:
            os.link(temporary, final, follow_symlinks=False)
        except FileExistsError:
            continue
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS):
                raise
            # A filesystem without hard links: check, then rename (a race only with another writer).
            if final.exists() or final.is_symlink():
                continue
            os.replace(temporary, final)
        return final
    raise FileExistsError(errno.EEXIST, f"{_MAX_COPIES} key files already exist for this account")


def _escape(name: str) -> str:
    out: list[str] = []
    for index, char in enumerate(name):
        if char in _KEPT and not (char == "." and index == 0):
            out.append(char)
        elif char == " " and 0 < index < len(name) - 1 and name[index - 1] != " " and name[index + 1] != " ":
            out.append("_")  # one inner space, the common case, stays readable
        else:
            out.extend(f"%{byte:02X}" for byte in char.encode("utf-8", "surrogatepass"))
    escaped = "".join(out) or "~"  # an empty name (which the files refuse) still gets a name of its own
    if len(escaped) <= _MAX_PART:
        return escaped
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    head = escaped[: _MAX_PART - 17]
    head = head[: head.rfind("%")] if "%" in head[-2:] else head  # never cut inside a %XX
    return f"{head}~{digest}"


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
