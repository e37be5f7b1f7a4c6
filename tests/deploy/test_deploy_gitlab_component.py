"""The GitLab CI/CD component (templates/openai-datacontrols.yml) and the example pipeline that includes it:
both match GitLab's schema, inputs are interpolated only outside scripts, and each job's script is run under
bash, as a runner runs it, in a real git repository with a target branch on its `origin`, with a stand-in
`reconcile` and a loopback stand-in of the GitLab notes API, for each exit code."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from deploy_support import CHECK_JSONSCHEMA, GITLAB_PIPELINE, REPO, load_yaml, require_bash, uvx
from gitlab_support import (
    COMPONENT,
    CORE_SCRIPT,
    INTERPOLATION,
    JOB_SCRIPT,
    NOTE_MARKER,
    FakeGitLab,
    documents,
    fake_gitlab,
    git,
    inputs,
    job,
    rendered,
    run_job,
)

import datacontrols

PREFIX = "datacontrols-"
PLAN = "### openai-datacontrols plan: 1 to change\n\n~ project_hosted_tools (project 'Support Bot')\n"
TOKEN = "glpat-test-token-0123456789"
KEY = "sk-admin-gitlab-test-0123456789abcdef"

# For the install: `python -m venv DIR` makes DIR/bin with a recording `python` and a `reconcile --version`.
STAND_IN_PYTHON = r"""#!/usr/bin/env bash
printf 'python %s\n' "$*" >> "$STUB_LOG"
if [ "$1 $2" = "-m venv" ]; then
  mkdir -p "$3/bin"
  printf '#!/usr/bin/env bash\nprintf "venv-python %%s\\n" "$*" >> "$STUB_LOG"\n' > "$3/bin/python"
  printf '#!/usr/bin/env bash\necho "openai-datacontrols 0.1.0 (in the venv)"\n' > "$3/bin/reconcile"
  chmod +x "$3/bin/python" "$3/bin/reconcile"
fi
"""

STAND_IN_RECONCILE = r"""#!/usr/bin/env bash
# Records its arguments and the base's organization.yaml; writes --out and --gitlab-report; exits as told.
printf '%s\n' "$*" >> "$STUB_LOG"
previous=""
for arg in "$@"; do
  case "$previous" in
    --out) printf '{"format_version": 1}\n' > "$arg" ;;
    --gitlab-report) printf '{"create": 0, "update": 1, "delete": 0}\n' > "$arg" ;;
    --base-desired-state) cat "$arg/organization.yaml" >> "$STUB_BASE" ;;
  esac
  previous="$arg"
