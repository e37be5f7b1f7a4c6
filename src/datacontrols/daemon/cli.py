"""`reconcile serve`: keep the organization in line on a schedule, with probes, metrics, status and alerts.

`serve_command` is a plain function with typer annotations; the main CLI registers it with
`app.command("serve", help=...)(serve_command)`. A flag left out falls back to its `DATACONTROLS_*`
environment variable (`DATACONTROLS_INTERVAL=5m`, `DATACONTROLS_MODE=enforce`, ...), then to the default.
The admin key comes from `--admin-key-file` (or `DATACONTROLS_ADMIN_KEY_FILE`), else `OPENAI_ADMIN_KEY`; the
file is read again before every run. The /status token is `DATACONTROLS_STATUS_TOKEN` only (a flag would
show in the process list).

Exit codes: 0 after a clean stop (SIGTERM/SIGINT, drained within the grace period); 1 for a bad flag, fewer
project files than `--expect-project-files`, a missing key, a port that cannot be bound, or a stop that had
to cut a write short.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from pydantic import ValidationError

from datacontrols.credentials import ADMIN_KEY_ENV, BASE_URL_ENV, check_base_url, load_admin_key
from datacontrols.daemon.file_limit import raise_file_limit

if TYPE_CHECKING:
    from datacontrols.daemon.service import Daemon
    from datacontrols.daemon.settings import DaemonSettings
from datacontrols.errors import ConfigError, DataControlsError
from datacontrols.logging import configure_logging
from datacontrols.redaction import redact

__all__ = ["build_daemon", "serve_command"]

SERVE_HELP = (
    "Run the reconciler on a schedule, with /healthz, /readyz, /metrics and /status. /status shows states and "
    "counts only, unless the request carries 'Authorization: Bearer <DATACONTROLS_STATUS_TOKEN>'."
)


def serve_command(
    ctx: typer.Context,
    desired_state: Annotated[
        Path | None, typer.Option("--desired-state", help="Directory holding organization.yaml and projects/.")
    ] = None,
    org: Annotated[
        str | None,
        typer.Option("--org", help="In a repository of several organizations: the one to serve (orgs/NAME/)."),
    ] = None,
    orgs_dir: Annotated[
        Path | None,
        typer.Option(
            "--orgs-dir",
            help="With --org: the directory holding the organizations (in a pod, the checkout's orgs/). [orgs]",
            file_okay=False,
        ),
    ] = None,
    expect_project_files: Annotated[
        int | None,
        typer.Option(
            "--expect-project-files",
            help="Refuse to start, and to run, with fewer project files than this: a lost file would leave its "
            "project unmanaged (or archived). [no floor]",
        ),
    ] = None,
    admin_key_file: Annotated[
        Path | None,
        typer.Option(
            "--admin-key-file",
            help="File holding the Admin API key, read again before every run (else OPENAI_ADMIN_KEY).",
            dir_okay=False,
        ),
    ] = None,
    base_url: Annotated[
        str | None, typer.Option("--base-url", help=f"Admin API base URL (else {BASE_URL_ENV}).")
    ] = None,
    interval: Annotated[
        str | None,
        typer.Option("--interval", help="The longest a project goes unread; the sweep is spread over it. [5m]"),
    ] = None,
    jitter: Annotated[
        str | None, typer.Option("--jitter", help="Random delay added to each item's turn. [interval/10, at most 30s]")
    ] = None,
    max_requests_per_minute: Annotated[
        float | None,
        typer.Option(
            "--max-requests-per-minute",
            help="Requests a minute per endpoint at most, retries included; the rest is left to others. [5]",
        ),
    ] = None,
    audit_poll: Annotated[
        str | None,
        typer.Option("--audit-poll", help="How often the audit log is read to re-read what changed early. [20s]"),
    ] = None,
    mode: Annotated[
        str | None, typer.Option("--mode", help="report (never writes) or enforce (applies corrections). [report]")
    ] = None,
    listen: Annotated[
        str | None, typer.Option("--listen", help="HOST:PORT for the probes, metrics and status. [0.0.0.0:8080]")
    ] = None,
    grace_period: Annotated[
        str | None, typer.Option("--grace-period", help="Time allowed to stop after SIGTERM. [30s]")
    ] = None,
    webhook: Annotated[
        str | None,
        typer.Option(
            "--webhook", help="URL to POST alerts to (prefer --webhook-file or DATACONTROLS_WEBHOOK: it is a secret)."
        ),
    ] = None,
    webhook_file: Annotated[
        Path | None,
        typer.Option(
            "--webhook-file",
            help="File holding the webhook URL, read at startup; an absent file means no webhook.",
            dir_okay=False,
        ),
    ] = None,
    webhook_format: Annotated[
        str | None, typer.Option("--webhook-format", help="json, or slack (incoming webhook). [json]")
    ] = None,
    audit_lookback: Annotated[
        str | None, typer.Option("--audit-lookback", help="How far back the first audit-log read goes. [1h]")
    ] = None,
    max_staleness: Annotated[
        str | None,
        typer.Option("--max-staleness", help="Not ready once the last success is older than this. [3 intervals]"),
    ] = None,
    state_dir: Annotated[
        Path | None,
        typer.Option(
            "--state-dir",
            help="Directory for the alert ledger, so a restart does not alert the same drift again. [none]",
            file_okay=False,
        ),
    ] = None,
    leader_election_lease: Annotated[
        str | None,
        typer.Option(
            "--leader-election-lease",
            help="Run as one of several replicas: the holder of this Kubernetes Lease reads and writes, the others "
            "stand by. [none]",
        ),
    ] = None,
    leader_election_namespace: Annotated[
        str | None, typer.Option("--leader-election-namespace", help="The Lease's namespace. [the pod's own]")
    ] = None,
    log_level: Annotated[str | None, typer.Option("--log-level", help="debug, info, warning or error. [info]")] = None,
    log_format: Annotated[
        str | None, typer.Option("--log-format", help="auto (JSON unless a terminal), json or console.")
    ] = None,
) -> None:
    """Reconcile on a schedule until SIGTERM: report drift, and correct it in enforce mode."""
    root = ctx.obj if isinstance(ctx.obj, dict) else {}  # `reconcile --log-level debug serve` is honoured
    log_level = log_level if log_level is not None else root.get("log_level")
    log_format = log_format if log_format is not None else root.get("log_format")
    given: dict[str, Any] = {
        "desired_state": desired_state,
        "org": org,
        "expect_project_files": expect_project_files,
        "admin_key_file": admin_key_file,
        "base_url": base_url,
        "interval": interval,
        "jitter": jitter,
        "max_requests_per_minute": max_requests_per_minute,
        "audit_poll": audit_poll,
        "mode": mode,
        "listen": listen,
        "grace_period": grace_period,
        "webhook": webhook,
        "webhook_file": webhook_file,
        "webhook_format": webhook_format,
        "audit_lookback": audit_lookback,
        "max_staleness": max_staleness,
        "state_dir": state_dir,
        "leader_election_lease": leader_election_lease,
        "leader_election_namespace": leader_election_namespace,
        "log_level": log_level,
        "log_format": log_format,
    }
    try:
        given["desired_state"] = served_desired_state(desired_state, org, orgs_dir)
    except DataControlsError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        raise typer.Exit(1) from None
    from datacontrols.daemon.settings import DaemonSettings  # here: other commands never load the daemon

    try:
        settings = DaemonSettings(**{name: value for name, value in given.items() if value is not None})
    except ValidationError as exc:
        for error in exc.errors(include_input=False, include_url=False):
            where = ".".join(str(part) for part in error["loc"]) or "settings"
            message = error["msg"].removeprefix("Value error, ")  # pydantic's prefix says nothing to a user
            print(f"error: --{where.replace('_', '-')}: {redact(message)}", file=sys.stderr)
        raise typer.Exit(1) from None
    configure_logging(settings.log_level, settings.log_format)
    # Their INFO lines (job added, server process started) say nothing the daemon's own lines do not.
    for chatty in ("apscheduler", "uvicorn.error"):
        logging.getLogger(chatty).setLevel(max(logging.WARNING, logging.getLogger().level))
    # A look at the queue while a run goes on is normal (the daemon counts what matters itself): APScheduler's
    # "maximum number of running instances reached" warning would come every second of every run.
    logging.getLogger("apscheduler.scheduler").setLevel(max(logging.ERROR, logging.getLogger().level))
    try:
        daemon = build_daemon(settings)
    except DataControlsError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        raise typer.Exit(1) from None
    raise_file_limit()  # before the listener exists: connections must not starve the scheduler's client
    try:
        code = asyncio.run(daemon.serve())
    except DataControlsError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        raise typer.Exit(1) from None
    raise typer.Exit(code)


def served_desired_state(desired_state: Path | None, org: str | None, orgs_dir: Path | None) -> Path | None:
    """The directory `serve` reads: `--desired-state`, or `--org NAME` in `--orgs-dir` (flags, then variables).

    Absolute when given so: in a pod the checkout is a symlink git-sync swaps, and a working directory would
    stay in the old checkout, so `--orgs-dir` names it through the link and every run follows the link."""
    from datacontrols.orgs import ORGS_DIR, pick_desired_state

    org = org or os.environ.get("DATACONTROLS_ORG") or None
    orgs = orgs_dir or _path_from_env("DATACONTROLS_ORGS_DIR")
    if org is None:
        if orgs is not None:
            raise ConfigError("--orgs-dir says where the organizations are; pass --org NAME to pick one")
        if desired_state is None and _path_from_env("DATACONTROLS_DESIRED_STATE") is None:
            return pick_desired_state(None, None)  # an orgs/ tree here without --org is an error
        return desired_state  # else the settings read DATACONTROLS_DESIRED_STATE, as before
    chosen = desired_state or _path_from_env("DATACONTROLS_DESIRED_STATE")
    return pick_desired_state(chosen, org, orgs=orgs or ORGS_DIR)


def _path_from_env(name: str) -> Path | None:
    value = os.environ.get(name, "").strip()
    return Path(value) if value else None


def build_daemon(settings: DaemonSettings) -> Daemon:
    """The daemon for these settings, with the admin key from its file or OPENAI_ADMIN_KEY."""
    from datacontrols.daemon.project_files import check_project_files
    from datacontrols.daemon.service import Daemon
    from datacontrols.daemon.webhook_file import with_webhook_file
    from datacontrols.orgs import declared_identity

    check_project_files(settings.desired_state, settings.expect_project_files)  # before anything is read or sent
    settings = with_webhook_file(settings)
    # The variable the organization's files name (identity.admin_key_env), when no key file is mounted.
    key = load_admin_key(
        settings.admin_key_file, declared_identity(settings.desired_state).admin_key_env or ADMIN_KEY_ENV
    )
    base_url = settings.base_url or os.environ.get(BASE_URL_ENV) or None
    if base_url is not None:
        check_base_url(base_url)
    leader = None
    if settings.leader_election_lease is not None:
        from datacontrols.daemon.leader import connect_election  # here: without a Lease, no Kubernetes client

        leader = connect_election(settings.leader_election_lease, settings.leader_election_namespace)
    return Daemon(settings, admin_key=key, base_url=base_url, leader=leader)
