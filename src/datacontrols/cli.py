"""The `reconcile` command line.

    reconcile --dry-run [--desired-state DIR | --org NAME] [--format text|json|markdown] [--detailed-exitcode]
    reconcile [--auto-approve]
    reconcile validate [--all-orgs] | schema | explain | demo | emulator
    reconcile apply PLAN_FILE | export --out DIR                  (GitOps: see datacontrols.gitops)

Exit codes: 0 success (with --detailed-exitcode: no changes), 2 changes pending (only with
--detailed-exitcode), 1 any error, including usage errors. An error is one line on stderr, never a
traceback, and nothing is written after it.
"""

from __future__ import annotations

import asyncio
import functools
import os
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Annotated, Any

import typer
from typer._click import exceptions as click_exceptions  # typer vendors Click
from typer._click.core import ParameterSource  # typer vendors Click; this is its context's enum
from typer.exceptions import Abort as TyperAbort

from datacontrols import __version__
from datacontrols.adminapi import AdminApi, RetryPolicy
from datacontrols.commands.emulator import emulator_command
from datacontrols.commands.interrupts import STOPPED_AT_ONCE, GracefulStop
from datacontrols.commands.options import (
    AdminKeyFileOption,
    AllowUnsafeOption,
    AutoApproveOption,
    BaseDesiredStateOption,
    BaseUrlOption,
    DesiredStateOption,
    DetailedExitcodeOption,
    DryRunOption,
    ExcludeProjectsOption,
    ExportOrgOption,
    ExportRateLimitsOption,
    ExportRoleAssignmentsOption,
    FailOnUncorrectableOption,
    FormatOption,
    GitlabReportOption,
    LogFormatOption,
    LogLevelOption,
    NoColorOption,
    NoRemovalsOption,
    OrgOption,
    OutOption,
    OutputFormat,
    ProjectsOption,
    RetryBudgetOption,
    SecretSinkOption,
    TextOrJsonOption,
    env,
)
from datacontrols.commands.plan_apply import EXIT_ERROR, EXIT_OK, plan_or_apply, registry_for
from datacontrols.commands.terminal import color, emit, print_progress, print_result
from datacontrols.commands.validate import print_problems, validate
from datacontrols.credentials import load_admin_key
from datacontrols.daemon.cli import SERVE_HELP, serve_command
from datacontrols.desired import desired_state_json_schema, load_desired_state
from datacontrols.durations import parse_duration
from datacontrols.engine import ApplyResult
from datacontrols.errors import DataControlsError, DesiredStateError
from datacontrols.gitops import Delivery, apply_saved_plan, export_to, resolve_base_url
from datacontrols.logging import configure_logging
from datacontrols.orgs import admin_key_variable, pick_desired_state
from datacontrols.redaction import redact
from datacontrols.render import Format
from datacontrols.secretsink import check_sink

__all__ = ["app", "main"]

_INTERRUPTED = 130  # what the CLI framework returns for Ctrl-C; ours is 1, with a line saying so


