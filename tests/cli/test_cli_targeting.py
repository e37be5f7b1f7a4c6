"""Reads that follow the change: a pull request reads the projects it can change, `--project` the named ones.

An emulated organization of 150 projects, with drift in one project the pull request does not touch: the
pull-request view reads only the project it changes, plans exactly that change, and says how many projects
it did not read. `--project` plans and applies only the named projects, and a saved plan keeps its target.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cli_support import run_cli, served_emulator

PROJECTS = 150
CHANGED, DRIFTED = "Project 007", "Project 100"
ZDR = "zero_data_retention"
# What a pull request may read: the project list (two pages), the organization-level reads, one project's.
PULL_REQUEST_BUDGET = 25


def name(index: int) -> str:
    return f"Project {index:03d}"


def seed() -> dict[str, Any]:
    projects = []
    for index in range(PROJECTS):
        tools = {"web_search": name(index) == DRIFTED}  # someone turned web search on in one project
        projects.append(
            {"id": f"proj_target{index:017d}", "name": name(index), "data_retention": ZDR, "hosted_tools": tools}
        )
    return {"organization": {"data_retention": ZDR, "approved_retention_types": [ZDR]}, "projects": projects}


def desired(root: Path, *, change: bool) -> Path:
    """Every project at zero data retention with web search off; with `change`, one more tool off in one."""
    (root / "projects").mkdir(parents=True)
    (root / "organization.yaml").write_text(
        "unmanaged_projects: report\nproject_defaults:\n  hosted_tools: {web_search: false}\n"
    )
    for index in range(PROJECTS):
        body = f"name: {name(index)}\ndata_retention: {ZDR}\n"
        if change and name(index) == CHANGED:
            body += "hosted_tools: {code_interpreter: false}\n"
        (root / "projects" / f"p{index:03d}.yaml").write_text(body)
    return root


@pytest.fixture(scope="module")
def trees(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("targeting")
    return desired(root / "base", change=False), desired(root / "head", change=True)


def changed_projects(document: dict[str, Any]) -> set[str]:
    return {c["project"] for c in document["changes"]}


def test_a_pull_request_changing_one_of_150_projects_reads_only_it(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, trees: tuple[Path, Path]
) -> None:
    base, head = trees
    with served_emulator(seed()) as served:
        args = ["--dry-run", "--desired-state", str(head), "--base-desired-state", str(base)]
        done = run_cli(capsys, monkeypatch, [*args, "--format", "json"], DATACONTROLS_BASE_URL=served.base_url)
        requests = len(served.emulator.requests)
        served.emulator.requests.clear()
        text = run_cli(capsys, monkeypatch, args, DATACONTROLS_BASE_URL=served.base_url)
    assert done.code == 0, done.stderr
    assert requests <= PULL_REQUEST_BUDGET, requests
    document = done.json()
    assert [(c["project"], c["kind"]) for c in document["changes"]] == [(CHANGED, "project_hosted_tools")]
    assert document["pre_existing"] == 0  # the drifted project was not read: its drift is not the PR's
    assert document["not_read"] == {"projects": PROJECTS - 1, "why": "unchanged by this pull request"}
    assert f"{PROJECTS - 1} projects not read: unchanged by this pull request." in text.stdout


def test_the_project_option_reads_plans_and_applies_only_that_project(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, trees: tuple[Path, Path], tmp_path: Path
) -> None:
    _, head = trees
    saved = tmp_path / "plan.json"
    with served_emulator(seed()) as served:
        env = {"DATACONTROLS_BASE_URL": served.base_url}
        common = ["--desired-state", str(head), "--project", DRIFTED]
        plan = run_cli(capsys, monkeypatch, ["--dry-run", *common, "--format", "json", "--out", str(saved)], **env)
        requests = len(served.emulator.requests)
        assert plan.code == 0, plan.stderr
        assert requests <= PULL_REQUEST_BUDGET, requests
        document = plan.json()
        assert changed_projects(document) == {DRIFTED} and document["not_read"]["projects"] == PROJECTS - 1
        assert "--project 'Project 100'" in document["not_read"]["why"]
        applied = run_cli(capsys, monkeypatch, ["apply", str(saved), "--desired-state", str(head)], **env)
        assert applied.code == 0, applied.stderr
        writes = served.emulator.requests.writes()
        assert {w.path.split("/")[4] for w in writes} == {"proj_target00000000000000100"}, writes
        # The whole organization now differs only in the project the pull request changes.
        served.emulator.requests.clear()
        whole = run_cli(capsys, monkeypatch, ["--dry-run", "--desired-state", str(head), "--format", "json"], **env)
    assert whole.code == 0, whole.stderr
    assert changed_projects(whole.json()) == {CHANGED} and "not_read" not in whole.json()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--project", "project 007"], "'project 007' is not a project of the desired state"),
        (["--project", CHANGED, "--exclude-project", CHANGED], "leave no project to plan"),
    ],
)
def test_a_project_the_files_do_not_name_is_refused_before_any_request(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    trees: tuple[Path, Path],
    args: list[str],
    message: str,
) -> None:
    _, head = trees
    with served_emulator(seed()) as served:
        done = run_cli(
            capsys,
            monkeypatch,
            ["--dry-run", "--desired-state", str(head), *args],
            DATACONTROLS_BASE_URL=served.base_url,
        )
        sent = len(served.emulator.requests)
    assert done.code == 1 and message in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert sent == 0
