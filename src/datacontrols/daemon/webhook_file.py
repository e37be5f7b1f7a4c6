"""The webhook URL from a file (`--webhook-file`), so that Kubernetes can hand it over as a Secret volume.

A file, like the admin key, rather than an environment variable: it does not show in `kubectl describe`,
in a crash dump or in a child process's environment. The URL is a secret (Slack's carry a token in their
path): it is registered for redaction as soon as it is read, and never printed.

A missing file means no webhook, with one log line: that is what an optional Secret volume gives when the
Secret was not created, and alerting through the metrics alone is a supported set-up. A file that exists
but holds no http(s) URL is an error (exit 1), since the operator meant to configure one.
"""

from __future__ import annotations

from pathlib import Path

import structlog
from pydantic import SecretStr

from datacontrols.daemon.settings import DaemonSettings, check_webhook_url
from datacontrols.errors import ConfigError

__all__ = ["read_webhook_file", "with_webhook_file"]

log = structlog.get_logger("datacontrols.daemon")


def read_webhook_file(path: Path) -> SecretStr | None:
    """The URL in `path` (surrounding whitespace ignored), None when the file is absent or empty."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        log.info("webhook_file_absent", path=path.as_posix(), alerts="metrics only")
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"--webhook-file {path.as_posix()!r} cannot be read ({type(exc).__name__})") from None
    try:
        return check_webhook_url(text)
    except ValueError as exc:
        raise ConfigError(f"--webhook-file {path.as_posix()!r}: {exc}") from None


def with_webhook_file(settings: DaemonSettings) -> DaemonSettings:
    """`settings` with the webhook read from `settings.webhook_file`, when one is given."""
    if settings.webhook_file is None:
        return settings
    if settings.webhook is not None:
        raise ConfigError("give the webhook once: --webhook (DATACONTROLS_WEBHOOK) or --webhook-file, not both")
    return settings.model_copy(update={"webhook": read_webhook_file(settings.webhook_file)})