class _Finished(Exception):
    """Carries a command's exit code past the CLI framework, which would treat 2 as a usage error."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


app = typer.Typer(
    add_completion=True,  # --install-completion / --show-completion for bash, zsh, fish and PowerShell
    context_settings={"help_option_names": ["-h", "--help"]},
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    help="Keep an OpenAI organization's data controls equal to the desired state in git.",
)


@app.callback(invoke_without_command=True)
def reconcile(
    ctx: typer.Context,
    dry_run: DryRunOption = False,
    desired_state: DesiredStateOption = None,
    org: OrgOption = None,
    output_format: FormatOption = OutputFormat.text,
    detailed_exitcode: DetailedExitcodeOption = False,
    fail_on_uncorrectable: FailOnUncorrectableOption = False,
    auto_approve: AutoApproveOption = False,
    admin_key_file: AdminKeyFileOption = None,
    base_url: BaseUrlOption = None,
    retry_budget: RetryBudgetOption = 120.0,
    secret_sink: SecretSinkOption = None,
    out: OutOption = None,
    base_desired_state: BaseDesiredStateOption = None,
    projects: ProjectsOption = None,
    exclude_projects: ExcludeProjectsOption = None,
    no_removals: NoRemovalsOption = False,
    allow_unsafe: AllowUnsafeOption = None,
    gitlab_report: GitlabReportOption = None,
    log_level: LogLevelOption = "warning",
    log_format: LogFormatOption = "auto",
    no_color: NoColorOption = False,
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    """Plan (with --dry-run) or apply the desired state to the organization."""
    try:
        configure_logging(log_level, log_format)  # type: ignore[arg-type]
    except DataControlsError as exc:
        _fail(exc.message)
    if version:
        print(f"openai-datacontrols {__version__}")
        raise typer.Exit(EXIT_OK)
    if no_color:
        os.environ["NO_COLOR"] = "1"  # one switch for everything this process prints, subcommands included
    if ctx.invoked_subcommand is not None:
        # An option of the plan/apply command written before a subcommand would be silently ignored (and
        # `reconcile --dry-run apply PLAN` would write): refuse it instead. Logging options are honoured.
        _refuse_root_options(ctx, ctx.invoked_subcommand)
        if _given(ctx, "log_level", "log_format"):
            ctx.obj = {"log_level": log_level, "log_format": log_format}  # `serve` honours them too
        return
    code = _run(
        plan_or_apply(
            dry_run=dry_run,
            desired_dir=desired_state,
            org=org,
            output_format=_format(output_format),
            detailed_exitcode=detailed_exitcode,
            fail_on_uncorrectable=fail_on_uncorrectable,
            auto_approve=auto_approve,
            admin_key_file=admin_key_file,
            base_url=base_url,
            retry_budget=retry_budget,
            secret_sink=secret_sink,
            delivery=Delivery(
                out,
                base_desired_state,
                no_removals,
                allow_unsafe,
                gitlab_report,
                projects=tuple(projects or ()),
                exclude_projects=tuple(exclude_projects or ()),
            ),
        )
    )
    raise _Finished(code)


@app.command("validate")
def validate_command(
    desired_state: DesiredStateOption = None,
    org: OrgOption = None,
    all_orgs: Annotated[
        bool, typer.Option("--all-orgs", help="Check every organization under orgs/ (one check for all).")
    ] = False,
) -> None:
    """Check the desired-state files offline: no key, no network."""
    raise _Finished(_run(validate(desired_state, org, all_orgs=all_orgs)))


@app.command("schema")
def schema_command(
    which: Annotated[str, typer.Option("--file", help="organization, project, or both.")] = "both",
) -> None:
    """Print the JSON Schema (draft-07) of the desired-state files, for editors and CI."""
    import json

    if which not in ("organization", "project", "both"):
        _fail(f"--file must be organization, project or both, not {which!r}")
    print(json.dumps(desired_state_json_schema(which), indent=2))  # type: ignore[arg-type]


@app.command("explain")
def explain_command(
    project: Annotated[str | None, typer.Option("--project", help="Only this project (by name).")] = None,
    desired_state: DesiredStateOption = None,
    org: OrgOption = None,
    admin_key_file: AdminKeyFileOption = None,
    base_url: BaseUrlOption = None,
    retry_budget: RetryBudgetOption = 120.0,
    output_format: TextOrJsonOption = "text",
) -> None:
    """Show each project's effective data retention, residency, hosted tools and model policy."""
    import json

    from datacontrols.explain import explain_organization, explanation_json, render_explanation

    _text_or_json(output_format)

    async def run() -> int:
        directory = pick_desired_state(desired_state, org)
        desired = load_desired_state(directory) if directory.exists() else None
        key = load_admin_key(admin_key_file, admin_key_variable(desired))
        retry = RetryPolicy(budget_seconds=retry_budget)
        url = resolve_base_url(base_url)
        async with AdminApi.connect(admin_key=key, base_url=url, read_only=True, retry=retry) as api:
            explanation = await explain_organization(api, desired, only=project)
        if output_format == "json":
            emit(json.dumps(explanation_json(explanation), indent=2, ensure_ascii=False))
        else:
            emit(render_explanation(explanation))
        return EXIT_OK

    raise _Finished(_run(run()))


@app.command("demo")
def demo_command(output_format: FormatOption = OutputFormat.text) -> None:
    """Plan, apply and re-plan against a built-in emulated organization: no key, no network."""
    from datacontrols.demo import run_demo

    raise _Finished(_run(run_demo(_format(output_format), color=color(sys.stdout), out=emit)))


