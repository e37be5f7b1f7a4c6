"""The GitOps side of a run: reviewed plans, the pull-request view, safety flags and pipeline output.

`cli.py` owns the commands and their flags; this module owns what those flags do, so that the command
bodies stay short:

    reconcile --dry-run [--out plan.json] [--base-desired-state DIR] [--no-removals]
              [--gitlab-report FILE] [--format markdown]           -> `Delivery.intent` / `publish`
    reconcile --auto-approve [--no-removals] [--allow-unsafe DIGEST] -> `Delivery.intent`
    reconcile apply plan.json [--max-plan-age 1h] [--allow-unsafe DIGEST] -> `apply_saved_plan`
    reconcile export --out DIR [--force]                                -> `export_to`

Exit codes stay trustworthy on every path: a stale or refused plan, a failed apply, a plan that could not
be saved, or a read that failed are exit 1, never 0 (`EXIT_*` below match `cli.py`).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import httpx

from datacontrols.adminapi import DEFAULT_BASE_URL, AdminApi, RetryPolicy
from datacontrols.adminapi.read_cache import ReadCache
from datacontrols.credentials import ADMIN_KEY_ENV, BASE_URL_ENV, check_base_url, load_admin_key
from datacontrols.desired import load_desired_state, print_warnings
from datacontrols.desired.schema import DesiredState
from datacontrols.engine import DEFAULT_REGISTRY, ApplyResult, OnChange, Registry
from datacontrols.errors import ConfigError, DataControlsError, DesiredStateError
from datacontrols.orgs import admin_key_variable, declared_identity, pick_desired_state, pick_export_dir
from datacontrols.plan import Plan
from datacontrols.planfile import (
    DEFAULT_MAX_PLAN_AGE,
    make_saved_plan,
    moved,
    read_saved_plan,
    write_saved_plan,
)
from datacontrols.present import render_outcome
from datacontrols.reconcile import Intent, Outcome, PhaseHook, reconcile
from datacontrols.render import Format
from datacontrols.target import select

if TYPE_CHECKING:
    from datacontrols.export import ExportResult

__all__ = ["Delivery", "apply_saved_plan", "export_to", "publish_outputs", "resolve_base_url"]

EXIT_OK, EXIT_ERROR = 0, 1
_MAX_CONNECTIONS: Final = 8  # as the transport's default


def resolve_base_url(base_url: str | None) -> str:
    """--base-url, else DATACONTROLS_BASE_URL, else the real API (never OPENAI_BASE_URL: see credentials);
    checked (`check_base_url`) before any key is sent."""
    return check_base_url(base_url or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL)


def _now() -> datetime:
    return datetime.now(UTC)


def _error(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)


def _warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


@dataclass(frozen=True)
class Delivery:
    """The GitOps flags of the root command."""

    out: Path | None = None
    base_desired_state: Path | None = None
    no_removals: bool = False
    allow_unsafe: str | None = None
    gitlab_report: Path | None = None
    projects: tuple[str, ...] = ()  # --project
    exclude_projects: tuple[str, ...] = ()  # --exclude-project

    def check(self, *, dry_run: bool) -> None:
        """Flag combinations that make no sense, refused before anything is read."""
        if self.out is not None and not dry_run:
            raise ConfigError("--out saves a plan for review: use it with --dry-run, then `reconcile apply FILE`")
        if self.base_desired_state is not None and not dry_run:
            raise ConfigError("--base-desired-state is for pull-request plans: use it with --dry-run")

    def load_base(self) -> DesiredState | None:
        """The target branch's desired state; when it does not load, every change counts as the PR's."""
        if self.base_desired_state is None:
            return None
        try:
            return load_desired_state(self.base_desired_state)
        except DesiredStateError as exc:
            _warn(
                f"--base-desired-state {self.base_desired_state} has {len(exc.problems)} problem(s) (first: "
                f"{exc.problems[0] if exc.problems else '?'}); every change is shown as this pull request's"
            )
        except ConfigError as exc:
            _warn(f"{exc.message}; every change is shown as this pull request's")
        return DesiredState()

    def connect_options(self) -> dict[str, Any]:
        """The PR view observes twice: the second reading is answered from the first (each thing read once)."""
        if self.base_desired_state is None:
            return {}
        limits = httpx.Limits(max_connections=_MAX_CONNECTIONS, max_keepalive_connections=_MAX_CONNECTIONS)
        return {"http_transport": ReadCache(httpx.AsyncHTTPTransport(limits=limits))}

    def intent(self, desired: DesiredState, *, apply: bool, base: DesiredState | None = None) -> Intent:
        """What these flags ask of the run; a `--project` naming no project of `desired` is a ConfigError."""
        return Intent(
            apply=apply,
            no_removals=self.no_removals,
            allow_unsafe=self.allow_unsafe,
            base=base,
            target=select(desired, self.projects, self.exclude_projects),
        )

    def publish(self, outcome: Outcome, fmt: Format, rendered: str, *, base_url: str, dry_run: bool) -> int:
        """Step summary, GitLab report, refusal and saved plan; EXIT_ERROR when the plan was not saved."""
        publish_outputs(fmt, rendered, outcome.plan, self.gitlab_report)
        if dry_run and outcome.refusal is not None:
            _error(outcome.refusal.summary())
        if self.out is None:
            return EXIT_OK
        if outcome.read_failures:
            _error(f"the plan was not saved to {self.out}: some projects could not be read, so it is incomplete")
            return EXIT_ERROR
        saved = make_saved_plan(
            outcome.desired,
            outcome.observed,
            outcome.plan,
            base_url=base_url,
            created_at=_now(),
            no_removals=self.no_removals,
            target=outcome.target,
        )
        write_saved_plan(self.out, saved)
        print(
            f"Plan saved to {self.out} (digest {saved.plan_digest}). Apply exactly this plan with: "
            f"reconcile apply {self.out}",
            file=sys.stderr,
        )
        return EXIT_OK


def publish_outputs(fmt: Format, rendered: str, plan: Plan, gitlab_report: Path | None) -> None:
    from datacontrols.cioutput import append_step_summary, write_gitlab_report

    if fmt == "markdown":
        append_step_summary(rendered)
    if gitlab_report is not None:
        write_gitlab_report(gitlab_report, plan)


async def apply_saved_plan(
    *,
    plan_file: Path,
    desired_dir: Path | None,
    admin_key_file: Path | None,
    base_url: str | None,
    retry_budget: float,
    registry: Registry = DEFAULT_REGISTRY,
    max_age: timedelta = DEFAULT_MAX_PLAN_AGE,
    allow_unsafe: str | None = None,
    output_format: Format = "text",
    color: bool = False,
    gitlab_report: Path | None = None,
    emit: Callable[[str], None] = print,
    on_change: OnChange | None = None,
    on_result: Callable[[ApplyResult], None] | None = None,
    stopping: asyncio.Event | None = None,
    on_phase: PhaseHook | None = None,
    org: str | None = None,
) -> int:
    """`reconcile apply PLAN`: re-read, re-plan, and apply only if nothing moved since the plan was saved.

    `stopping` and `on_phase` go to `reconcile` (an interrupt during the apply finishes the writes in flight)."""
    saved = read_saved_plan(plan_file)
    desired = load_desired_state(pick_desired_state(desired_dir, org))
    print_warnings(desired)
    key = load_admin_key(admin_key_file, admin_key_variable(desired))
    url = resolve_base_url(base_url)
    stale: list[str] = []

    def rendered_for(outcome: Outcome, result: ApplyResult | None = None) -> str:
        extra: dict[str, Any] = {"project_ids": outcome.project_ids} if output_format == "json" else {}
        if result is not None:
            extra["result"] = result.to_json()
        plan, refusal, not_read = outcome.plan, outcome.refusal, outcome.not_read_note
        return render_outcome(plan, refusal, output_format, color=color, not_read=not_read, extra=extra)

    async def review(outcome: Outcome) -> bool:
        lines = moved(
            saved,
            desired=desired,
            observed=outcome.observed,
            plan=outcome.plan,
            base_url=url,
            now=_now(),
            max_age=max_age,
        )
        if lines:
            stale.extend(lines)
            return False
        rendered = rendered_for(outcome)
        if not (output_format == "json" and outcome.plan.applicable and outcome.refusal is None):
            emit(rendered)  # else the one JSON document waits for the apply's result
        publish_outputs(output_format, rendered, outcome.plan, gitlab_report)
        if outcome.unpinned and outcome.plan.applicable:
            print(f"warning: {outcome.unpinned}", file=sys.stderr)
        return True

    intent = Intent(apply=True, no_removals=saved.no_removals, allow_unsafe=allow_unsafe, target=saved.target)
    async with AdminApi.connect(admin_key=key, base_url=url, retry=RetryPolicy(budget_seconds=retry_budget)) as api:
        outcome = await reconcile(
            api,
            desired,
            intent,
            registry=registry,
            review=review,
            on_change=on_change,
            stopping=stopping,
            on_phase=on_phase,
        )
    if stale:
        for line in stale:
            _error(f"saved plan is stale: {line}")
        _error(
            f"refusing to apply {plan_file}: {len(stale)} thing(s) moved since the plan was made; nothing was "
            "written. Plan again (reconcile --dry-run --out FILE), review, and apply the new plan"
        )
        return EXIT_ERROR
    if not outcome.plan.applicable:
        print("Nothing to apply: the saved plan has no change to make.", file=sys.stderr)
        return EXIT_OK
    if outcome.refusal is not None:
        _error(outcome.refusal.message)
        return EXIT_ERROR
    result = outcome.result or ApplyResult()
    if output_format == "json":
        emit(rendered_for(outcome, result))
    if on_result is not None:
        on_result(result)
    return EXIT_OK if result.ok else EXIT_ERROR


async def export_to(
    *,
    out: Path | None,
    org: str | None = None,
    force: bool,
    merge: bool = False,
    also: Sequence[str] = (),
    machine: bool = False,
    admin_key_file: Path | None,
    base_url: str | None,
    retry_budget: float,
    projects: Sequence[str] = (),
) -> int:
    """`reconcile export --out DIR [--project NAME]`: the live organization (or those projects) as files."""
    from datacontrols.export import check_target, export_organization

    out = pick_export_dir(out, org)  # --org NAME: orgs/NAME/
    check_target(out, force=force, adding=bool(projects), merge=merge)  # before the key and any request
    key = load_admin_key(admin_key_file, declared_identity(out).admin_key_env or ADMIN_KEY_ENV)
    retry = RetryPolicy(budget_seconds=retry_budget)
    async with AdminApi.connect(admin_key=key, base_url=resolve_base_url(base_url), read_only=True, retry=retry) as api:
        try:
            result = await export_organization(api, out, force=force, merge=merge, only=projects, also=also)
        except DesiredStateError as exc:  # what was written does not load: a bug of an exporter
            raise DataControlsError(f"the exported files do not load, which is a bug: {exc.message}") from None
    count = len(result.written) - (0 if projects else 1)
    if machine:  # one JSON document on stdout, the notes in it
        print(json.dumps(_export_summary(out, result, count), indent=2, ensure_ascii=False))
        return EXIT_OK
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    what = "" if projects else "the organization and "
    print(f"Exported {what}{count} project{'s' if count != 1 else ''} to {out}:")
    for path in result.written:
        print(f"  {path.relative_to(out).as_posix()}")
    return EXIT_OK


def _export_summary(out: Path, result: ExportResult, projects: int) -> dict[str, object]:
    return {
        "out": str(out),
        "projects": projects,
        "written": [path.relative_to(out).as_posix() for path in result.written],
        "schemas": [path.relative_to(out).as_posix() for path in result.schemas],
        "notes": result.notes,
    }
