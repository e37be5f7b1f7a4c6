"""`reconcile` and `reconcile --dry-run`: load, check, connect, run the one reconcile, print, exit code.

The options are the CLI's; this is what they do. Exit codes: 0 done (with --detailed-exitcode: nothing
differs), 2 changes pending (dry run with --detailed-exitcode), 1 any error, including a dry run whose plan
apply would refuse.
"""

from __future__ import annotations

import dataclasses
import functools
import sys
from pathlib import Path
from typing import Any

from datacontrols.adminapi import AdminApi, RetryPolicy
from datacontrols.commands.interrupts import GracefulStop
from datacontrols.commands.sink_report import missing_sink_keys
from datacontrols.commands.terminal import color as _color
from datacontrols.commands.terminal import confirm as _confirm
from datacontrols.commands.terminal import emit as _emit
from datacontrols.commands.terminal import print_progress as _print_progress
from datacontrols.commands.terminal import print_result as _print_result
from datacontrols.commands.terminal import report_read_failures as _report_read_failures
from datacontrols.credentials import load_admin_key
from datacontrols.desired import load_desired_state, print_warnings
from datacontrols.engine import DEFAULT_REGISTRY, ApplyResult, Registry
from datacontrols.gitops import Delivery, resolve_base_url
from datacontrols.kinds.service_accounts import with_secret_sink
from datacontrols.orgs import admin_key_variable, pick_desired_state
from datacontrols.present import render_outcome
from datacontrols.reconcile import Outcome
from datacontrols.reconcile import reconcile as run_reconcile
from datacontrols.render import Format
from datacontrols.secretsink import check_sink

__all__ = ["EXIT_CHANGES", "EXIT_ERROR", "EXIT_OK", "plan_or_apply", "registry_for"]

EXIT_OK, EXIT_ERROR, EXIT_CHANGES = 0, 1, 2


def registry_for(secret_sink: Path | None) -> Registry:
    """The default kinds, with the service-account kind writing created keys to `secret_sink` (None: no keys)."""
    return dataclasses.replace(DEFAULT_REGISTRY, project=with_secret_sink(DEFAULT_REGISTRY.project, secret_sink))


async def plan_or_apply(
    *,
    dry_run: bool,
    desired_dir: Path | None,
    output_format: Format,
    detailed_exitcode: bool,
    auto_approve: bool,
    admin_key_file: Path | None,
    base_url: str | None,
    retry_budget: float,
    secret_sink: Path | None = None,
    delivery: Delivery | None = None,
    fail_on_uncorrectable: bool = False,
    org: str | None = None,
) -> int:
    delivery = delivery or Delivery()
    delivery.check(dry_run=dry_run)
    desired_dir = pick_desired_state(desired_dir, org)  # --org NAME: orgs/NAME/, checked against its siblings
    desired = load_desired_state(desired_dir)  # before the key: bad files fail without any request
    print_warnings(desired)
    base = delivery.load_base()  # the pull-request view's target branch, if any
    if secret_sink is not None and not dry_run:
        check_sink(secret_sink)  # an unusable sink fails before any request, not after an account exists
    registry = registry_for(secret_sink)
    key = load_admin_key(admin_key_file, admin_key_variable(desired))
    url = resolve_base_url(base_url)
    # The dry run gets a client that cannot send anything but GET: a different object, not a flag.
    retry = RetryPolicy(budget_seconds=retry_budget)
    options = delivery.connect_options()
    color = output_format == "text" and _color(sys.stdout)
    # With --format json stdout is exactly one JSON document: an apply's plan waits for its result, and the
    # progress and the summary lines go to stderr.
    machine = output_format == "json"
    saved = EXIT_OK

    def rendered_for(outcome: Outcome, result: ApplyResult | None = None) -> str:
        extra: dict[str, Any] = {"project_ids": outcome.project_ids} if machine else {}
        if result is not None:
            extra["result"] = result.to_json()
        return render_outcome(
            outcome.shown,
            outcome.refusal,
            output_format,
            view=outcome.view,
            color=color,
            not_read=outcome.not_read_note,
            extra=extra,
        )

    async def review(outcome: Outcome) -> bool:
        nonlocal saved
        rendered = rendered_for(outcome)
        applying = not dry_run and bool(outcome.plan.applicable) and outcome.refusal is None
        if not (machine and applying):
            _emit(rendered)
        _report_read_failures(outcome.read_failures)
        if secret_sink is not None:
            for warning in missing_sink_keys(outcome.desired, outcome.observed, secret_sink):
                print(f"warning: {warning}", file=sys.stderr)
        saved = delivery.publish(outcome, output_format, rendered, base_url=url, dry_run=dry_run)
        if not applying:
            return False  # a refused plan is refused before anyone is asked to confirm it
        if outcome.unpinned:
            print(f"warning: {outcome.unpinned}", file=sys.stderr)
        approved = auto_approve or _confirm(outcome.plan)
        if machine and not approved:
            _emit(rendered)
        return approved

    intent = delivery.intent(desired, apply=not dry_run, base=base)
    stop = GracefulStop()
    try:
        async with AdminApi.connect(admin_key=key, base_url=url, read_only=dry_run, retry=retry, **options) as api:
            outcome = await run_reconcile(
                api,
                desired,
                intent,
                registry=registry,
                review=review,
                on_change=functools.partial(_print_progress, stream=sys.stderr if machine else sys.stdout),
                stopping=stop.stopping,
                on_phase=stop.on_phase,
            )
    finally:
        stop.uninstall()
    failures = bool(outcome.read_failures)
    if fail_on_uncorrectable and (stuck := [c for c in outcome.shown if c.action == "uncorrectable"]):
        failures = True  # after the apply of the rest, if any: the Admin API cannot change these
        what = "; ".join(f"{c.kind} for {c.where}" for c in stuck[:5]) + ("; ..." if len(stuck) > 5 else "")
        print(
            f"error: {len(stuck)} difference(s) the Admin API cannot change ({what}): change the desired state "
            "to match, or the organization by hand (--fail-on-uncorrectable)",
            file=sys.stderr,
        )
    if dry_run:
        if failures or saved != EXIT_OK or outcome.refusal is not None:
            return EXIT_ERROR  # apply would refuse this plan: fail now, in the pull request, not after the merge
        return EXIT_CHANGES if detailed_exitcode and outcome.shown.has_changes else EXIT_OK
    if not outcome.plan.applicable:
        return EXIT_ERROR if failures else EXIT_OK
    if outcome.refusal is not None:
        print(f"error: {outcome.refusal.message}", file=sys.stderr)
        return EXIT_ERROR
    if outcome.result is None:  # declined at the prompt: it said why
        return EXIT_ERROR
    result = outcome.result
    if machine:
        _emit(rendered_for(outcome, result))
    _print_result(result, stream=sys.stderr if machine else sys.stdout)
    if stop.report(result):
        return EXIT_ERROR
    return EXIT_OK if result.ok and not failures else EXIT_ERROR