done
cat "$STUB_STDOUT"
printf 'error: the stand-in says why\n' >&2
exit "$STUB_EXIT"
"""


# --- the YAML ---------------------------------------------------------------------------------------------


def test_the_component_and_the_example_match_gitlabs_schema(tmp_path: Path) -> None:
    # check-jsonschema reads one YAML document a file: the header and the jobs are checked apart.
    header, body = documents()
    (tmp_path / "header.yml").write_text(header)
    (tmp_path / "jobs.yml").write_text(body)
    run = uvx(
        CHECK_JSONSCHEMA,
        "check-jsonschema",
        "--builtin-schema",
        "vendor.gitlab-ci",
        tmp_path / "header.yml",
        tmp_path / "jobs.yml",
        GITLAB_PIPELINE,
    )
    assert run.returncode == 0, run.output
    assert set(load_yaml(header)) == {"spec"}


# Where the component interpolates: names, and values GitLab reads as data. Never a script.
INTERPOLATED_KEYS = {"stage", "image", "extends", "needs", "job", "name", "resource_group", "variables"}


def _interpolated_paths(node: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if INTERPOLATION.search(str(key)):
                yield (*path, str(key), "<job name>")
            yield from _interpolated_paths(value, (*path, str(key)))
    elif isinstance(node, list):
        for item in node:
            yield from _interpolated_paths(item, path)
    elif INTERPOLATION.search(str(node)):
        yield path


def test_every_input_is_declared_described_used_and_never_inside_a_script() -> None:
    declared = inputs()
    _, body = documents()
    used = set(INTERPOLATION.findall(body))
    assert used == set(declared), (
        f"declared, not used: {set(declared) - used}; used, not declared: {used - set(declared)}"
    )
    for name, spec in declared.items():
        assert spec.get("description"), name
        assert "default" in spec, f"{name}: every input has a default, so `include:` alone works"
    for path in _interpolated_paths(load_yaml(body)):
        where = path[1:]
        assert where and not {"script", "before_script", "after_script"} & set(where), path
        assert where == ("<job name>",) or where[0] in INTERPOLATED_KEYS or where[:2] == ("environment", "name"), path
    for name, spec in rendered().items():
        for part in ("before_script", "script"):
            assert "$[[" not in "\n".join(spec.get(part, [])), name


def test_no_script_prints_a_secret() -> None:
    # A line that prints may name a secret (to say how to set it), never read its value.
    secrets = ("OPENAI_ADMIN_KEY", "DATACONTROLS_GITLAB_TOKEN", "CI_JOB_TOKEN")
    value = re.compile(rf"\$\{{?({'|'.join(secrets)})\b|environ\[[\'\"]({'|'.join(secrets)})")
    lines = [
        line for spec in rendered().values() for part in ("before_script", "script") for line in spec.get(part, [])
    ]
    lines += JOB_SCRIPT.read_text().splitlines() + CORE_SCRIPT.read_text().splitlines()
    printing = [line for line in lines if re.search(r"\b(echo|printf|print|cat)\b", line)]
    assert printing
    for line in printing:
        assert not value.search(line), line
    assert value.search('headers = {"PRIVATE-TOKEN": os.environ["DATACONTROLS_GITLAB_TOKEN"]}'), "the check finds one"


def test_the_jobs_and_where_each_key_lives() -> None:
    names = [name for name in rendered() if not name.startswith(".")]
    assert names == [f"{PREFIX}{name}" for name in ("validate", "plan", "plan-main", "apply", "drift")]
    validate, plan, main, apply, drift = (job(name) for name in names)
    assert "environment" not in validate, "validate is offline: no key"
    assert plan["rules"] == [{"if": '$CI_PIPELINE_SOURCE == "merge_request_event"'}]
    assert plan["variables"]["DC_BASE_BRANCH"] == "$CI_MERGE_REQUEST_TARGET_BRANCH_NAME"
    for planning in (plan, main, drift):
        assert planning["environment"] == {"name": "openai-organization-plan", "action": "prepare"}
    assert plan["artifacts"]["reports"] == {"terraform": "gl-plan.json"} and plan["artifacts"]["when"] == "always"
    assert main["variables"]["DC_SAVE_PLAN"] == "true"
    assert main["artifacts"]["reports"]["dotenv"] == "datacontrols.env" and "plan.json" in main["artifacts"]["paths"]
    assert apply["needs"] == [{"job": f"{PREFIX}plan-main", "artifacts": True}]
    assert apply["environment"] == {"name": "openai-organization"}
    assert apply["resource_group"] == "openai-organization"
    assert apply["variables"]["DC_MAX_PLAN_AGE"] == "24h"
    assert drift["rules"] == [{"if": '$CI_PIPELINE_SOURCE == "schedule"'}]
    assert drift["variables"]["DC_FAIL_ON_CHANGES"] == "true"
    assert validate["rules"] == [
        {"if": '$CI_PIPELINE_SOURCE == "merge_request_event"'},
        {"if": "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH"},
    ]
    assert plan["needs"] == main["needs"] == [f"{PREFIX}validate"]
    # The job prefix renames every job and every reference to one.
    other = rendered(**{"job-prefix": "org2-"})
    assert {name for name in other if not name.startswith(".")} == {n.replace(PREFIX, "org2-") for n in names}
    assert other["org2-apply"]["needs"] == [{"job": "org2-plan-main", "artifacts": True}]


def test_the_example_includes_the_component_at_the_release_the_component_installs() -> None:
    version = datacontrols.__version__
    pipeline = load_yaml(GITLAB_PIPELINE.read_text())
    (included,) = pipeline["include"]
    assert included["component"] == f"$CI_SERVER_FQDN/YOUR-ORG/openai-datacontrols/openai-datacontrols@{version}"
    assert set(included.get("inputs", {})) <= set(inputs())
    assert inputs()["package"]["default"] == f"openai-datacontrols=={version}"
    assert "grep" not in GITLAB_PIPELINE.read_text(), "uncorrectable drift is --fail-on-uncorrectable's, not a grep's"
    # GitLab finds a component at templates/<name>.yml; its name is the include's last path part.
    assert REPO / "templates" / f"{included['component'].rsplit('/', 1)[1].split('@')[0]}.yml" == COMPONENT


def test_every_flag_the_job_script_passes_exists_in_the_cli() -> None:
    import typer.main

    from datacontrols.cli import app

    group = typer.main.get_command(app)
    known = {opt for param in group.params for opt in getattr(param, "opts", [])}
    for name in ("apply", "validate"):
        known |= {opt for param in group.commands[name].params for opt in getattr(param, "opts", [])}  # type: ignore[attr-defined]
    flags = set(re.findall(r"(?<![\w-])--[a-z][a-z-]+", JOB_SCRIPT.read_text())) - {"--quiet", "--no-tags", "--depth"}
    assert "--gitlab-report" in flags
    assert flags <= known, sorted(flags - known)


# --- the jobs' scripts, run ---------------------------------------------------------------------------------


@dataclass
class Project:
    """A merge request's checkout: `main` on origin holds the target's files, the checkout holds the change."""

    root: Path
    bash: str
    env: dict[str, str]

    @property
    def checkout(self) -> Path:
        return self.root / "checkout"

    def file(self, name: str) -> str:
        path = self.root / name
        return path.read_text() if path.exists() else ""

    @property
    def reconcile_calls(self) -> list[str]:
        return self.file("reconcile.log").splitlines()

    def run(self, name: str, *, stdout: str = PLAN, exit_code: int = 2, **env: str) -> Any:
        (self.root / "stdout.txt").write_text(stdout)
        return run_job(
            f"{PREFIX}{name}", cwd=self.checkout, env={**self.env, "STUB_EXIT": str(exit_code), **env}, bash=self.bash
        )


@pytest.fixture
def project(tmp_path: Path) -> Project:
    bash = require_bash()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "reconcile").write_text(STAND_IN_RECONCILE)
    (bin_dir / "reconcile").chmod(0o755)
    origin = tmp_path / "origin"
    (origin / "desired_state").mkdir(parents=True)
    (origin / "desired_state" / "organization.yaml").write_text("unmanaged_projects: report  # target\n")
    git(origin, "init", "-q", "-b", "main")
    git(origin, "add", ".")
    git(origin, "commit", "-q", "-m", "the target branch")
    # As a runner fetches a merge request: shallow, only its own branch.
    git(tmp_path, "clone", "-q", "--depth", "1", "--no-local", "--single-branch", str(origin), "checkout")
    checkout = tmp_path / "checkout"
    git(checkout, "switch", "-q", "-c", "change")
    (checkout / "desired_state" / "organization.yaml").write_text("unmanaged_projects: archive  # the change\n")
    git(checkout, "commit", "-q", "-am", "the change")
    git(checkout, "branch", "-q", "-D", "main")
    git(checkout, "update-ref", "-d", "refs/remotes/origin/main")
    env = {
        # The stand-in first, then the job's `python`: the one with this package installed.
        "PATH": os.pathsep.join([str(bin_dir), str(Path(sys.executable).parent), os.environ["PATH"]]),
        "HOME": str(tmp_path),
        "TMPDIR": str(tmp_path / "tmp"),
        "STUB_LOG": str(tmp_path / "reconcile.log"),
        "STUB_BASE": str(tmp_path / "base.txt"),
        "STUB_STDOUT": str(tmp_path / "stdout.txt"),
        "CI_PROJECT_DIR": str(checkout),
        "CI_PIPELINE_SOURCE": "merge_request_event",
        "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main",
        "CI_MERGE_REQUEST_IID": "7",
        "CI_PROJECT_ID": "42",
        "CI_API_V4_URL": "http://127.0.0.1:9/api/v4",  # nothing listens: tests that post set their own
        "OPENAI_ADMIN_KEY": KEY,
    }
    (tmp_path / "tmp").mkdir()
    return Project(tmp_path, bash, env)


@pytest.fixture
def gitlab() -> Iterator[FakeGitLab]:
    with fake_gitlab() as fake:
        yield fake


def _base(project: Project) -> Path:
    return Path(project.env["TMPDIR"]) / "openai-datacontrols-run" / "base" / "desired_state"


@pytest.mark.parametrize(("exit_code", "passes"), [(0, True), (2, True), (1, False), (3, False)])
def test_a_merge_request_plan_compares_with_the_target_branch(project: Project, exit_code: int, passes: bool) -> None:
    result = project.run("plan", exit_code=exit_code)
    assert (result.returncode == 0) is passes, result.stdout + result.stderr
    (call,) = project.reconcile_calls
    assert call == (
        "--dry-run --format markdown --detailed-exitcode --fail-on-uncorrectable --desired-state desired_state "
        f"--gitlab-report gl-plan.json --base-desired-state {_base(project)}"
    )
    assert project.file("base.txt") == "unmanaged_projects: report  # target\n", "the target branch's files"
    plan_md = (project.checkout / "plan.md").read_text()
    assert plan_md.startswith(PLAN) and (project.checkout / "gl-plan.json").exists()
    if not passes:
        assert f"`reconcile plan` failed (exit {exit_code})" in plan_md and "the stand-in says why" in plan_md
    assert KEY not in result.stdout + result.stderr
    assert "DATACONTROLS_GITLAB_TOKEN" in result.stdout, "without a token: how to get the note"


def test_the_plan_is_one_note_created_then_updated(project: Project, gitlab: FakeGitLab) -> None:
    env = {"CI_API_V4_URL": gitlab.url, "DATACONTROLS_GITLAB_TOKEN": TOKEN}
    gitlab.notes = [{"id": 5, "body": "LGTM"}]
    assert project.run("plan", **env).returncode == 0
    (listing, listed, token, _), (method, path, _, body) = gitlab.requests
    assert listing == "GET" and listed.startswith("/api/v4/projects/42/merge_requests/7/notes?") and token == TOKEN
    assert (method, path, body) == (
        "POST",
        "/api/v4/projects/42/merge_requests/7/notes",
        {"body": f"{NOTE_MARKER}\n{PLAN}"},
    )
    # Ours is found by its marker, on a later page too (newest first, a page at a time).
    gitlab.requests.clear()
    gitlab.per_page = 2
    gitlab.notes = [{"id": 8, "body": "ok"}, {"id": 6, "body": "??"}, {"id": 3, "body": f"{NOTE_MARKER}\nold"}]
    result = project.run("plan", stdout="### openai-datacontrols plan: no changes\n", exit_code=0, **env)
    assert result.returncode == 0
    assert [r[0] for r in gitlab.requests] == ["GET", "GET", "PUT"]
    _, path, _, body = gitlab.requests[-1]
    assert path == "/api/v4/projects/42/merge_requests/7/notes/3"
    assert body == {"body": f"{NOTE_MARKER}\n### openai-datacontrols plan: no changes\n"}
    assert TOKEN not in result.stdout + result.stderr


def test_a_failed_plan_puts_the_error_in_the_note(project: Project, gitlab: FakeGitLab) -> None:
    result = project.run("plan", stdout="", exit_code=1, CI_API_V4_URL=gitlab.url, DATACONTROLS_GITLAB_TOKEN=TOKEN)
    assert result.returncode == 1
    note = gitlab.requests[-1][3]["body"]  # type: ignore[index]
    assert (
        note.startswith(NOTE_MARKER) and "`reconcile plan` failed (exit 1)" in note and "the stand-in says why" in note
    )


@pytest.mark.parametrize(("exit_code", "passes"), [(2, True), (1, False)])
def test_a_note_that_cannot_be_posted_does_not_decide_the_job(project: Project, exit_code: int, passes: bool) -> None:
    result = project.run("plan", exit_code=exit_code, DATACONTROLS_GITLAB_TOKEN=TOKEN)  # nothing listens
    assert (result.returncode == 0) is passes, result.stdout + result.stderr
    assert "Could not post the plan on the merge request" in result.stdout
    assert TOKEN not in result.stdout + result.stderr


def test_no_note_when_turned_off(project: Project, gitlab: FakeGitLab) -> None:
    env = {"CI_API_V4_URL": gitlab.url, "DATACONTROLS_GITLAB_TOKEN": TOKEN}
    result = run_job(
        f"{PREFIX}plan",
        cwd=project.checkout,
        env={**project.env, "STUB_EXIT": "2", **env},
        bash=project.bash,
        note="false",
    )
    assert result.returncode == 0 and gitlab.requests == []


def test_a_target_branch_that_cannot_be_fetched_plans_nothing(project: Project) -> None:
    result = project.run("plan", CI_MERGE_REQUEST_TARGET_BRANCH_NAME="no-such-branch")
    assert result.returncode == 1 and "could not fetch the target branch no-such-branch" in result.stdout
    assert project.reconcile_calls == []


@pytest.mark.parametrize(
    ("exit_code", "passes", "changes"), [(0, True, "false"), (2, True, "true"), (1, False, "false")]
)
def test_the_default_branch_saves_the_plan_for_apply(
    project: Project, exit_code: int, passes: bool, changes: str
) -> None:
    env = {"CI_PIPELINE_SOURCE": "push", "CI_MERGE_REQUEST_IID": "", "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": ""}
    result = project.run("plan-main", exit_code=exit_code, **env)
    assert (result.returncode == 0) is passes, result.stdout + result.stderr
    assert project.reconcile_calls == [
        "--dry-run --format markdown --detailed-exitcode --fail-on-uncorrectable --desired-state desired_state "
        "--out plan.json --gitlab-report gl-plan.json"
    ], "the whole plan: no base"
    assert (project.checkout / "datacontrols.env").read_text() == f"DATACONTROLS_CHANGES={changes}\n"
    assert (project.checkout / "plan.json").exists()


@pytest.mark.parametrize(
    ("changes", "exit_code", "passes", "applies"),
    [("true", 0, True, True), ("true", 1, False, True), ("false", 0, True, False)],
)
def test_apply_applies_the_saved_plan_only_when_it_has_changes(
    project: Project, changes: str, exit_code: int, passes: bool, applies: bool
) -> None:
    result = project.run(
        "apply",
        stdout="Apply complete: 1 applied, 0 failed, 0 skipped.\n",
        exit_code=exit_code,
        DATACONTROLS_CHANGES=changes,
        CI_PIPELINE_SOURCE="push",
    )
    assert (result.returncode == 0) is passes, result.stdout + result.stderr
    expected = "apply plan.json --desired-state desired_state --format markdown --max-plan-age 24h"
    assert project.reconcile_calls == ([expected] if applies else [])
    if applies:
        assert "Apply complete" in (project.checkout / "apply.md").read_text()


def test_apply_passes_a_persons_approval(project: Project) -> None:
    digest = "a" * 64
    result = run_job(
        f"{PREFIX}apply",
        cwd=project.checkout,
        bash=project.bash,
        env={**project.env, "STUB_EXIT": "0", "DATACONTROLS_CHANGES": "true"},
        **{"allow-unsafe": digest},
    )
    assert result.returncode == 0
    assert project.reconcile_calls[-1].endswith(f"--max-plan-age 24h --allow-unsafe {digest}")


@pytest.mark.parametrize(("exit_code", "passes"), [(0, True), (2, False), (1, False)])
def test_the_scheduled_drift_check_fails_while_the_organization_differs(
    project: Project, exit_code: int, passes: bool
) -> None:
    env = {"CI_PIPELINE_SOURCE": "schedule", "CI_MERGE_REQUEST_IID": "", "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": ""}
    result = project.run("drift", exit_code=exit_code, **env)
    assert (result.returncode == 0) is passes, result.stdout + result.stderr
    assert "--base-desired-state" not in project.reconcile_calls[0] and "--out" not in project.reconcile_calls[0]
    if exit_code == 2:
        assert "The organization differs from desired_state" in result.stdout


def test_the_install_puts_the_package_input_in_its_own_environment_first_on_path(project: Project) -> None:
    (project.root / "bin" / "reconcile").unlink()
    (project.root / "fake-python").mkdir()
    (project.root / "fake-python" / "python").write_text(STAND_IN_PYTHON)
    (project.root / "fake-python" / "python").chmod(0o755)
    env = {**project.env, "PATH": f"{project.root / 'fake-python'}{os.pathsep}{project.env['PATH']}"}
    package = "git+https://gitlab.example.com/acme/openai-datacontrols@0.1.0"
    result = run_job(
        f"{PREFIX}validate", cwd=project.checkout, env=env, bash=project.bash, parts=("before_script",), package=package
    )
    assert result.returncode == 0, result.stderr
    venv = project.checkout / ".openai-datacontrols-venv"
    assert project.reconcile_calls == [f"python -m venv {venv}", f"venv-python -m pip install --quiet {package}"]
    assert result.stdout.strip() == "openai-datacontrols 0.1.0 (in the venv)", "the venv's reconcile, first on PATH"


def test_validate_and_an_unknown_command(project: Project) -> None:
    ok = project.run("validate", stdout="desired_state: valid (organization settings and 0 projects)\n", exit_code=0)
    assert ok.returncode == 0 and project.reconcile_calls == ["validate --desired-state desired_state"]
    import subprocess

    bad = subprocess.run(
        [sys.executable, "-m", "datacontrols.ci", "gitlab", "destroy"],
        cwd=project.checkout,
        env=project.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert bad.returncode == 1 and "command must be validate, plan or apply, not 'destroy'" in bad.stdout
    usage = subprocess.run([sys.executable, "-m", "datacontrols.ci"], capture_output=True, text=True, check=False)
    assert usage.returncode == 1 and usage.stderr.startswith("usage: python -m datacontrols.ci")


# --- several organizations: the component included once per organization ------------------------------------


def test_the_org_input_runs_every_job_for_that_organization(project: Project) -> None:
    origin = project.root / "origin"
    (origin / "orgs" / "prod").mkdir(parents=True)
    (origin / "orgs" / "prod" / "organization.yaml").write_text("identity: {default_project_id: proj_prod}  # target\n")
    git(origin, "add", ".")
    git(origin, "commit", "-q", "-m", "orgs/prod on the target branch")
    env = {**project.env, "STUB_EXIT": "2"}
    (project.root / "stdout.txt").write_text(PLAN)
    given = {"org": "prod", "job-prefix": "prod-"}
    assert job("prod-plan", **given)["variables"]["DC_ORG"] == "prod"
    planned = run_job("prod-plan", cwd=project.checkout, env=env, bash=project.bash, **given)
    assert planned.returncode == 0, planned.stdout + planned.stderr
    base = Path(project.env["TMPDIR"]) / "openai-datacontrols-run" / "base" / "orgs" / "prod"
    assert project.reconcile_calls == [
        "--dry-run --format markdown --detailed-exitcode --fail-on-uncorrectable --org prod "
        f"--gitlab-report gl-plan.json --base-desired-state {base}"
    ]
    assert project.file("base.txt") == "identity: {default_project_id: proj_prod}  # target\n"
    validated = run_job(
        "prod-validate", cwd=project.checkout, env={**env, "STUB_EXIT": "0"}, bash=project.bash, **given
    )
    assert validated.returncode == 0 and project.reconcile_calls[-1] == "validate --org prod"
    # The default stays one organization: desired_state/, no --org.
    assert job(f"{PREFIX}plan")["variables"]["DC_ORG"] == ""
