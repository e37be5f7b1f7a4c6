"""`reconcile export --merge` and the `$schema` references: files a person keeps editing, in their own repository."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from gitops_support import ADMIN_KEY, run_cli, served_emulator
from ruamel.yaml import YAML

from datacontrols.adminapi import AdminApi
from datacontrols.demo import demo_seed_path
from datacontrols.desired.jsonschema import render_schema_file
from datacontrols.emulator import Emulator
from datacontrols.engine import diff, observe
from datacontrols.errors import ConfigError
from datacontrols.export import export_organization
from datacontrols.export_merge import merge_document

SCHEMA_MARK = "# yaml-language-server: $schema="


def loaded(text: str) -> Any:
    return YAML(typ="rt").load(text)


def dumped(node: Any) -> str:
    buffer = io.StringIO()
    YAML(typ="rt").dump(node, buffer)
    return buffer.getvalue()


# --- the merge, on its own -------------------------------------------------------------------------------


def test_unchanged_values_keep_their_comments_and_changed_ones_take_the_live_value() -> None:
    existing = loaded(
        "# our support bot\n"
        "name: Support Bot\n"
        "data_retention: zero_data_retention  # contract 2025-03, clause 4\n"
        "hosted_tools:\n"
        "  web_search: false  # legal said no\n"
        "  file_search: true\n"
    )
    fresh = {
        "name": "Support Bot",
        "data_retention": "modified_abuse_monitoring",
        "hosted_tools": {"web_search": False, "file_search": False},
    }
    merged, kept = merge_document(existing, fresh)
    text = dumped(merged)
    assert kept == []
    assert text.startswith("# our support bot\n")
    # The comment stays on its line (its column moves when the value grows).
    assert re.search(r"^data_retention: modified_abuse_monitoring +# contract 2025-03, clause 4$", text, re.M)
    assert "web_search: false  # legal said no" in text and "file_search: false" in text
    assert loaded(text) == fresh


def test_members_are_merged_by_identity_so_a_comment_on_one_survives_a_newcomer() -> None:
    existing = loaded(
        "spend_alerts:\n"
        "  - {threshold_usd: 250, recipients: [a@example.com]}\n"
        "service_accounts:\n"
        "  - name: bot  # the production bot\n"
        "    role: member\n"
        "  - name: gone\n"
        "    role: member\n"
    )
    fresh = {"service_accounts": [{"name": "bot", "role": "owner"}, {"name": "new", "role": "member"}]}
    merged, kept = merge_document(existing, fresh)
    text = dumped(merged)
    assert re.search(r"- name: bot +# the production bot$", text, re.M)
    assert loaded(text)["service_accounts"] == [{"name": "bot", "role": "owner"}, {"name": "new", "role": "member"}]
    assert kept == ["spend_alerts"], "a key the export did not write is kept, and named"
    assert loaded(text)["spend_alerts"] == [{"threshold_usd": 250, "recipients": ["a@example.com"]}]


def test_a_list_without_identities_is_replaced_whole_and_a_non_mapping_file_is_replaced() -> None:
    merged, _ = merge_document(loaded("models: [a, b]\n"), {"models": ["a", "c"]})
    assert loaded(dumped(merged)) == {"models": ["a", "c"]}
    replaced, kept = merge_document(loaded("- just a list\n"), {"name": "x"})
    assert (replaced, kept) == ({"name": "x"}, [])


# --- through export ---------------------------------------------------------------------------------------


async def exported(emulator: Emulator, out: Path, **options: Any) -> Any:
    async with AdminApi.connect(
        admin_key=ADMIN_KEY, base_url="https://api.openai.com/v1", http_transport=emulator.http_transport()
    ) as api:
        result = await export_organization(api, out, **options)
        assert result.desired is not None
        return result, diff(result.desired, await observe(api, result.desired))


async def test_outside_this_repository_the_schema_is_written_beside_the_files_and_every_reference_resolves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # a user's repository: no docs/schema here
    emulator = Emulator(admin_key=ADMIN_KEY, seed=demo_seed_path(), rng_seed=1)
    result, _ = await exported(emulator, tmp_path / "desired_state")
    out = tmp_path / "desired_state"
    assert sorted(p.relative_to(out).as_posix() for p in result.schemas) == [
        "schema/organization.schema.json",
        "schema/project.schema.json",
    ]
    assert (out / "schema" / "project.schema.json").read_text() == render_schema_file("project")
    for path in result.written:
        first = path.read_text().splitlines()[0]
        assert first.startswith(SCHEMA_MARK), path
        target = (path.parent / first.removeprefix(SCHEMA_MARK)).resolve()
        assert target.is_file(), f"{path.name}: {first}"
        assert target.name == (
            "organization.schema.json" if path.name == "organization.yaml" else "project.schema.json"
        )


async def test_merge_folds_live_drift_into_edited_files_keeping_comments_and_plans_empty(tmp_path: Path) -> None:
    emulator = Emulator(admin_key=ADMIN_KEY, seed=demo_seed_path(), rng_seed=1)
    out = tmp_path / "desired"
    await exported(emulator, out)
    path = out / "projects" / "support-bot.yaml"
    edited = path.read_text().replace(
        "name: Support Bot\n", "# owned by the support team\nname: Support Bot  # as in the dashboard\n"
    )
    edited = edited.replace("file_search: true", "file_search: true  # needed for the help-centre index")
    path.write_text(edited)
    async with AdminApi.connect(
        admin_key=ADMIN_KEY, base_url="https://api.openai.com/v1", http_transport=emulator.http_transport()
    ) as api:  # a person changes a setting in the dashboard
        project = next(p for p in await api.projects.list() if p.name == "Support Bot")
        await api.hosted_tools.update(project.id, {"file_search": False})

    _, plan = await exported(emulator, out, merge=True)

    assert not plan.has_changes, list(plan)
    text = path.read_text()
    assert "# owned by the support team\nname: Support Bot  # as in the dashboard\n" in text
    assert re.search(r"^  file_search: false +# needed for the help-centre index$", text, re.M)
    assert text.splitlines()[0].startswith(SCHEMA_MARK)


@pytest.mark.parametrize("how", ["merge", "force"])
async def test_a_project_file_named_as_the_repository_likes_is_the_one_written(tmp_path: Path, how: str) -> None:
    emulator = Emulator(admin_key=ADMIN_KEY, seed=demo_seed_path(), rng_seed=1)
    out = tmp_path / "desired"
    await exported(emulator, out)
    projects = out / "projects"
    (projects / "support-bot.yaml").rename(projects / "helpdesk.yaml")  # by id and name
    sandbox = (projects / "research-sandbox.yaml").read_text()
    (projects / "research-sandbox.yaml").unlink()
    (projects / "lab.yaml").write_text(
        "\n".join(line for line in sandbox.splitlines() if not line.startswith("id:")) + "\n"
    )

    result, plan = await exported(emulator, out, **{how: True})
    assert sorted(p.name for p in projects.glob("*.yaml")) == ["helpdesk.yaml", "lab.yaml", "legacy-chatbot.yaml"]
    assert "name: Support Bot" in (projects / "helpdesk.yaml").read_text()
    assert "name: Research Sandbox" in (projects / "lab.yaml").read_text()  # found by name, without an id
    assert result.desired is not None and not plan.has_changes


async def test_merge_keeps_what_export_does_not_write_and_says_so(tmp_path: Path) -> None:
    emulator = Emulator(admin_key=ADMIN_KEY, seed=demo_seed_path(), rng_seed=1)
    out = tmp_path / "desired"
    await exported(emulator, out)
    path = out / "projects" / "support-bot.yaml"
    path.write_text(path.read_text() + "rate_limits:  # ours\n  gpt-4.1: {max_requests_per_1_minute: 500}\n")
    result, _ = await exported(emulator, out, merge=True)
    assert "rate_limits:  # ours" in path.read_text()
    assert any(note.startswith("support-bot.yaml: kept as written") and "rate_limits" in note for note in result.notes)


async def test_a_file_that_is_not_yaml_stops_the_merge_before_any_write(tmp_path: Path) -> None:
    emulator = Emulator(admin_key=ADMIN_KEY, seed=demo_seed_path(), rng_seed=1)
    out = tmp_path / "desired"
    await exported(emulator, out)
    (out / "projects" / "support-bot.yaml").write_text("name: [unclosed\n")
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    with pytest.raises(ConfigError, match=r"support-bot.yaml cannot be merged, it is not valid YAML"):
        await exported(emulator, out, merge=True)
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


def test_merge_and_force_together_are_refused_and_json_is_one_document(capsys, monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "exported"
    with served_emulator() as served:
        url = served.base_url
        first = run_cli(
            capsys, monkeypatch, ["export", "--out", str(out), "--format", "json"], DATACONTROLS_BASE_URL=url
        )
        both = run_cli(
            capsys, monkeypatch, ["export", "--out", str(out), "--merge", "--force"], DATACONTROLS_BASE_URL=url
        )
        again = run_cli(capsys, monkeypatch, ["export", "--out", str(out), "--merge"], DATACONTROLS_BASE_URL=url)
        wrong = run_cli(
            capsys, monkeypatch, ["export", "--out", str(out), "--format", "yaml"], DATACONTROLS_BASE_URL=url
        )
    assert first.code == 0, first.stderr
    summary = json.loads(first.stdout)
    assert summary["projects"] == 3 and "organization.yaml" in summary["written"]
    assert set(summary) == {"out", "projects", "written", "schemas", "notes"}
    assert both.code == 1 and "--force and --merge contradict each other" in both.stderr
    assert again.code == 0 and "Exported the organization and 3 projects" in again.stdout, again.stderr
    assert wrong.code == 1 and "--format must be text or json" in wrong.stderr


def test_spend_alerts_are_matched_by_threshold() -> None:
    existing = loaded(
        "spend_alerts:\n  - threshold_usd: 250  # finance's first warning\n    recipients: [a@example.com]\n"
    )
    fresh = {
        "spend_alerts": [
            {"threshold_usd": 250, "recipients": ["b@example.com"]},
            {"threshold_usd": 400, "recipients": ["a@example.com"]},
        ]
    }
    merged, _ = merge_document(existing, fresh)
    text = dumped(merged)
    assert re.search(r"threshold_usd: 250 +# finance's first warning$", text, re.M)
    assert loaded(text) == fresh


# --- rate limits: exported when asked ---------------------------------------------------------------------

RATE_SEED: dict[str, Any] = {
    "organization": {
        "model_rate_limits": {
            "gpt-4.1": {"max_requests_per_1_minute": 10000, "max_tokens_per_1_minute": 2000000},
            "gpt-image-1": {
                "max_requests_per_1_minute": 100,
                "max_tokens_per_1_minute": 1000,
                "max_images_per_1_minute": 50,
            },
        }
    },
    "projects": [
        {"name": "Support", "rate_limits": {"gpt-4.1": {"max_requests_per_1_minute": 500}}},
        {"name": "Plain"},
    ],
}


async def test_rate_limits_are_left_out_unless_asked_and_then_restore_the_project_after_drift(tmp_path: Path) -> None:
    emulator = Emulator(admin_key=ADMIN_KEY, seed=RATE_SEED, rng_seed=1)
    plain, _ = await exported(emulator, tmp_path / "plain")
    asked = "not exported unless asked (each later plan would read them too): "
    assert "project_rate_limit" in next(n.removeprefix(asked).split(", ") for n in plain.notes if n.startswith(asked))
    assert all(p.rate_limits is None for p in plain.desired.projects)
    emulator.requests.clear()

    result, plan = await exported(emulator, tmp_path / "out", also=["project_rate_limit"])

    assert not plan.has_changes, list(plan)
    support = next(p for p in result.desired.projects if p.name == "Support")
    assert support.rate_limits is not None
    assert {model: limits.limits() for model, limits in support.rate_limits.items()} == {
        "gpt-4.1": {"max_requests_per_1_minute": 500, "max_tokens_per_1_minute": 2000000},
        "gpt-image-1": {
            "max_requests_per_1_minute": 100,
            "max_tokens_per_1_minute": 1000,
            "max_images_per_1_minute": 50,
        },
    }
    assert not [n for n in result.notes if "unless asked" in n and "project_rate_limit" in n]
    async with AdminApi.connect(
        admin_key=ADMIN_KEY, base_url="https://api.openai.com/v1", http_transport=emulator.http_transport()
    ) as api:  # a person raises a limit by hand; the exported files alone put it back
        project = next(p for p in await api.projects.list() if p.name == "Support")
        row = next(r for r in await api.rate_limits.list(project.id) if r.model == "gpt-4.1")
        await api.rate_limits.update(project.id, row.id, {"max_requests_per_1_minute": 9000})
        drifted = diff(result.desired, await observe(api, result.desired))
    updates = [c for c in drifted if c.action == "update"]
    assert [(c.kind, c.subject, c.fields["max_requests_per_1_minute"].after) for c in updates] == [
        ("project_rate_limit", "gpt-4.1", 500)
    ]
