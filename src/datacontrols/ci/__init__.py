"""The pipeline scripts that ship with the package: the shared core (reconcile.sh) and the GitLab CI/CD
component's job script (gitlab.sh). A GitLab component brings only its YAML into the including project, so
its jobs reach these through the installed package (`python -m datacontrols.ci gitlab COMMAND`); the GitHub
Action sources the same core from its own checkout."""

from __future__ import annotations

from pathlib import Path

SCRIPTS = ("gitlab",)


def script(name: str) -> Path:
    """The path of a shipped pipeline script, by its name without `.sh`."""
    if name not in SCRIPTS:
        raise ValueError(f"no pipeline script named {name!r}: one of {', '.join(SCRIPTS)}")
    return Path(__file__).with_name(f"{name}.sh")
