"""`reconcile demo`: the whole job against an emulated organization, with no key and no network.

The in-process emulator is seeded with `demo_seed.yaml`, an organization that has drifted from the
repository's own `desired_state/`. The demo prints the plan, applies it, and shows that the next plan is
empty. It uses the same engine, client and renderers as a real run; only the HTTP transport differs.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from datacontrols.adminapi import AdminApi
from datacontrols.desired import load_desired_state
from datacontrols.emulator import Emulator
from datacontrols.engine import DEFAULT_REGISTRY, ApplyResult, Registry
from datacontrols.explain import STORE_NOTE
from datacontrols.kinds.api_keys import ProjectApiKeys
from datacontrols.plan import Change, Plan
from datacontrols.ratchet import needing_approval
from datacontrols.reconcile import Intent, reconcile
from datacontrols.render import Format, render

__all__ = ["DEMO_BASE_URL", "demo_desired_state_dir", "demo_seed_path", "run_demo"]

DEMO_BASE_URL = "https://api.openai.com/v1"  # never contacted: requests go to the in-process emulator
_DEMO_KEY = "sk-admin-demo-0000000000000000000000000000"
# The demo organization lives on 2026-11-01 (UTC), so key ages, and so the demo's output, do not depend on
# the day it is run.
DEMO_EPOCH = 1793491200


def demo_clock() -> Callable[[], float]:
    """A clock that starts at DEMO_EPOCH and runs at real speed."""
    started = time.monotonic()
    return lambda: DEMO_EPOCH + (time.monotonic() - started)


def demo_registry(clock: Callable[[], float]) -> Registry:
    """The default kinds, with key hygiene judged against the demo's clock."""
    kinds = tuple(ProjectApiKeys(clock=clock) if isinstance(k, ProjectApiKeys) else k for k in DEFAULT_REGISTRY.project)
    return dataclasses.replace(DEFAULT_REGISTRY, project=kinds)


def demo_seed_path() -> Path:
    return Path(str(resources.files("datacontrols").joinpath("demo_seed.yaml")))


def demo_desired_state_dir() -> Path:
    """The repository's desired_state/ in a source checkout, else the copy packaged with the wheel."""
    checkout = Path(__file__).resolve().parents[2] / "desired_state"
    if (checkout / "organization.yaml").is_file():
        return checkout
    return Path(str(resources.files("datacontrols").joinpath("_desired_state")))


@dataclass(frozen=True)
class DemoRun:
    """What the demo did: the first plan, the apply, the plan right after it."""

    desired_dir: Path
    before: Plan
    result: ApplyResult
    after: Plan
    progress: tuple[str, ...]


async def run_demo_scenario() -> DemoRun:
    """Plan, apply and re-plan the repository's desired state against the drifted demo organization."""
    desired_dir = demo_desired_state_dir()
    desired = load_desired_state(desired_dir)
    clock = demo_clock()
    registry = demo_registry(clock)
    emulator = Emulator(admin_key=_DEMO_KEY, seed=demo_seed_path(), rng_seed=7, clock=clock)
    progress: list[str] = []

    def record(change: Change, outcome: str) -> None:
        progress.append(f"  {outcome:<8} {change.action} {change.kind} ({change.where})")

    reader = AdminApi.connect(
        admin_key=_DEMO_KEY, base_url=DEMO_BASE_URL, read_only=True, http_transport=emulator.http_transport()
    )
    writer = AdminApi.connect(admin_key=_DEMO_KEY, base_url=DEMO_BASE_URL, http_transport=emulator.http_transport())
    async with reader, writer:
        first = await reconcile(reader, desired, registry=registry)
        before = first.plan
        # The plan weakens some controls (the ratchet holds it for a person); the demo is that person, and
        # approves exactly the plan it has shown.
        approved = Intent(apply=True, allow_unsafe=before.digest())
        applied = await reconcile(writer, desired, approved, registry=registry, on_change=record)
        result = applied.result or ApplyResult()
        if applied.refusal is not None:  # the organization moved between the two reads: say so, do not hide it
            progress.append(f"  refused  {applied.refusal.message}")
            result = ApplyResult(skipped=list(before.applicable))
        after = (await reconcile(reader, desired, registry=registry)).plan
    return DemoRun(desired_dir, before, result, after, tuple(progress))


async def run_demo(fmt: Format = "text", *, color: bool = False, out: Callable[[str], None] = print) -> int:
    run = await run_demo_scenario()
    desired_dir, before, result, after, progress = run.desired_dir, run.before, run.result, run.after, run.progress
    converged = result.ok and not after.has_changes
    if fmt == "json":
        out(
            json.dumps(
                {
                    "plan": before.to_json(),
                    "apply": {
                        "applied": len(result.applied),
                        "failed": len(result.failed),
                        "skipped": len(result.skipped),
                    },
                    "plan_after_apply": after.to_json(),
                    "converged": converged,
                },
                indent=2,
                sort_keys=True,
            )
        )
        return 0 if converged else 1

    def heading(title: str) -> str:
        return f"\n## {title}\n" if fmt == "markdown" else f"\n=== {title} ===\n"

    out(
        "openai-datacontrols demo: an emulated organization (no key, no network) that has drifted from\n"
        f"the desired state in {_shown(desired_dir)}.\n"
    )
    out(heading("1. Plan (what reconcile --dry-run shows)"))
    out(render(before, fmt, color=color))
    approvals = len(needing_approval(before))
    if approvals:
        out(
            f"{approvals} change{'s' if approvals != 1 else ''} weaken data controls (listed first). A real run "
            "refuses this plan until a person approves exactly it with\n"
            f"  --allow-unsafe {before.digest()}\nThe demo approves it, as that person would.\n"
        )
    out(heading(f"2. Apply ({len(before.applicable)} changes)"))
    fence = "```\n" if fmt == "markdown" else ""
    out(fence + "\n".join(progress) + "\n" + fence)
    out(
        f"Apply {'complete' if result.ok else 'incomplete'}: {len(result.applied)} applied, "
        f"{len(result.failed)} failed, {len(result.skipped)} skipped.\n"
    )
    out(heading("3. Plan again, right after the apply"))
    out(render(after, fmt, color=color))
    out("\n" + STORE_NOTE)
    return 0 if converged else 1


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return path.name
