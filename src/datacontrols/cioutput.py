"""Output for pipelines: GitHub Actions annotations and step summary, and GitLab's Terraform report.

- **Step summary.** When `GITHUB_STEP_SUMMARY` names a file and the plan is printed as markdown, the same
  markdown is appended to that file, so the plan shows on the run's summary page. GitHub refuses a step's
  summary over 1 MiB; what does not fit is cut at a line boundary and a note says so.
- **Annotations.** Under GitHub Actions (`GITHUB_ACTIONS=true`) each desired-state problem is also printed to
  stdout as a workflow command, `::error file=PATH,line=L,col=C,title=desired state::FIELD: MESSAGE`, so the
  pull request shows it on the offending line. Values are escaped as the runner expects: `%`, CR and LF in
  the message; also `:` and `,` in the properties.
- **GitLab report** (`--gitlab-report FILE`). `{"create": N, "update": N, "delete": N}`, the format of
  `artifacts: reports: terraform:` that draws the merge-request widget. It counts the changes an apply would
  make: `create` and `update` as themselves, `delete` and `archive` as delete (an archive takes a project
  away; the widget has no other word for it). Held-back, uncorrectable and report changes are not counted.
  Written for dry runs and for applies (the counts of the plan that was applied).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Final

from datacontrols.errors import ConfigError, Problem
from datacontrols.files import write_text_atomically
from datacontrols.plan import Plan
from datacontrols.redaction import redact

__all__ = [
    "STEP_SUMMARY_LIMIT",
    "append_step_summary",
    "github_annotation",
    "github_annotations",
    "gitlab_report",
    "running_on_github",
    "write_gitlab_report",
]

STEP_SUMMARY_LIMIT: Final = 1024 * 1024  # bytes per step; GitHub drops a larger summary
_CUT_NOTE: Final = "\n\n_The plan was cut here: a step summary is limited to 1 MiB. See the job log._\n"


def running_on_github(env: Mapping[str, str] | None = None) -> bool:
    return (env if env is not None else os.environ).get("GITHUB_ACTIONS", "").lower() == "true"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github_annotation(problem: Problem, title: str = "desired state") -> str:
    """One `::error` workflow command for a positioned problem."""
    properties = ",".join(
        f"{name}={_escape_property(value)}"
        for name, value in (
            ("file", problem.path),
            ("line", str(problem.line)),
            ("col", str(problem.col)),
            ("title", title),
        )
    )
    message = f"{problem.field}: {problem.message}" if problem.field else problem.message
    return f"::error {properties}::{_escape_data(redact(message))}"


def github_annotations(problems: Iterable[Problem], env: Mapping[str, str] | None = None) -> list[str]:
    """The annotations to print, or none when not running under GitHub Actions."""
    if not running_on_github(env):
        return []
    return [github_annotation(problem) for problem in problems]


def append_step_summary(markdown: str, env: Mapping[str, str] | None = None) -> bool:
    """Append to `$GITHUB_STEP_SUMMARY` when it is set; False when it is not. Respects the 1 MiB cap."""
    target = (env if env is not None else os.environ).get("GITHUB_STEP_SUMMARY")
    if not target:
        return False
    path = Path(target)
    try:
        used = path.stat().st_size if path.exists() else 0
        text = markdown if markdown.endswith("\n") else markdown + "\n"
        data = text.encode("utf-8")
        room = STEP_SUMMARY_LIMIT - used
        if len(data) > room:
            data = _cut(data, room - len(_CUT_NOTE.encode("utf-8")))
        if data:
            with path.open("ab") as summary:
                summary.write(data)
    except OSError as exc:
        raise ConfigError(f"cannot append to GITHUB_STEP_SUMMARY ({target}): {exc.strerror or exc}") from None
    return True


def _cut(data: bytes, room: int) -> bytes:
    """At most `room` bytes of `data`, ending at a line boundary, followed by the cut note; b"" if no room."""
    if room <= 0:
        return b""
    head = data[:room]
    newline = head.rfind(b"\n")
    head = head[: newline + 1] if newline >= 0 else head.decode("utf-8", "ignore").encode("utf-8")
    return head + _CUT_NOTE.encode("utf-8")


def gitlab_report(plan: Plan) -> dict[str, int]:
    """GitLab's Terraform report: what an apply would create, update and delete (archives count as delete)."""
    counts = {"create": 0, "update": 0, "delete": 0}
    for change in plan.applicable:
        counts["delete" if change.action == "archive" else change.action] += 1
    return counts


def write_gitlab_report(path: Path, plan: Plan) -> None:
    # Through a fresh temporary file and a rename: a link planted at the path is replaced, never written through.
    write_text_atomically(path, json.dumps(gitlab_report(plan)) + "\n", f"--gitlab-report {path}")
