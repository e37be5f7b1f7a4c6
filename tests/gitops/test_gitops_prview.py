"""The pull-request view: only the changes a pull request introduces; pre-existing drift counted apart."""

from __future__ import annotations

import dataclasses
from collections import Counter
from pathlib import Path

import httpx
from gitops_support import DESIRED, approved_demo_seed, copy_desired, run_cli, served_emulator

from datacontrols.adminapi.read_cache import ReadCache
from datacontrols.plan import Change, FieldChange, Plan
from datacontrols.prview import render_pull_request, split

against_base = ("--base-desired-state", str(DESIRED))


def change(kind: str, project: str | None, before: object, after: object, action: str = "update") -> Change:
    return Change(action=action, kind=kind, project=project, fields={"x": FieldChange(before, after)})  # type: ignore[arg-type]


# --- the split, pure -----------------------------------------------------------------------------------------


def test_split_separates_introduced_from_pre_existing() -> None:
    drift = change("project_hosted_tools", "A", True, False)
    new = change("project_data_retention", "B", "none", "zero_data_retention")
    base_only = change("project_model_permissions", "C", "x", "y")
    view = split(Plan.of([drift, new]), Plan.of([drift, base_only]))
    assert list(view.introduced) == [new]
    assert list(view.pre_existing) == [drift]
    assert view.to_json()["pre_existing"] == 1
    assert view.to_json()["changes"] == [new.to_json()]


def test_split_words_do_not_matter_but_values_and_enforcement_do() -> None:
    base = change("k", "A", 1, 2)
    reworded = dataclasses.replace(base, reason="other words", disrupts="and other words")
    other_value = change("k", "A", 1, 3)
    now_enforced = dataclasses.replace(base, enforcement="report")
    assert list(split(Plan.of([reworded]), Plan.of([base])).introduced) == []
    assert list(split(Plan.of([other_value]), Plan.of([base])).introduced) == [other_value]
    # The PR that turns `enforcement: report` into enforce makes the change happen: it is the PR's.
    assert list(split(Plan.of([base]), Plan.of([now_enforced])).introduced) == [base]


def test_split_counts_like_a_multiset() -> None:
    one = Change(action="delete", kind="project_user", project="A", subject="a@example.com")
    view = split(Plan.of([one, one]), Plan.of([one]))
    assert len(view.introduced) == 1 and len(view.pre_existing) == 1


def test_renderings_count_pre_existing_apart() -> None:
    drift = change("project_hosted_tools", "A", True, False)
    new = change("project_data_retention", "B", "none", "zero_data_retention")
    view = split(Plan.of([drift, new]), Plan.of([drift]))
    text = render_pull_request(view, "text")
    assert 'project "B"' in text and 'project "A"' not in text
    assert "1 pre-existing change was planned before this change as well" in text
    markdown = render_pull_request(view, "markdown")
    head, _, tail = markdown.partition("<details><summary>Pre-existing drift: 1 change not introduced")
    assert "Project B" in head and "Project A" not in head
    assert "Project A" in tail and tail.rstrip().endswith("</details>")
    assert len(markdown) <= 60000


# --- ReadCache ------------------------------------------------------------------------------------------------


async def test_read_cache_answers_a_repeated_get_from_memory() -> None:
    seen: Counter[str] = Counter()

    def handler(request: httpx.Request) -> httpx.Response:
        seen[f"{request.method} {request.url.path}"] += 1
        if request.url.path == "/missing":
            return httpx.Response(404, json={"error": {"message": "no"}})
        if request.url.path == "/busy":
            return httpx.Response(503, json={"error": {"message": "later"}})
        return httpx.Response(200, json={"path": request.url.path})

    async with httpx.AsyncClient(transport=ReadCache(httpx.MockTransport(handler)), base_url="http://x") as client:
        first = await client.get("/a")
        second = await client.get("/a")
        await client.get("/a?page=2")
        await client.get("/missing")
        missing = await client.get("/missing")
        await client.get("/busy")
        await client.get("/busy")
        await client.post("/a")
        await client.post("/a")
    assert first.json() == second.json() == {"path": "/a"}
    assert missing.status_code == 404 and missing.json() == {"error": {"message": "no"}}
    # /a once and /a?page=2 once; a 404 is an answer too; a 503 and writes always go through
    assert seen == {"GET /a": 2, "GET /missing": 1, "GET /busy": 2, "POST /a": 2}


