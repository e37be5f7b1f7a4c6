"""The options of `reconcile` and its subcommands: each flag, its help, and its `DATACONTROLS_*` variable.

Every option of the plan/apply command can also come from the environment (`--format json` is
`DATACONTROLS_FORMAT=json`, `--dry-run` is `DATACONTROLS_DRY_RUN=1`), so a pipeline can set them once;
a flag on the command line wins. `--help` lists each variable. The subcommands that share an option share
its variable. Two options have none: `--project` and `--exclude-project` take project names, which may hold
spaces, and a list in one variable would be split at them.
"""

from __future__ import annotations

import math
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from datacontrols.adminapi import DEFAULT_BASE_URL
from datacontrols.credentials import BASE_URL_ENV

__all__ = [
    "AdminKeyFileOption",
    "AllowUnsafeOption",
    "AutoApproveOption",
    "BaseDesiredStateOption",
    "BaseUrlOption",
    "DesiredStateOption",
    "DetailedExitcodeOption",
    "DryRunOption",
    "ExcludeProjectsOption",
    "ExportOrgOption",
    "ExportRateLimitsOption",
    "ExportRoleAssignmentsOption",
    "FailOnUncorrectableOption",
    "FormatOption",
    "GitlabReportOption",
    "LogFormatOption",
    "LogLevelOption",
    "NoColorOption",
    "NoRemovalsOption",
    "OrgOption",
    "OutOption",
    "OutputFormat",
    "ProjectsOption",
    "RetryBudgetOption",
    "SecretSinkOption",
    "env",
]


def env(flag: str) -> str:
    """The variable of `--flag-name`: `DATACONTROLS_FLAG_NAME`."""
    return "DATACONTROLS_" + flag.removeprefix("--").replace("-", "_").upper()


class OutputFormat(StrEnum):
    text = "text"
    json = "json"
    markdown = "markdown"


def _finite_budget(value: float) -> float:
    # nan would compare false with every bound (no call would ever give up); inf never ends either.
    if not math.isfinite(value) or value < 0:
        raise typer.BadParameter(f"must be a number of seconds, 0 or more, not {value}")
    return value


def _option(flag: str, help: str, **more: Any) -> Any:
    return typer.Option(flag, help=help, envvar=env(flag), **more)


DryRunOption = Annotated[bool, _option("--dry-run", "Only read and print the plan; never write.")]
DesiredStateOption = Annotated[
    Path | None,
    _option(
        "--desired-state",
        "Directory holding organization.yaml and projects/*.yaml. [desired_state; with --org: orgs/NAME]",
        show_default=False,
    ),
]
OrgOption = Annotated[
    str | None,
    _option("--org", "In a repository of several organizations (orgs/NAME/): the one to read and reconcile."),
]
FormatOption = Annotated[OutputFormat, _option("--format", "How to print the plan.")]
FailOnUncorrectableOption = Annotated[
    bool,
    _option(
        "--fail-on-uncorrectable",
        "Exit 1 when the plan holds a difference the Admin API cannot change (a residency), so a pipeline "
        "fails on it without reading the plan.",
    ),
]
DetailedExitcodeOption = Annotated[
    bool, _option("--detailed-exitcode", "Exit 0 when nothing differs, 2 when changes are pending.")
]
AutoApproveOption = Annotated[bool, _option("--auto-approve", "Apply without asking.")]
AdminKeyFileOption = Annotated[
    Path | None,
    _option("--admin-key-file", "File holding the Admin API key (else OPENAI_ADMIN_KEY).", dir_okay=False),
]
BaseUrlOption = Annotated[
    str | None,
    typer.Option("--base-url", help=f"Admin API base URL (else {DEFAULT_BASE_URL}).", envvar=BASE_URL_ENV),
]
RetryBudgetOption = Annotated[
    float,
    _option("--retry-budget", "Seconds one API call may spend retrying before it fails.", callback=_finite_budget),
]
SecretSinkOption = Annotated[
    Path | None,
    _option(
        "--secret-sink",
        "Directory for the API keys of created service accounts (one file each, mode 0600); without it, "
        "service accounts are created without a key.",
        file_okay=False,
    ),
]
OutOption = Annotated[
    Path | None, _option("--out", "With --dry-run: save the plan for `reconcile apply FILE`.", dir_okay=False)
]
BaseDesiredStateOption = Annotated[
    Path | None,
    _option(
        "--base-desired-state",
        "With --dry-run: the target branch's desired state; show only the changes this one introduces.",
    ),
]
ProjectsOption = Annotated[
    list[str] | None,
    typer.Option("--project", help="Read, plan and apply only this project (repeatable; by name)."),
]
ExcludeProjectsOption = Annotated[
    list[str] | None, typer.Option("--exclude-project", help="Leave this project out (repeatable; by name).")
]
NoRemovalsOption = Annotated[bool, _option("--no-removals", "Report every delete and archive instead of applying it.")]
AllowUnsafeOption = Annotated[
    str | None,
    _option("--allow-unsafe", "Apply this plan (only) even though it exceeds a threshold.", metavar="PLAN_DIGEST"),
]
GitlabReportOption = Annotated[
    Path | None,
    _option("--gitlab-report", "Write GitLab's Terraform report (create/update/delete counts).", dir_okay=False),
]
LogLevelOption = Annotated[str, _option("--log-level", "debug, info, warning or error.")]
LogFormatOption = Annotated[str, _option("--log-format", "auto, json or console.")]
NoColorOption = Annotated[
    bool, _option("--no-color", "No colour in what is printed (the same as NO_COLOR=1; FORCE_COLOR=1 forces it).")
]
# A subcommand's own `--format` (explain, export): text for people, or one JSON document for machines.
TextOrJsonOption = Annotated[
    str, typer.Option("--format", metavar="<text|json>", help="text, or json: one JSON document on stdout.")
]

# export's own choices: where to write in a repository of several organizations, and the kinds it writes
# only when asked, since each later plan then pays their reads.
ExportOrgOption = Annotated[
    str | None,
    typer.Option(
        "--org", help="Write orgs/NAME/ (in a repository of several organizations).", envvar="DATACONTROLS_ORG"
    ),
]
ExportRateLimitsOption = Annotated[
    bool, typer.Option("--rate-limits", help="Also write every project's rate limits (each plan then reads them).")
]
ExportRoleAssignmentsOption = Annotated[
    bool,
    typer.Option(
        "--role-assignments",
        help="Also write each project's role assignments (each plan then reads every listed member's roles).",
    ),
]
