"""The daemon's Admin API client, connected again when the mounted key file changes: a rotated key is used from
the next run, without a restart.

Kubernetes updates a mounted Secret in place (a new directory swapped in behind a symlink), so the file is
simply read again before every run: it is a few hundred bytes, and comparing its text catches every change,
where a modification time can stay the same across a swap. A new key means a new client (the old one is
closed): the key is part of the client's connection settings, and nothing a client keeps (a read cache, a
rate limiter's view) is worth keeping across keys.

While the file cannot be read or holds no usable key (mid-rotation, emptied by mistake), the key read before
is kept and a warning says why; the message names the file, never its contents. A key the API rejects is
not found here but by the run (`AuthError`, 401 or 403), which makes readiness false until one gets through.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import structlog
from pydantic import SecretStr

from datacontrols.adminapi import AdminApi
from datacontrols.credentials import load_admin_key
from datacontrols.errors import ConfigError

__all__ = ["RotatingClient"]

log = structlog.get_logger("datacontrols.daemon")


class RotatingClient:
    """`api` is the client for the key in `key_file` as of the last `refresh()` (the given key without a file)."""

    def __init__(self, connect: Callable[[SecretStr], AdminApi], key: SecretStr, key_file: Path | None) -> None:
        self._connect = connect
        self._key = key
        self._key_file = key_file
        self._unreadable: str | None = None  # the last warning, so a lasting problem is said once
        self.api = connect(key)

    def __repr__(self) -> str:
        return f"RotatingClient(key_file={str(self._key_file) if self._key_file else None!r})"

    async def refresh(self) -> bool:
        """Read the key file again; on a new key, connect with it and close the old client. True when it did."""
        if self._key_file is None:
            return False
        try:
            key = load_admin_key(self._key_file)  # registers the new key for redaction before anything logs
        except ConfigError as exc:
            if exc.message != self._unreadable:
                log.warning(
                    "admin_key_file_unusable", key_file=str(self._key_file), error=exc.message, using="the previous key"
                )
            self._unreadable = exc.message
            return False
        self._unreadable = None
        if key.get_secret_value() == self._key.get_secret_value():
            return False
        old, self.api, self._key = self.api, self._connect(key), key
        await old.aclose()
        log.info("admin_key_reloaded", key_file=str(self._key_file))
        return True

    async def aclose(self) -> None:
        await self.api.aclose()
