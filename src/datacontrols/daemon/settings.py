"""The daemon's settings: command-line flags first, then `DATACONTROLS_*` environment variables, then defaults.

    reconcile serve --desired-state /etc/openai-datacontrols/desired \\
        --admin-key-file /var/run/secrets/openai-datacontrols/admin-key \\
        --listen 0.0.0.0:8080 --mode report --interval 5m

Durations are written `30s`, `5m`, `1h`, `1h30m`, `250ms` or as plain seconds (`90`). The webhook URL is a
secret (Slack's carry a token in their path): it is a `SecretStr`, registered for redaction, never shown.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from datacontrols.durations import parse_seconds
from datacontrols.redaction import register_secret

__all__ = [
    "DaemonSettings",
    "Duration",
    "Mode",
    "WebhookFormat",
    "check_webhook_url",
    "parse_duration",
    "parse_listen",
]

Mode = Literal["report", "enforce"]
_K8S_NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
WebhookFormat = Literal["json", "slack"]


def parse_duration(value: Any) -> float:
    """Seconds from `30s`, `5m`, `1h30m`, `250ms` or a plain number of seconds (see `datacontrols.durations`)."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError("a duration is a number of seconds or text like 30s, 5m, 1h")
    return parse_seconds(value)  # its DurationError is a ValueError, worded for a setting


def parse_listen(value: str) -> tuple[str, int]:
    """(host, port) from `0.0.0.0:8080`, `:8080` (all interfaces), `[::1]:8080` or `localhost:0`."""
    text = value.strip()
    host, sep, port_text = text.rpartition(":")
    if not sep or not port_text.isdigit():
        raise ValueError(f"--listen {value!r} must be HOST:PORT, e.g. 0.0.0.0:8080")
    port = int(port_text)
    if not 0 <= port <= 65535:
        raise ValueError(f"--listen port {port} is out of range")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host or "0.0.0.0", port


Duration = Annotated[float, BeforeValidator(parse_duration)]


def check_webhook_url(value: str | None) -> SecretStr | None:
    """The webhook URL, registered for redaction; None for none or blank; ValueError unless http(s)."""
    url = (value or "").strip()
    if not url:
        return None
    if not url.startswith(("http://", "https://")):
        raise ValueError("the webhook must be an http:// or https:// URL")
    register_secret(url)
    return SecretStr(url)


class DaemonSettings(BaseSettings):
    """Everything `reconcile serve` needs but the admin key (see `datacontrols.credentials`)."""

    model_config = SettingsConfigDict(env_prefix="DATACONTROLS_", extra="ignore", frozen=True)

    desired_state: Path = Field(default=Path("desired_state"), description="The desired-state directory")
    org: str | None = Field(
        default=None, description="The organization served, in a repository of several (orgs/NAME/); shown in /status"
    )
    expect_project_files: int | None = Field(
        default=None,
        ge=0,
        description="Refuse to start (and to run) with fewer project files than this (none: no floor)",
    )
    admin_key_file: Path | None = Field(default=None, description="File holding the admin key (else OPENAI_ADMIN_KEY)")
    base_url: str | None = Field(
        default=None, description="Admin API base URL (else DATACONTROLS_BASE_URL, else OpenAI's)"
    )
    interval: Duration = Field(
        default=300.0, gt=0, description="The longest a project's controls go unread (the sweep is spread over it)"
    )
    jitter: Duration | None = Field(
        default=None,
        description="Random delay added to each item's turn (default: a tenth of the interval, at most 30 s)",
    )
    max_requests_per_minute: float = Field(
        default=5.0,
        gt=0,
        allow_inf_nan=False,
        description="Requests a minute per endpoint at most, every request counted (half what the API allows)",
    )
    audit_poll: Duration = Field(
        default=20.0, gt=0, description="How often the audit log is read; its events make what they name due at once"
    )
    mode: Mode = Field(default="report", description="report never writes; enforce applies corrections")
    listen: str = Field(default="0.0.0.0:8080", description="HOST:PORT for /healthz, /readyz, /metrics, /status")
    grace_period: Duration = Field(default=30.0, gt=0, description="Time allowed to stop after SIGTERM")
    webhook: SecretStr | None = Field(default=None, description="URL to POST alerts to")
    webhook_file: Path | None = Field(
        default=None, description="File holding the webhook URL, read at startup (absent file: no webhook)"
    )
    webhook_format: WebhookFormat = Field(default="json", description="json, or slack (incoming-webhook message)")
    audit_lookback: Duration = Field(
        default=3600.0, description="How far back the first audit-log read goes, for drift that predates the start"
    )
    max_staleness: Duration | None = Field(
        default=None,
        gt=0,
        description="Not ready once the last successful run is older than this (default: three intervals)",
    )
    status_token: SecretStr | None = Field(
        default=None, description="Bearer token for the full /status (environment only: a flag shows in ps)"
    )
    state_dir: Path | None = Field(
        default=None, description="Directory for what must outlive a restart: the alert ledger (none: memory only)"
    )
    leader_election_lease: str | None = Field(
        default=None,
        description="The Kubernetes Lease whose holder is the one replica that reads and writes (none: this "
        "process is the only one)",
    )
    leader_election_namespace: str | None = Field(
        default=None, description="The Lease's namespace (default: the pod's own)"
    )
    log_level: str = Field(default="info", description="debug, info, warning or error")
    log_format: Literal["auto", "json", "console"] = Field(default="auto", description="auto: JSON unless a terminal")

    @field_validator("listen")
    @classmethod
    def _check_listen(cls, value: str) -> str:
        parse_listen(value)
        return value

    @field_validator("webhook")
    @classmethod
    def _check_webhook(cls, value: SecretStr | None) -> SecretStr | None:
        return check_webhook_url(value.get_secret_value() if value is not None else None)

    @field_validator("status_token")
    @classmethod
    def _check_status_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        token = value.get_secret_value().strip()
        # It travels in an HTTP header, and a short one could be guessed by asking often enough.
        if not token.isascii() or not token.isprintable() or any(ch.isspace() for ch in token):
            raise ValueError("the status token must be printable ASCII without spaces")
        if len(token) < 16:
            raise ValueError("the status token must be at least 16 characters (e.g. openssl rand -hex 32)")
        register_secret(token)
        return SecretStr(token)

    @field_validator("leader_election_lease", "leader_election_namespace")
    @classmethod
    def _check_lease_name(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        # A Kubernetes object name (RFC 1123 subdomain): refused here rather than by the API server at start.
        if not _K8S_NAME.fullmatch(value) or len(value) > 253:
            raise ValueError(f"{value!r} is not a Kubernetes name (lower-case letters, digits, '-' and '.')")
        return value

    @field_validator("log_level")
    @classmethod
    def _check_level(cls, value: str) -> str:
        if value.lower() not in ("debug", "info", "warning", "error"):
            raise ValueError("the log level is debug, info, warning or error")
        return value.lower()

    @property
    def host_port(self) -> tuple[str, int]:
        return parse_listen(self.listen)

    @property
    def effective_max_staleness(self) -> float:
        return self.max_staleness if self.max_staleness is not None else 3 * self.interval

    @property
    def effective_jitter(self) -> float:
        return self.jitter if self.jitter is not None else min(30.0, self.interval / 10)
