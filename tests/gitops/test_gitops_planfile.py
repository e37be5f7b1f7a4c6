"""The saved-plan file and its staleness check, as pure functions."""

from __future__ import annotations

import dataclasses
import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from gitops_support import DESIRED

from datacontrols import __version__
from datacontrols.adminapi.projects import Project
from datacontrols.desired import load_desired_state
from datacontrols.engine import Observed
from datacontrols.errors import ConfigError
from datacontrols.plan import Change, FieldChange, Plan
from datacontrols.planfile import (
    SavedPlan,
    desired_digest,
    format_duration,
    make_saved_plan,
    moved,
    observed_digest,
    parse_duration,
    read_saved_plan,
    write_saved_plan,
)
from datacontrols.redaction import register_secret

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
URL = "https://api.openai.com/v1"


def observed() -> Observed:
    return Observed(
        projects=[Project(id="proj_a", name="Alpha", status="active"), Project(id="proj_b", name="Beta")],
        organization={"organization_data_retention": "zero_data_retention"},
        settings={"proj_a": {"project_hosted_tools": {"mcp": False}}, "proj_b": {"project_data_retention": "none"}},
    )


PLAN = Plan.of(
    [Change(action="update", kind="project_hosted_tools", project="Alpha", fields={"mcp": FieldChange(True, False)})]
)


def saved(**changes: object) -> SavedPlan:
    plan = make_saved_plan(load_desired_state(DESIRED), observed(), PLAN, base_url=URL + "/", created_at=NOW)
    data = {**plan.to_json(), **changes}
    return SavedPlan.from_json(json.loads(json.dumps(data)))


def check(plan: SavedPlan, *, obs: Observed | None = None, desired_dir: Path = DESIRED, **options: object) -> list[str]:
    return moved(
        plan,
        desired=load_desired_state(desired_dir),
        observed=obs or observed(),
        plan=PLAN,
        base_url=URL,
        now=options.pop("now", NOW + timedelta(minutes=10)),  # type: ignore[arg-type]
        **options,  # type: ignore[arg-type]
    )


def test_nothing_moved_means_apply() -> None:
    assert check(saved()) == []


def test_the_desired_digest_ignores_file_names_order_and_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(DESIRED, copy)
    for path in (copy / "projects").iterdir():  # reverse the file order, and rename every file
        path.rename(path.with_name(f"{999 - len(path.name)}-{path.stem}.yml"))
    (copy / "organization.yaml").write_text("# a new comment\n" + (copy / "organization.yaml").read_text())
    monkeypatch.chdir(tmp_path)
    assert desired_digest(load_desired_state("copy")) == desired_digest(load_desired_state(DESIRED))

    sandbox = next((copy / "projects").glob("*research-sandbox.yml"))
    sandbox.write_text(sandbox.read_text().replace("web_search: true", "web_search: false"))
    assert desired_digest(load_desired_state("copy")) != desired_digest(load_desired_state(DESIRED))
    moves = check(saved(), desired_dir=copy)
    assert moves == [f"desired state: project 'Research Sandbox' changed (projects/{sandbox.name})"]


def test_absent_and_null_are_different_desired_states(tmp_path: Path) -> None:
    shutil.copytree(DESIRED, tmp_path / "d")
    support = tmp_path / "d" / "projects" / "support-bot.yaml"
    before = desired_digest(load_desired_state(tmp_path / "d"))
    support.write_text(support.read_text() + "external_key_id: null\n")  # now managed: "no key"
    assert desired_digest(load_desired_state(tmp_path / "d")) != before


def test_what_moved_in_the_live_state_is_named() -> None:
    now = observed()
    now.settings["proj_a"]["project_hosted_tools"] = {"mcp": True}
    now.organization["organization_data_retention"] = "modified_abuse_monitoring"
    now.projects = [now.projects[0], Project(id="proj_c", name="Gamma")]
    del now.settings["proj_b"]
    now.failures["Delta"] = "HTTP 500"
    lines = check(saved(), obs=now)
    assert lines == [
        "live state: the organization's organization_data_retention changed",
        "live state: project_hosted_tools of project 'Alpha' (proj_a) changed",
        "live state: project_data_retention of project 'Beta' (proj_b) is no longer read",
        "live state: project 'Beta' (proj_b) is no longer listed",
        "live state: project 'Gamma' (proj_c) appeared",
        "live state: could not read project 'Delta': HTTP 500",
    ]
    unreadable_then_and_now = check(saved(observed_digest=observed_digest(now)), obs=now)
    assert unreadable_then_and_now == ["live state: could not read project 'Delta': HTTP 500"]