# --- through the CLI ------------------------------------------------------------------------------------------


def test_a_pull_request_plan_shows_only_its_own_changes(capsys, monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    head = copy_desired(tmp_path, "head")
    research = head / "projects" / "research-sandbox.yaml"
    research.write_text(
        research.read_text().replace("data_retention: modified_abuse_monitoring", "data_retention: zero_data_retention")
    )
    with served_emulator(approved_demo_seed()) as served:
        full = run_cli(
            capsys,
            monkeypatch,
            ["--dry-run", "--format", "json", "--desired-state", str(head)],
            DATACONTROLS_BASE_URL=served.base_url,
        )
        served.emulator.requests.clear()
        pr = run_cli(
            capsys,
            monkeypatch,
            ["--dry-run", "--format", "json", "--detailed-exitcode", "--desired-state", str(head), *against_base],
            DATACONTROLS_BASE_URL=served.base_url,
        )
        gets = Counter(f"{e.method} {e.path}?{sorted(e.query.items())}" for e in served.emulator.requests)
    assert pr.code == 2, pr.stderr
    document = pr.json()
    assert [(c["kind"], c["project"], c["fields"]) for c in document["changes"]] == [
        (
            "project_data_retention",
            "Research Sandbox",
            {"type": {"before": "modified_abuse_monitoring", "after": "zero_data_retention"}},
        )
    ]
    assert document["refused"] is None, "a tightening change needs no approval"
    # Pre-existing drift counts only where the pull request reads: the organization and the project it
    # changes. The other projects are not read at all (said in `not_read`).
    within = [c for c in full.json()["changes"] if c["project"] in (None, "Research Sandbox")]
    assert document["pre_existing"] == len(within) - 1
    live = {p["name"] for p in approved_demo_seed()["projects"] if p.get("status", "active") == "active"}
    assert document["not_read"] == {"projects": len(live) - 1, "why": "unchanged by this pull request"}
    assert max(gets.values()) == 1, f"each thing is read once: {gets.most_common(3)}"


def test_a_pull_request_without_changes_exits_0_despite_drift(capsys, monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with served_emulator(approved_demo_seed()) as served:
        outcome = run_cli(
            capsys,
            monkeypatch,
            [
                "--dry-run",
                "--detailed-exitcode",
                "--format",
                "markdown",
                "--desired-state",
                str(DESIRED),
                *against_base,
            ],
            DATACONTROLS_BASE_URL=served.base_url,
        )
    assert outcome.code == 0, outcome.stderr
    assert outcome.stdout.startswith("### Data controls plan: no changes")
    assert "<details><summary>Pre-existing drift:" in outcome.stdout


def test_a_broken_base_shows_every_change_as_the_pull_requests(capsys, monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    base = copy_desired(tmp_path, "base")
    (base / "organization.yaml").write_text("organization: {data_retention: forever}\n")
    with served_emulator(approved_demo_seed()) as served:
        outcome = run_cli(
            capsys,
            monkeypatch,
            ["--dry-run", "--format", "json", "--desired-state", str(DESIRED), "--base-desired-state", str(base)],
            DATACONTROLS_BASE_URL=served.base_url,
        )
    assert outcome.code == 0, outcome.stderr
    assert "warning: --base-desired-state" in outcome.stderr and "problem(s)" in outcome.stderr
    assert outcome.json()["pre_existing"] == 0
    assert outcome.json()["summary"]["archive"] == 1
