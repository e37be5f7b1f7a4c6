"""The guard against a drop in project files: fewer files than expected means something lost one.

A project whose file goes missing is not "deleted" from the desired state in any way the daemon can tell
apart from a project nobody manages: it becomes unmanaged, and with `unmanaged_projects: archive` the next
enforce run archives it (one-way). The safety thresholds only stop bulk archives (two or more, over a
share), so a single lost file in a small organization goes through. The files go missing outside the
tool's sight: a line left out of a hand-written kustomization, a git-sync pointed at the wrong ref, a bad
merge, a ConfigMap edited by hand.

The expectation is a number the operator writes down (`--expect-project-files`, or
`DATACONTROLS_EXPECT_PROJECT_FILES`), next to the desired state but not derived from it: a count produced
by the same step that lists the files would shrink with the list and catch nothing. Only fewer files than
expected is refused; more is fine (a new project must not need two edits to be managed), and removing a
project on purpose means lowering the number in the same change, where a reviewer sees it.

Checked at startup (`reconcile serve` exits 1 with one line) and on every run's read of the desired state
(a drop that arrives while running, e.g. through git-sync, makes the desired state invalid: not ready,
nothing applied).
"""

from __future__ import annotations

from pathlib import Path

from datacontrols.desired.loader import IGNORED_IN_PROJECTS, PROJECT_SUFFIXES, PROJECTS_DIR
from datacontrols.errors import ConfigError

__all__ = ["check_project_files", "count_project_files", "project_files_shortfall"]


def count_project_files(desired_state: Path) -> int:
    """Project files in `desired_state/projects/`, counted as the loader finds them (dotfiles, such as a
    ConfigMap volume's `..data`, and README.md are not project files)."""
    directory = desired_state / PROJECTS_DIR
    if not directory.is_dir():
        return 0
    return sum(
        1
        for entry in directory.iterdir()
        if not entry.name.startswith(".")
        and entry.name not in IGNORED_IN_PROJECTS
        and entry.name.endswith(PROJECT_SUFFIXES)
        and entry.is_file()
    )


def project_files_shortfall(desired_state: Path, expected: int | None) -> str | None:
    """Why the desired state has too few project files, or None when it has enough (or nothing is expected)."""
    if expected is None:
        return None
    found = count_project_files(desired_state)
    if found >= expected:
        return None
    return (
        f"{found} project file{'' if found == 1 else 's'} in {(desired_state / PROJECTS_DIR).as_posix()}, "
        f"fewer than the {expected} expected (--expect-project-files): a missing file would leave its project "
        "unmanaged, or archive it with unmanaged_projects: archive; restore the file, or lower the expectation "
        "in the change that removes the project"
    )


def check_project_files(desired_state: Path, expected: int | None) -> None:
    """Raise ConfigError (one line, the CLI exits 1) when fewer project files are present than expected."""
    shortfall = project_files_shortfall(desired_state, expected)
    if shortfall is not None:
        raise ConfigError(f"refusing to start: {shortfall}")