def test_age_version_address_and_plan_digest() -> None:
    old = check(saved(), now=NOW + timedelta(hours=2, minutes=30))
    assert old == ["the plan is 2h30m old, older than --max-plan-age 1h (made at 2026-05-01 12:00:00 UTC)"]
    assert check(saved(), now=NOW + timedelta(hours=2, minutes=30), max_age=timedelta(hours=3)) == []
    assert check(saved(), now=NOW - timedelta(hours=1)) == [
        f"the plan's created_at ({NOW.isoformat()}) is in the future"
    ]
    assert check(saved(tool_version="0.0.1")) == [
        f"the plan was made by openai-datacontrols 0.0.1; this is {__version__}"
    ]
    assert check(saved(base_url="http://127.0.0.1:1/v1")) == [
        f"the plan was made against http://127.0.0.1:1/v1; this run uses {URL}"
    ]
    tampered = check(saved(plan_digest="0" * 64))
    assert tampered == [f"the plan computed now ({PLAN.digest()[:12]}…) is not the saved plan (000000000000…)"]


def test_the_file_round_trips_and_holds_hashes_not_values(tmp_path: Path) -> None:
    secret = "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789"
    register_secret(secret)
    obs = observed()
    obs.settings["proj_a"]["project_api_key"] = [{"redacted_value": "sk-proj-abc...789", "name": "confidential-name"}]
    plan = Plan.of([Change(action="report", kind="project_api_key", project="Alpha", reason=f"found {secret}")])
    path = tmp_path / "plan.json"
    original = make_saved_plan(load_desired_state(DESIRED), obs, plan, base_url=URL, created_at=NOW)
    write_saved_plan(path, original)
    text = path.read_text()
    assert secret not in text, "the file is passed through redaction"
    assert "confidential-name" not in text and "sk-proj-abc...789" not in text, "indexes hold hashes, never values"
    # What was redacted is no longer the plan that was reviewed: such a file is refused, never applied.
    with pytest.raises(ConfigError, match="do not match its plan_digest"):
        read_saved_plan(path)
    clean = make_saved_plan(load_desired_state(DESIRED), obs, PLAN, base_url=URL, created_at=NOW)
    write_saved_plan(path, clean)
    loaded = read_saved_plan(path)
    assert loaded.created_at == NOW and loaded.observed_digest == observed_digest(obs)
    assert loaded.observed_index == original.observed_index == clean.observed_index
    assert not list(tmp_path.glob(".*.tmp")), "written atomically, nothing left behind"


def test_a_saved_plan_whose_changes_were_edited_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    write_saved_plan(path, make_saved_plan(load_desired_state(DESIRED), observed(), PLAN, base_url=URL, created_at=NOW))
    data = json.loads(path.read_text())
    assert data["plan"]["changes"], "the fixture plan has changes to tamper with"
    data["plan"]["changes"] = data["plan"]["changes"][1:]  # hide a change from the reviewer
    path.write_text(json.dumps(data))
    with pytest.raises(ConfigError, match="its changes do not match its plan_digest"):
        read_saved_plan(path)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("not json", "is not JSON: line 1, column 1"),
        ("[]", "`kind` must be 'openai-datacontrols.saved-plan'"),
        ('{"kind": "openai-datacontrols.saved-plan", "format_version": 9}', "format_version 9 is not 1"),
        ('{"kind": "openai-datacontrols.saved-plan", "format_version": 1}', "created_at is missing"),
    ],
)
def test_a_bad_plan_file_is_one_clear_error(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "plan.json"
    path.write_text(content)
    with pytest.raises(ConfigError, match=expected.replace("(", r"\(").replace("[", r"\[")):
        read_saved_plan(path)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30m", 1800),
        ("1h", 3600),
        ("2h30m", 9000),
        ("90s", 90),
        ("1d", 86400),
        ("900", 900),
        (" 1H 5M ", 3900),
        ("1.5h", 5400),  # the one grammar of `datacontrols.durations`, shared with the daemon
    ],
)
def test_durations(text: str, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "soon", "1x", "h1", "0", "0m", "-5m", "99999999999d"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ConfigError):
        parse_duration(text)


def test_format_duration() -> None:
    assert [format_duration(timedelta(seconds=s)) for s in (5, 60, 3900, 90061)] == ["5s", "1m", "1h5m", "1d1h1m"]


def test_when_a_value_was_read_is_not_what_was_read() -> None:
    @dataclasses.dataclass(frozen=True)
    class Inventory:
        keys: tuple[str, ...]
        now: int = dataclasses.field(compare=False)

    first, later = observed(), observed()
    first.settings["proj_a"]["project_api_key"] = Inventory(keys=("k1",), now=1_000)
    later.settings["proj_a"]["project_api_key"] = Inventory(keys=("k1",), now=1_060)
    assert observed_digest(first) == observed_digest(later)
    assert first.digest() != later.digest(), "the engine's digest counts the clock; the saved plan's does not"
    later.settings["proj_a"]["project_api_key"] = Inventory(keys=("k1", "k2"), now=1_060)
    assert observed_digest(first) != observed_digest(later)
