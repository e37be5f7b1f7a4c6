"""Where the admin key comes from: `--admin-key-file PATH`, else the `OPENAI_ADMIN_KEY` environment variable
(or the one the desired state names in `identity.admin_key_env`).

The key is returned as a `SecretStr` and registered for redaction at once, so it cannot leak through any
later message. Errors say what to set, never what was found.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

import httpx
from pydantic import SecretStr

from datacontrols.errors import ConfigError
from datacontrols.files import read_text
from datacontrols.redaction import register_secret

__all__ = ["ADMIN_KEY_ENV", "BASE_URL_ENV", "INSECURE_BASE_URL_ENV", "check_base_url", "load_admin_key"]

ADMIN_KEY_ENV = "OPENAI_ADMIN_KEY"
# Not OPENAI_BASE_URL: the OpenAI SDK reads that one, and runners point it at inference proxies and
# gateways, which must never receive the admin key. The admin key goes only where this variable (or
# --base-url) says, else to the real Admin API.
BASE_URL_ENV = "DATACONTROLS_BASE_URL"
# Set to 1 to send the key over plain http to a host that is not this machine (a lab proxy, never production).
INSECURE_BASE_URL_ENV = "DATACONTROLS_ALLOW_INSECURE_BASE_URL"
_MAX_KEY_FILE_BYTES = 64 * 1024  # a key is about 200 characters; a larger file is not a key file
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})


def load_admin_key(admin_key_file: Path | None = None, variable: str = ADMIN_KEY_ENV) -> SecretStr:
    """The key from `admin_key_file`, else from the environment variable `variable` (an organization's
    `identity.admin_key_env`, so two organizations' keys can sit side by side in one pipeline)."""
    if admin_key_file is not None:
        key = read_text(admin_key_file, f"--admin-key-file {admin_key_file}", max_bytes=_MAX_KEY_FILE_BYTES).strip()
        if not key:
            raise ConfigError(f"--admin-key-file {admin_key_file}: the file is empty")
    else:
        key = os.environ.get(variable, "").strip()
        if not key:
            raise ConfigError(
                f"no admin key: set {variable} or pass --admin-key-file PATH "
                "(an organization Admin API key, which starts with sk-admin)"
            )
    if any(ch.isspace() for ch in key):
        raise ConfigError("the admin key contains whitespace; it must be a single token")
    if not key.isascii() or not key.isprintable():
        # An HTTP header carries ASCII only: such a key could never authenticate (and httpx would raise).
        raise ConfigError("the admin key contains characters that are not printable ASCII; copy it again")
    register_secret(key)
    return SecretStr(key)


def check_base_url(url: str, *, allow_insecure: bool | None = None) -> str:
    """The Admin API base URL, or a one-line `ConfigError`: it must parse, be https (plain http only to this
    machine, unless `DATACONTROLS_ALLOW_INSECURE_BASE_URL=1`), and carry no credentials or query."""
    label = f"base URL {url!r}"
    try:
        parsed = httpx.URL(url)
        host = parsed.host
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise ConfigError(f"{label} is not a URL ({exc}); pass --base-url https://HOST/v1") from None
    if parsed.scheme not in ("https", "http") or not host:
        raise ConfigError(f"{label} must be https://HOST[/PATH]")
    if parsed.userinfo or parsed.query or parsed.fragment:
        raise ConfigError(f"{label} must hold no user, password, query or fragment")
    if allow_insecure is None:
        allow_insecure = os.environ.get(INSECURE_BASE_URL_ENV, "") == "1"
    if parsed.scheme == "http" and not (_is_loopback(host) or allow_insecure):
        raise ConfigError(
            f"{label}: plain http would send the admin key in cleartext; use https, or set "
            f"{INSECURE_BASE_URL_ENV}=1 for a host you trust"
        )
    return url


def _is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
