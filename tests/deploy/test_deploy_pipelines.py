"""The example pipelines: both files match their platform's schema, and the GitHub workflow uses the action
for every job with each key in its environment. The action's scripts are run in test_deploy_action.py; the
GitLab component, which the GitLab example includes, in test_deploy_gitlab_component.py."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from deploy_support import CHECK_JSONSCHEMA, GITHUB_WORKFLOW, GITLAB_PIPELINE, load_yaml, uvx

KEY_FROM_SECRETS = "${{ secrets.OPENAI_ADMIN_KEY }}"
ACTION = "YOUR-ORG/openai-datacontrols@"  # the example names the action as a user's copy would


def _github() -> dict[str, Any]:
    workflow: dict[str, Any] = load_yaml(GITHUB_WORKFLOW.read_text())
    return workflow


# --- schemas and the exact commands ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("schema", "path"),
    [("vendor.github-workflows", GITHUB_WORKFLOW), ("vendor.gitlab-ci", GITLAB_PIPELINE)],
    ids=["github", "gitlab"],
)
def test_pipeline_matches_its_platform_schema(schema: str, path: Path) -> None:
    run = uvx(CHECK_JSONSCHEMA, "check-jsonschema", "--builtin-schema", schema, path)
    assert run.returncode == 0, run.output


def test_github_actions_are_pinned_by_commit_with_the_release_named() -> None:
    uses = re.findall(r"uses:\s*(\S+)(.*)", GITHUB_WORKFLOW.read_text())
    assert uses
    for action, comment in uses:
        assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", action), action
        assert re.search(r"#\s*v\d+\.\d+\.\d+", comment), f"{action} needs a `# vX.Y.Z` comment"


def _action_steps(job: str) -> list[dict[str, Any]]:
    steps = [s for s in _github()["jobs"][job]["steps"] if s.get("uses", "").startswith(ACTION)]
    assert steps, f"job {job} does not use the action"
    return steps


def test_github_every_job_uses_the_action_and_installs_nothing_itself() -> None:
    text = GITHUB_WORKFLOW.read_text()
    assert "uv sync" not in text and "pip install" not in text, "the action installs the tool, not the workflow"
    for name in _github()["jobs"]:
        _action_steps(name)


def test_github_validates_every_change_without_the_key() -> None:
    workflow = _github()
    validate = workflow["jobs"]["validate"]
    assert [s["with"] for s in _action_steps("validate")] == [{"command": "validate"}]
    assert "OPENAI_ADMIN_KEY" not in json.dumps(validate)
    assert set(workflow["on"]) >= {"pull_request", "push", "schedule"}
    for job in ("plan", "plan-main"):
        assert workflow["jobs"][job]["needs"] == "validate"


def test_github_every_key_is_in_its_environment_and_only_apply_has_the_writer() -> None:
    jobs = _github()["jobs"]
    for name, job in jobs.items():
        uses_key = "secrets.OPENAI_ADMIN_KEY" in json.dumps(job)
        assert uses_key == (name != "validate"), name
        if uses_key:
            assert job["environment"] == ("openai-organization" if name == "apply" else "openai-organization-plan")
    assert _github()["permissions"] == {}, "no job gets more than it asks for"


def test_github_pull_request_plan_compares_with_the_base_and_comments() -> None:
    job = _github()["jobs"]["plan"]
    assert "github.event_name == 'pull_request'" in job["if"]
    assert job["permissions"]["pull-requests"] == "write"
    checkout = job["steps"][0]
    assert checkout["with"]["fetch-depth"] == 0, "the base commit's files are checked out in a worktree"
    (step,) = _action_steps("plan")
    assert step["with"] == {"command": "plan"}, "base-ref and comment keep their pull-request defaults"
    assert step["env"]["OPENAI_ADMIN_KEY"] == KEY_FROM_SECRETS


def test_github_main_applies_the_plan_it_saved_one_at_a_time() -> None:
    jobs = _github()["jobs"]
    main = jobs["plan-main"]
    (plan,) = _action_steps("plan-main")
    assert plan["with"]["save-plan"] == "true" and plan["with"]["base-ref"] == ""
    assert main["outputs"]["changes"] == f"${{{{ steps.{plan['id']}.outputs.changes }}}}"
    uploads = [s for s in main["steps"] if s.get("uses", "").startswith("actions/upload-artifact@")]
    assert uploads[0]["with"]["path"] == "plan.json"
    apply = jobs["apply"]
    assert apply["needs"] == "plan-main"
    assert apply["if"] == "needs.plan-main.outputs.changes == 'true'"
    assert apply["concurrency"] == {"group": "openai-datacontrols-apply", "cancel-in-progress": False}
    downloads = [s for s in apply["steps"] if s.get("uses", "").startswith("actions/download-artifact@")]
    assert downloads[0]["with"]["name"] == uploads[0]["with"]["name"]
    (step,) = _action_steps("apply")
    assert step["with"]["command"] == "apply"


def test_github_scheduled_check_keeps_one_drift_issue() -> None:
    job = _github()["jobs"]["drift"]
    assert job["if"] == "github.event_name == 'schedule'" and job["permissions"]["issues"] == "write"
    (step,) = _action_steps("drift")
    assert step["with"] == {"command": "plan", "base-ref": "", "comment": "false", "drift-issue": "true"}
