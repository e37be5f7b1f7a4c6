"""Where the admin key comes from: `--admin-key-file PATH`, else the `OPENAI_ADMIN_KEY` environment variable.

The key is returned as a `SecretStr` and registered for redaction at once, so it cannot leak through any
later message. Errors say what to set, never what was found.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import SecretStr

from datacontrols.errors import ConfigError
from datacontrols.files import read_text
from datacontrols.redaction import register_secret

__all__ = ["ADMIN_KEY_ENV", "BASE_URL_ENV", "load_admin_key"]

ADMIN_KEY_ENV = "OPENAI_ADMIN_KEY"
BASE_URL_ENV = "OPENAI_BASE_URL"


def load_admin_key(admin_key_file: Path | None = None) -> SecretStr:
    if admin_key_file is not None:
        key = read_text(admin_key_file, f"--admin-key-file {admin_key_file}").strip()
        if not key:
            raise ConfigError(f"--admin-key-file {admin_key_file}: the file is empty")
    else:
        key = os.environ.get(ADMIN_KEY_ENV, "").strip()
        if not key:
            raise ConfigError(
                f"no admin key: set {ADMIN_KEY_ENV} or pass --admin-key-file PATH "
                "(an organization Admin API key, which starts with sk-admin)"
            )
    if any(ch.isspace() for ch in key):
        raise ConfigError("the admin key contains whitespace; it must be a single token")
    register_secret(key)
    return SecretStr(key)
