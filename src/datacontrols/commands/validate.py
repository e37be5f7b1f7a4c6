"""`reconcile validate`: the desired-state files checked offline, one organization or (`--all-orgs`) every one.

`--all-orgs` goes on past an organization with problems, so one pull-request check lists every problem of
every organization, and exits 1 if any had one.
"""

from __future__ import annotations

import sys
from pathlib import Path

from datacontrols.cioutput import github_annotations
from datacontrols.desired import load_desired_state, print_warnings
from datacontrols.desired.schema import DesiredState
from datacontrols.errors import ConfigError, DesiredStateError
from datacontrols.orgs import all_organizations, pick_desired_state
from datacontrols.redaction import redact

__all__ = ["describe", "print_problems", "validate"]

EXIT_OK, EXIT_ERROR = 0, 1


async def validate(desired_state: Path | None, org: str | None, *, all_orgs: bool = False) -> int:
    if not all_orgs:
        directory = pick_desired_state(desired_state, org)
        desired = load_desired_state(directory)
        print_warnings(desired)
        print(f"{directory}: valid ({describe(desired)})")
        return EXIT_OK
    if org is not None or desired_state is not None:
        given = "--org" if org is not None else "--desired-state"
        raise ConfigError(f"--all-orgs checks every organization under orgs/; it cannot be combined with {given}")
    failed: list[str] = []
    for name, directory in all_organizations():
        try:
            desired = load_desired_state(directory)
        except DesiredStateError as exc:
            print_problems(exc)
            failed.append(name)
            continue
        except ConfigError as exc:
            print(f"error: {exc.message}", file=sys.stderr)
            failed.append(name)
            continue
        print_warnings(desired)
        print(f"{directory.as_posix()}: valid ({describe(desired)})")
    if failed:
        print(f"error: {len(failed)} organization(s) have problems: {', '.join(failed)}", file=sys.stderr)
        return EXIT_ERROR
    return EXIT_OK


def print_problems(exc: DesiredStateError) -> None:
    """Each problem on its own line (and, under GitHub Actions, as an annotation on the file's line)."""
    for problem in exc.problems:
        print(redact(str(problem)), file=sys.stderr)
    for annotation in github_annotations(exc.problems):
        print(annotation, flush=True)


def describe(desired: DesiredState) -> str:
    count = len(desired.projects)
    return f"organization settings and {count} project{'s' if count != 1 else ''}"