app.command("emulator", help="Serve the Admin API emulator (for tests, demos and offline pipelines).")(emulator_command)
app.command("serve", help=SERVE_HELP)(serve_command)


@app.command("apply")
def apply_command(
    plan_file: Annotated[
        Path, typer.Argument(help="A plan saved by `reconcile --dry-run --out FILE`.", dir_okay=False)
    ],
    desired_state: DesiredStateOption = None,
    org: OrgOption = None,
    max_plan_age: Annotated[
        str, typer.Option("--max-plan-age", help="Refuse a plan older than this (e.g. 30m, 1h, 2h30m).")
    ] = "1h",
    allow_unsafe: AllowUnsafeOption = None,
    output_format: FormatOption = OutputFormat.text,
    gitlab_report: GitlabReportOption = None,
    admin_key_file: AdminKeyFileOption = None,
    base_url: BaseUrlOption = None,
    retry_budget: RetryBudgetOption = 120.0,
    secret_sink: SecretSinkOption = None,
) -> None:
    """Apply a saved plan exactly: re-read live state and refuse (exit 1) if anything moved since it was made."""

    async def run() -> int:
        max_age = parse_duration(max_plan_age)
        if secret_sink is not None:
            check_sink(secret_sink)
        registry = registry_for(secret_sink)
        stop = GracefulStop()
        results: list[ApplyResult] = []

        machine = output_format is OutputFormat.json  # stdout: one JSON document; the lines go to stderr
        lines = sys.stderr if machine else sys.stdout

        def on_result(result: ApplyResult) -> None:
            results.append(result)
            print_result(result, stream=lines)

        try:
            code = await apply_saved_plan(
                plan_file=plan_file,
                desired_dir=desired_state,
                org=org,
                admin_key_file=admin_key_file,
                base_url=base_url,
                retry_budget=retry_budget,
                registry=registry,
                max_age=max_age,
                allow_unsafe=allow_unsafe,
                output_format=output_format.value,
                color=output_format is OutputFormat.text and color(sys.stdout),
                gitlab_report=gitlab_report,
                emit=emit,
                on_change=functools.partial(print_progress, stream=lines),
                on_result=on_result,
                stopping=stop.stopping,
                on_phase=stop.on_phase,
            )
        finally:
            stop.uninstall()
        return EXIT_ERROR if any(stop.report(result) for result in results) else code

    raise _Finished(_run(run()))


@app.command("export")
def export_command(
    out: Annotated[
        Path | None, typer.Option("--out", help="Directory to write organization.yaml and projects/ into.")
    ] = None,
    org: ExportOrgOption = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite existing desired-state files.")] = False,
    merge: Annotated[
        bool, typer.Option("--merge", help="Fold the live values into existing files, keeping their comments.")
    ] = False,
    admin_key_file: AdminKeyFileOption = None,
    base_url: BaseUrlOption = None,
    retry_budget: RetryBudgetOption = 120.0,
    projects: Annotated[
        list[str] | None,
        typer.Option(
            "--project",
            help="Add only this live project's file to the desired state in --out (repeatable; by name).",
        ),
    ] = None,
    rate_limits: ExportRateLimitsOption = False,
    role_assignments: ExportRoleAssignmentsOption = False,
    output_format: TextOrJsonOption = "text",
) -> None:
    """Write the live organization as desired-state files (read only), to start managing what exists."""
    _text_or_json(output_format)
    exporting = export_to(
        out=out,
        org=org,
        force=force,
        merge=merge,
        also=(
            *(("project_rate_limit",) if rate_limits else ()),
            *(("project_role_assignments",) if role_assignments else ()),
        ),
        machine=output_format == "json",
        admin_key_file=admin_key_file,
        base_url=base_url,
        retry_budget=retry_budget,
        projects=tuple(projects or ()),
    )
    raise _Finished(_run(exporting))


# --- helpers -------------------------------------------------------------------------------------------


