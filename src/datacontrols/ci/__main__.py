"""`python -m datacontrols.ci gitlab COMMAND`: run a shipped pipeline script under bash, in place of this
process (its exit code is the job's)."""

from __future__ import annotations

import os
import shutil
import sys

from datacontrols.ci import SCRIPTS, script


def main(argv: list[str]) -> None:
    if not argv or argv[0] not in SCRIPTS:
        print(f"usage: python -m datacontrols.ci {{{','.join(SCRIPTS)}}} COMMAND", file=sys.stderr)
        raise SystemExit(1)
    bash = shutil.which("bash")
    if bash is None:
        print("error: the pipeline scripts need bash, which is not on PATH", file=sys.stderr)
        raise SystemExit(1)
    os.execv(bash, [bash, str(script(argv[0])), *argv[1:]])


if __name__ == "__main__":
    main(sys.argv[1:])
