"""`--webhook-file`: the webhook URL from a file (a Secret volume), redacted, absent meaning no webhook."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from daemon_support import ADMIN_KEY, DESIRED_STATE, WEBHOOK, capture_logs, settings
from typer.testing import CliRunner

from datacontrols.cli import app
from datacontrols.daemon.cli import build_daemon
from datacontrols.daemon.webhook_file import read_webhook_file, with_webhook_file
from datacontrols.errors import ConfigError
from datacontrols.redaction import redact


def test_the_url_is_read_stripped_and_registered_as_a_secret(tmp_path: Path) -> None:
    path = tmp_path / "url"
    path.write_text(f"  {WEBHOOK}\n")
    url = read_webhook_file(path)
    assert url is not None and url.get_secret_value() == WEBHOOK
    assert WEBHOOK not in redact(f"posting to {WEBHOOK}")


def test_an_absent_file_is_no_webhook_and_says_so_once(tmp_path: Path) -> None:
    with capture_logs() as logs:
        assert read_webhook_file(tmp_path / "url") is None
    [line] = logs.getvalue().splitlines()
    assert "webhook_file_absent" in line and "metrics only" in line
    (tmp_path / "url").write_text("\n")
    assert read_webhook_file(tmp_path / "url") is None  # an empty Secret value: none either


def test_a_file_without_an_http_url_is_an_error_that_does_not_show_it(tmp_path: Path) -> None:
    path = tmp_path / "url"
    path.write_text("ftp://hooks.example.com/secret-path-token\n")
    with pytest.raises(ConfigError, match="must be an http:// or https:// URL") as caught:
        read_webhook_file(path)
    assert "secret-path-token" not in caught.value.message


def test_the_daemon_posts_to_the_files_url(tmp_path: Path) -> None:
    path = tmp_path / "url"
    path.write_text(WEBHOOK + "\n")
    resolved = with_webhook_file(settings(webhook_file=path))
    assert resolved.webhook is not None and resolved.webhook.get_secret_value() == WEBHOOK
    assert with_webhook_file(settings()).webhook is None
    key_file = tmp_path / "admin-key"
    key_file.write_text(ADMIN_KEY + "\n")
    daemon = build_daemon(settings(webhook_file=path, admin_key_file=key_file))
    assert daemon.notifier.enabled


def test_both_a_url_and_a_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="give the webhook once"):
        with_webhook_file(settings(webhook=WEBHOOK, webhook_file=tmp_path / "url"))


def _invoke(*args: str, env: dict[str, str] | None = None) -> Any:
    return CliRunner().invoke(app, ["serve", *args], env={"OPENAI_ADMIN_KEY": ADMIN_KEY, **(env or {})})


def test_serve_exits_1_with_one_line_on_a_bad_file(tmp_path: Path) -> None:
    path = tmp_path / "url"
    path.write_text("not a url")
    result = _invoke("--desired-state", str(DESIRED_STATE), "--listen", "127.0.0.1:0", "--webhook-file", str(path))
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: --webhook-file"), result.output
    assert "not a url" not in result.output


def test_the_file_comes_from_the_environment_too(tmp_path: Path) -> None:
    path = tmp_path / "url"
    path.write_text("not a url")
    result = _invoke(
        "--desired-state", str(DESIRED_STATE), "--listen", "127.0.0.1:0", env={"DATACONTROLS_WEBHOOK_FILE": str(path)}
    )
    assert result.exit_code == 1 and "error: --webhook-file" in result.output