def _run(coro: Coroutine[Any, Any, int]) -> int:
    """Run a command; any expected error becomes one line on stderr and exit 1."""
    try:
        return asyncio.run(coro)
    except DesiredStateError as exc:
        print_problems(exc)  # under GitHub Actions also annotations, shown on the lines
        print(f"error: the desired state has {len(exc.problems)} problem(s); nothing was sent", file=sys.stderr)
        return EXIT_ERROR
    except DataControlsError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("error: interrupted before any write; nothing was written", file=sys.stderr)
        return EXIT_ERROR
    except asyncio.CancelledError:  # a second Ctrl-C during an apply (commands/interrupts.py)
        print(f"error: {STOPPED_AT_ONCE}", file=sys.stderr)
        return EXIT_ERROR


# Options of the root command that every subcommand honours: they configure logging before it runs, or are
# eager and finish before any subcommand starts (version, shell completion).
_HONOURED_BY_SUBCOMMANDS = frozenset(
    {"log_level", "log_format", "no_color", "version", "install_completion", "show_completion"}
)


_WRITERS = frozenset({"apply", "serve", "demo"})  # subcommands that may write (demo: to its own emulator)


def _given(ctx: typer.Context, *names: str) -> bool:
    """Whether any of these root options was set on the command line or through its environment variable."""
    defaulted = (None, ParameterSource.DEFAULT, ParameterSource.DEFAULT_MAP)
    return any(ctx.get_parameter_source(name) not in defaulted for name in names)


def _refuse_root_options(ctx: typer.Context, subcommand: str) -> None:
    """Exit 1 naming the first root option that `reconcile SUBCOMMAND` would not honour."""
    for param in ctx.command.params:
        if param.name is None or param.name in _HONOURED_BY_SUBCOMMANDS or not _given(ctx, param.name):
            continue
        flag = max(param.opts, key=len)
        if ctx.get_parameter_source(param.name) is ParameterSource.ENVIRONMENT:
            # A variable is set for every command of a pipeline: the subcommands that share the option read
            # it themselves, the others leave it. A dry run is the exception: no command may write under it.
            if param.name == "dry_run" and ctx.params.get("dry_run") and subcommand in _WRITERS:
                _fail(
                    f"{env(flag)} is set, and `reconcile {subcommand}` writes; nothing was done. Unset it to "
                    f"let it write, or run `reconcile --dry-run` to only plan"
                )
            continue
        if param.name == "dry_run" and subcommand == "apply":
            _fail(
                "--dry-run cannot be combined with `reconcile apply`, which writes a saved plan; nothing was "
                "written. To see what it would do, run `reconcile --dry-run` (or read the saved plan)"
            )
        _fail(
            f"{flag} is an option of the plan/apply command, not of `reconcile {subcommand}`; nothing was done. "
            f"Put options after the subcommand (`reconcile {subcommand} --help` lists them)"
        )


def _text_or_json(output_format: str) -> None:
    if output_format not in ("text", "json"):
        _fail(f"--format must be text or json, not {output_format!r}")


def _format(output_format: OutputFormat) -> Format:
    return output_format.value  # the enum values are exactly Format


def _fail(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)
    raise _Finished(EXIT_ERROR)


def main(argv: list[str] | None = None) -> None:
    """Console entry point. A usage error is one line on stderr and exits 1, because 2 means "changes pending"."""
    try:
        code = app(args=argv, prog_name="reconcile", standalone_mode=False)
    except _Finished as finished:
        sys.exit(finished.code)
    except click_exceptions.UsageError as exc:
        hint = f" (see {exc.ctx.command_path} --help)" if exc.ctx is not None else ""
        print(f"error: {redact(exc.format_message())}{hint}", file=sys.stderr)
        sys.exit(EXIT_ERROR)
    except TyperAbort:  # end of input at a prompt
        print("error: interrupted; nothing more was written", file=sys.stderr)
        sys.exit(EXIT_ERROR)
    except click_exceptions.ClickException as exc:
        print(f"error: {redact(exc.format_message())}", file=sys.stderr)
        sys.exit(EXIT_ERROR)
    if code == _INTERRUPTED:  # Ctrl-C outside a command's own handling
        print("error: interrupted; nothing more was written", file=sys.stderr)
        sys.exit(EXIT_ERROR)
    sys.exit(code if isinstance(code, int) else EXIT_OK)
