"""Helpers for the GitOps tests: desired-state copies and plan digests. The served emulator and the in-process
CLI runner are the CLI tests' (tests/cli/cli_support.py), reused rather than copied."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from cli_support import (
    ADMIN_KEY,
    DESIRED,
    DIGEST,
    REPO,
    Outcome,
    Served,
    approved_demo_seed,
    run_cli,
    served_emulator,
)

from datacontrols.demo import demo_seed_path
from datacontrols.emulator.seed import read_document

__all__ = [
    "ADMIN_KEY",
    "DESIRED",
    "DIGEST",
    "REPO",
    "Outcome",
    "Served",
    "approved_demo_seed",
    "copy_desired",
    "demo_seed",
    "run_cli",
    "served_emulator",
]


def copy_desired(tmp_path: Path, name: str = "desired") -> Path:
    target = tmp_path / name
    shutil.copytree(DESIRED, target)
    return target


def demo_seed() -> dict[str, Any]:
    plain: dict[str, Any] = json.loads(json.dumps(read_document(demo_seed_path())))
    return plain
