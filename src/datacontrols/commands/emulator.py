"""`reconcile emulator` (and `python -m datacontrols.emulator`): serve the fake Admin API over HTTP.

The emulator is imported only when the command runs (see `datacontrols.commands`).

`emulator_command` is a plain function with typer annotations, so the main CLI registers it with
`app.command("emulator")(emulator_command)` and `__main__` runs it with `typer.run`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from datacontrols.adminapi.retention import ORGANIZATION_RETENTION_TYPES

__all__ = ["ADMIN_KEY_ENV", "emulator_command"]

ADMIN_KEY_ENV = "DATACONTROLS_EMULATOR_ADMIN_KEY"


def emulator_command(
    admin_key: Annotated[
        str,
        typer.Option(
            "--admin-key",
            envvar=ADMIN_KEY_ENV,
            help=f"The bearer key clients must send (prefer the {ADMIN_KEY_ENV} environment variable).",
            show_default=False,
        ),
    ],
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8089,
    seed: Annotated[
        Path | None,
        typer.Option("--seed", help="YAML or JSON file with the organization's starting state.", dir_okay=False),
    ] = None,
    dump_on_exit: Annotated[
        Path | None,
        typer.Option("--dump-on-exit", help="Write the final state here (YAML or JSON by extension).", dir_okay=False),
    ] = None,
    approved_retention: Annotated[
        list[str] | None,
        typer.Option(
            "--approved-retention",
            help="An organization retention type OpenAI approved (repeatable); others are refused with 403.",
        ),
    ] = None,
    latency: Annotated[float, typer.Option("--latency", help="Seconds added to every API request.", min=0)] = 0.0,
    fault_rate: Annotated[
        float,
        typer.Option(
            "--fault-rate", help="Share of API requests answered 429 (with Retry-After) or 5xx.", min=0, max=1
        ),
    ] = 0.0,
    rate_limit_per_minute: Annotated[
        float | None,
        typer.Option("--rate-limit-per-minute", help="Token-bucket limit per endpoint (the real API: ~7-10).", min=0),
    ] = None,
    rate_limit_no_retry_after: Annotated[
        bool,
        typer.Option(
            "--rate-limit-no-retry-after",
            help="Answer rate-limited requests with a bare 429, without Retry-After, as the real API has been seen to.",
        ),
    ] = False,
    rng_seed: Annotated[
        int | None, typer.Option("--rng-seed", help="Seed for ids and faults (reproducible runs).")
    ] = None,
) -> None:
    """Serve an emulated OpenAI Admin API until SIGTERM or Ctrl+C."""
    unknown = sorted(set(approved_retention or ()) - set(ORGANIZATION_RETENTION_TYPES))
    if unknown:
        raise typer.BadParameter(
            f"unknown retention type(s) {', '.join(unknown)}; choose from {', '.join(ORGANIZATION_RETENTION_TYPES)}",
            param_hint="--approved-retention",
        )
    # Imported here, not at the top: the main CLI registers this command, and planning must not load the
    # emulator and its web server.
    from datacontrols.emulator import server
    from datacontrols.emulator.faults import FaultConfig
    from datacontrols.emulator.ratelimit import RateLimitConfig
    from datacontrols.emulator.seed import SeedError

    faults = None
    if latency or fault_rate:
        faults = FaultConfig(latency=latency, rate_limited=fault_rate / 2, server_error=fault_rate / 2)
    if rate_limit_no_retry_after and not rate_limit_per_minute:
        raise typer.BadParameter("it shapes the rate limit's answers: give --rate-limit-per-minute too")
    rate_limit = (
        RateLimitConfig(per_minute=rate_limit_per_minute, send_retry_after=not rate_limit_no_retry_after)
        if rate_limit_per_minute
        else None
    )
    try:
        server.serve(
            host,
            port,
            admin_key=admin_key,
            seed=seed,
            dump_on_exit=dump_on_exit,
            faults=faults,
            rate_limit=rate_limit,
            approved_retention_types=approved_retention or None,
            rng_seed=rng_seed,
        )
    except SeedError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
