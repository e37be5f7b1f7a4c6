"""README's "From zero to a pull-request plan in ten minutes": each marked block is run as it is written, in a
new repository that holds only desired_state/ (exported from the emulator), with a wheel built from this
repository in place of the released package, `gh` and `glab` as recording stand-ins and a local `origin`.
Then the pull request's plan job runs as CI would on what was pushed: the action's script on GitHub, the
component's plan job on GitLab (from the wheel: the job script ships in the package), against the emulator,
and the plan reaches the comment or the note."""

from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from deploy_support import GITLAB_PIPELINE, REPO, Emulator, load_yaml, require_bash
from gitlab_support import NOTE_MARKER, fake_gitlab, git, run_job

README = REPO / "README.md"
RELEASE = "openai-datacontrols==0.1.0"
RAW_GITHUB = "https://raw.githubusercontent.com/YOUR-ORG/openai-datacontrols/v0.1.0/"
ACTION_REPOSITORY = "https://github.com/YOUR-ORG/openai-datacontrols"
NOTES_TOKEN = "glpat-quickstart-0123456789abcdef"

# Records its arguments, one line each, and what it was given on standard input; `glab token create`
# prints a token, as the real one does.
STAND_IN = r"""#!/usr/bin/env bash
printf '%s %s\n' "$(basename "$0")" "$*" >> "$CLI_LOG"
if [ ! -t 0 ]; then
  printf '%s %s <<< %s\n' "$(basename "$0")" "$*" "$(cat)" >> "$CLI_STDIN"
fi
[ "$1 $2" = "token create" ] && printf '%s\n' "$QUICKSTART_NOTES_TOKEN"
exit 0
"""


def quickstart(platform: str) -> str:
    blocks = dict(re.findall(r"<!-- quickstart: (\w+) -->\n```sh\n(.*?)```", README.read_text(), flags=re.DOTALL))
    assert set(blocks) == {"github", "gitlab"}, "README marks one block for each platform"
    return blocks[platform]


@dataclass
class NewUser:
    root: Path
    repo: Path
    origin: Path
    env: dict[str, str]
    emulator: Emulator

    def log(self, name: str) -> str:
        path = self.root / name
        return path.read_text() if path.exists() else ""

    def run(self, platform: str, wheel: Path) -> subprocess.CompletedProcess[str]:
        script = quickstart(platform)
        for placeholder in (RELEASE,) + ((RAW_GITHUB, ACTION_REPOSITORY) if platform == "github" else ()):
            assert placeholder in script, f"the {platform} block no longer names {placeholder}"
        # Only what points at the published release changes: the wheel, and this repository's own files.
        script = script.replace(RELEASE, str(wheel)).replace(RAW_GITHUB, f"file://{REPO}/")
        script = script.replace(ACTION_REPOSITORY, str(self.root / "action"))
        (self.root / "quickstart.sh").write_text(script)
        return subprocess.run(
            [require_bash(), "-eo", "pipefail", str(self.root / "quickstart.sh")],
            cwd=self.repo,
            env=self.env,
            input=self.emulator.admin_key + "\n",  # typed at the `read -s` prompt
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )


@pytest.fixture
def user(tmp_path: Path, installed_bin: Path, emulator: Emulator) -> NewUser:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("gh", "glab"):
        (bin_dir / name).write_text(STAND_IN)
        (bin_dir / name).chmod(0o755)
    identity = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t"}
    env = {
        **os.environ,  # uv's cache and the machine's certificates
        **identity,
        "GIT_COMMITTER_EMAIL": "t@example.com",
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "CLI_LOG": str(tmp_path / "cli.log"),
        "CLI_STDIN": str(tmp_path / "cli-stdin.log"),
        "QUICKSTART_NOTES_TOKEN": NOTES_TOKEN,
        "DATACONTROLS_BASE_URL": emulator.base_url,
        "UV_PYTHON_DOWNLOADS": "never",
        "UV_NO_PROGRESS": "1",
    }
    env.pop("OPENAI_ADMIN_KEY", None)
    # The action's repository, with its release tag, for `git ls-remote`.
    action = tmp_path / "action"
    action.mkdir()
    git(action, "init", "-q", "-b", "main")
    git(action, "commit", "-q", "--allow-empty", "-m", "release")
    git(action, "tag", "v0.1.0")
    # The new user's repository: desired_state/ only, exported from the organization, pushed to origin.
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(origin))
    repo = tmp_path / "org-settings"
    repo.mkdir()
    exported = subprocess.run(
        [str(installed_bin / "reconcile"), "export", "--out", "desired_state"],
        cwd=repo,
        env={**env, "OPENAI_ADMIN_KEY": emulator.admin_key},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert exported.returncode == 0, exported.stderr
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "desired_state")
    git(repo, "commit", "-q", "-m", "The organization's data controls, exported")
    git(repo, "remote", "add", "origin", str(origin))
    git(repo, "push", "-q", "origin", "main")
    return NewUser(tmp_path, repo, origin, env, emulator)


def _clone(user: NewUser, *args: str) -> Path:
    checkout = user.root / "ci-checkout"
    git(user.root, "clone", "-q", *args, "--branch", "openai-datacontrols", str(user.origin), str(checkout))
    return checkout


def _common_checks(user: NewUser, done: subprocess.CompletedProcess[str]) -> None:
    assert done.returncode == 0, done.stdout + done.stderr
    assert "desired_state: valid" in done.stdout
    assert re.search(r"^(Plan: |No changes\.)", done.stdout, flags=re.MULTILINE), "the local dry run's plan"
    key = user.emulator.admin_key
    assert key not in done.stdout + done.stderr + user.log("cli.log"), "the key is never an argument or output"
    pushed = git(user.origin, "branch", "--list", "openai-datacontrols")
    assert pushed.strip().endswith("openai-datacontrols"), "the branch reached origin"


def test_the_github_path_ends_in_a_pull_request_whose_plan_is_commented(
    user: NewUser, wheel: Path, installed_bin: Path
) -> None:
    done = user.run("github", wheel)
    _common_checks(user, done)
    calls = user.log("cli.log").splitlines()
    assert calls[-1] == "gh pr create --fill"
    assert f"gh secret set OPENAI_ADMIN_KEY --env openai-organization-plan <<< {user.emulator.admin_key}" in (
        user.log("cli-stdin.log")
    ), "the key reaches the environment's secret on standard input"
    workflow_text = (user.repo / ".github" / "workflows" / "openai-datacontrols.yml").read_text()
    release = git(user.root / "action", "rev-parse", "v0.1.0")
    uses = re.findall(r"uses: (YOUR-ORG/openai-datacontrols@\S+)", workflow_text)
    assert uses and set(uses) == {f"YOUR-ORG/openai-datacontrols@{release}"}, "pinned to the release's commit"
    plan_step = next(
        step
        for step in load_yaml(workflow_text)["jobs"]["plan"]["steps"]
        if step.get("uses", "").startswith("YOUR-ORG/")
    )
    assert plan_step["with"] == {"command": "plan"}

    # The pull request's plan job: the action's script, with its defaults, on a full clone of the branch.
    checkout = _clone(user)
    base = git(user.origin, "rev-parse", "main")
    event = user.root / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 1}}))
    (user.root / "gh-body.md").write_text("")
    gh = user.root / "bin" / "gh"
    gh.write_text(
        '#!/usr/bin/env bash\nfor a in "$@"; do case "$a" in body=@*) cat "${a#body=@}" > "$GH_BODY" ;; esac; done\n'
    )
    step = {
        **user.env,
        "PATH": os.pathsep.join([str(user.root / "bin"), str(installed_bin), user.env["PATH"]]),
        "OPENAI_ADMIN_KEY": user.emulator.admin_key,
        "RUNNER_TEMP": str(user.root / "runner-temp"),
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_REPOSITORY": "acme/org-settings",
        "GITHUB_STEP_SUMMARY": str(user.root / "summary.md"),
        "GH_BODY": str(user.root / "gh-body.md"),
        "DC_COMMAND": "plan",
        "DC_BASE_REF": base,
    }
    ran = subprocess.run(
        [require_bash(), str(REPO / "deploy" / "action" / "run.sh")],
        cwd=checkout,
        env=step,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    comment = user.log("gh-body.md")
    assert comment.startswith("<!-- openai-datacontrols-plan -->\n### ") and "openai-datacontrols" in comment
    assert user.emulator.admin_key not in comment + ran.stdout + ran.stderr


def test_the_gitlab_path_ends_in_a_merge_request_whose_plan_is_a_note(
    user: NewUser, wheel: Path, installed_bin: Path
) -> None:
    done = user.run("gitlab", wheel)
    _common_checks(user, done)
    calls = user.log("cli.log").splitlines()
    assert calls[-1] == "glab mr create --fill --yes"
    given = user.log("cli-stdin.log")
    assert (
        f"glab variable set OPENAI_ADMIN_KEY --masked --scope openai-organization-plan <<< {user.emulator.admin_key}"
        in given
    )
    assert f"glab variable set DATACONTROLS_GITLAB_TOKEN --masked <<< {NOTES_TOKEN}" in given, "the token, piped"
    assert NOTES_TOKEN not in done.stdout + done.stderr
    pipeline = load_yaml((user.repo / ".gitlab-ci.yml").read_text())
    assert pipeline["include"][0]["component"] == load_yaml(GITLAB_PIPELINE.read_text())["include"][0]["component"]

    # The merge request's plan job: the component's (defaults: the include gives no inputs), as the runner
    # runs it on a shallow clone of the branch, with the wheel's python, so the job script is the wheel's.
    checkout = _clone(user, "--depth", "1", "--single-branch", "--no-local")
    with fake_gitlab() as gitlab:
        env = {
            **user.env,
            "PATH": os.pathsep.join([str(installed_bin), user.env["PATH"]]),
            "TMPDIR": str(user.root),
            "OPENAI_ADMIN_KEY": user.emulator.admin_key,
            "DATACONTROLS_GITLAB_TOKEN": NOTES_TOKEN,
            "CI_PROJECT_DIR": str(checkout),
            "CI_PIPELINE_SOURCE": "merge_request_event",
            "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main",
            "CI_MERGE_REQUEST_IID": "1",
            "CI_PROJECT_ID": "42",
            "CI_API_V4_URL": gitlab.url,
        }
        ran = run_job("datacontrols-plan", cwd=checkout, env=env, bash=require_bash())
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert (
        str(installed_bin.parent)
        in subprocess.run(
            [str(installed_bin / "python"), "-c", "import datacontrols.ci as c; print(c.script('gitlab'))"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    ), "the job script came from the wheel"
    (method, path, token, body) = gitlab.requests[-1]
    assert (method, path, token) == ("POST", "/api/v4/projects/42/merge_requests/1/notes", NOTES_TOKEN)
    assert body is not None and body["body"].startswith(f"{NOTE_MARKER}\n### ")
    assert json.loads((checkout / "gl-plan.json").read_text()).keys() == {"create", "update", "delete"}
    assert user.emulator.admin_key not in body["body"] + ran.stdout + ran.stderr
