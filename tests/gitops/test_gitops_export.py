"""`reconcile export`: live state written as a desired state that plans empty against the same organization."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from gitops_support import ADMIN_KEY, demo_seed, run_cli, served_emulator

from datacontrols.adminapi import AdminApi
from datacontrols.adminapi.permissions import ModelPermissions
from datacontrols.adminapi.projects import Project
from datacontrols.demo import demo_seed_path
from datacontrols.emulator import Emulator
from datacontrols.engine import DEFAULT_REGISTRY, Registry, diff, observe
from datacontrols.errors import ConfigError
from datacontrols.export import NotExportable, export_organization, exporter_of, file_stems
from datacontrols.kinds.base import Kind


def test_export_then_plan_against_the_demo_organization_is_empty(capsys, monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "exported"
    with served_emulator() as served:
        exported = run_cli(capsys, monkeypatch, ["export", "--out", str(out)], DATACONTROLS_BASE_URL=served.base_url)
        methods = served.emulator.requests.methods()
        plan = run_cli(
            capsys,
            monkeypatch,
            ["--dry-run", "--detailed-exitcode", "--format", "json", "--desired-state", str(out)],
            DATACONTROLS_BASE_URL=served.base_url,
        )
    assert exported.code == 0, exported.stderr
    assert methods == {"GET"}, "export only reads"
    assert plan.code == 0, plan.stdout
    assert plan.json()["summary"] == {
        "create": 0,
        "update": 0,
        "delete": 0,
        "archive": 0,
        "uncorrectable": 0,
        "report": plan.json()["summary"]["report"],
    }
    assert not [c for c in plan.json()["changes"] if c["action"] != "report"]

    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.yaml"))
    assert files == [
        "organization.yaml",
        "projects/legacy-chatbot.yaml",
        "projects/research-sandbox.yaml",
        "projects/support-bot.yaml",
    ]
    support = (out / "projects" / "support-bot.yaml").read_text()
    assert support.startswith("# yaml-language-server: $schema=")
    body = [line for line in support.splitlines() if line and not line.startswith("#")]
    assert body[:4] == [
        "name: Support Bot",
        "id: proj_DemoSupportBot00000000001",
        "residency: EU_STORAGE_PROCESSING",
        "external_key_id: null",
    ]
    assert "model_permissions: unrestricted" in body
    assert [line.split(":")[0].strip() for line in body[body.index("hosted_tools:") + 1 :][:5]] == [
        "code_interpreter",
        "file_search",
        "image_generation",
        "mcp",
        "web_search",
    ]
    organization = (out / "organization.yaml").read_text()
    assert "data_retention: modified_abuse_monitoring" in organization
    assert "unmanaged_projects: report" in organization
    assert "Exported the organization and 3 projects" in exported.stdout


async def test_round_trip_in_process_and_every_builtin_control_is_written(tmp_path: Path) -> None:
    emulator = Emulator(admin_key=ADMIN_KEY, seed=demo_seed_path(), rng_seed=1)
    async with AdminApi.connect(
        admin_key=ADMIN_KEY, base_url="https://api.openai.com/v1", http_transport=emulator.http_transport()
    ) as api:
        result = await export_organization(api, tmp_path / "out")
        assert result.desired is not None
        plan = diff(result.desired, await observe(api, result.desired))
    assert not plan.has_changes
    for project in result.desired.projects:
        assert project.id is not None and project.manages_external_key
        assert project.data_retention is not None and project.model_permissions is not None
        assert project.hosted_tools is not None and len(project.hosted_tools) == 5
    assert result.desired.organization.organization.data_retention == "modified_abuse_monitoring"


def test_existing_files_are_not_overwritten_without_force(capsys, monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "exported"
    (out / "projects").mkdir(parents=True)
    (out / "projects" / "mine.yaml").write_text("name: Mine\n")
    with served_emulator() as served:
        refused = run_cli(capsys, monkeypatch, ["export", "--out", str(out)], DATACONTROLS_BASE_URL=served.base_url)
        requests = list(served.emulator.requests)
        forced = run_cli(
            capsys, monkeypatch, ["export", "--out", str(out), "--force"], DATACONTROLS_BASE_URL=served.base_url
        )
    assert refused.code == 1
    assert "already holds a desired state (projects/mine.yaml)" in refused.stderr and "--force" in refused.stderr
    assert requests == [], "refused before any request"
    assert forced.code == 0, forced.stderr
    assert (out / "projects" / "mine.yaml").read_text() == "name: Mine\n", "a file export did not write is left"
    assert "projects/mine.yaml was not written by this export and is still part of the desired state" in forced.stderr
    missing = [k.name for k in (*DEFAULT_REGISTRY.organization, *DEFAULT_REGISTRY.project) if exporter_of(k) is None]
    if missing:  # a control without an exporter shows up as a gap, never silently
        assert f"note: not exported (these kinds have no exporter yet): {', '.join(dict.fromkeys(missing))}" in (
            forced.stderr
        )


def test_file_names_are_kebab_case_and_clashes_are_numbered() -> None:
    projects = [
        Project(id="proj_b", name="Support Bot"),
        Project(id="proj_a", name="Support  Bot!"),
        Project(id="proj_c", name="Équipe Données"),
        Project(id="proj_d", name="???"),
        Project(id="proj_e", name="support-bot"),
    ]
    assert file_stems(projects) == {
        "proj_a": "support-bot",
        "proj_b": "support-bot-2",
        "proj_e": "support-bot-3",
        "proj_c": "equipe-donnees",
        "proj_d": "project",
    }


async def test_names_that_yaml_would_misread_survive_the_round_trip(tmp_path: Path) -> None:
    seed = demo_seed()
    names = ["yes", "123", "null", "a: b", "#hash", 'O\'Brien "quoted"']
    seed["projects"] = [
        {"id": f"proj_Odd{i:020d}", "name": name, "status": "active", "residency": "GLOBAL"}
        for i, name in enumerate(names)
    ]
    emulator = Emulator(admin_key=ADMIN_KEY, seed=seed, rng_seed=1)
    async with AdminApi.connect(
        admin_key=ADMIN_KEY, base_url="https://api.openai.com/v1", http_transport=emulator.http_transport()
    ) as api:
        result = await export_organization(api, tmp_path / "odd")
        assert result.desired is not None
        plan = diff(result.desired, await observe(api, result.desired))
    assert sorted(p.name for p in result.desired.projects) == sorted(names)
    assert not plan.has_changes


def test_an_empty_allow_list_is_left_out_with_a_note() -> None:
    exporter = exporter_of(next(k for k in DEFAULT_REGISTRY.project if k.name == "project_model_permissions"))
    assert exporter is not None

    with pytest.raises(NotExportable, match="empty allow list"):
        exporter(ModelPermissions(mode="allow_list", model_ids=[]))
    assert exporter(ModelPermissions(mode="deny_list", model_ids=["b", "a", "a"])) == {
        "model_permissions": {"mode": "deny_list", "model_ids": ["a", "b"]}
    }
    assert exporter(None) == {"model_permissions": "unrestricted"}


def test_a_kind_exports_its_own_part_when_it_declares_it() -> None:
    class WithExport(Kind):
        name = "project_data_retention"
        group = "data_retention"
        exports = True

        def export(self, observed: Any) -> dict[str, Any]:
            return {"data_retention": f"own-{observed}"}

    class Without(Kind):
        name = "project_something_new"
        group = "limits"
        exports = False

    own = exporter_of(WithExport())
    assert own is not None and own("x") == {"data_retention": "own-x"}
    assert exporter_of(Without()) is None


async def test_a_kind_without_an_exporter_is_not_read_and_is_named(tmp_path: Path) -> None:
    emulator = Emulator(admin_key=ADMIN_KEY, seed=demo_seed_path(), rng_seed=1)
    retention = next(k for k in DEFAULT_REGISTRY.project if k.name == "project_data_retention")
    registry = Registry(organization=(), project=(retention,))
    async with AdminApi.connect(
        admin_key=ADMIN_KEY, base_url="https://api.openai.com/v1", http_transport=emulator.http_transport()
    ) as api:
        result = await export_organization(api, tmp_path / "out", registry=registry)
    templates = {e.template for e in emulator.requests}
    assert templates == {"/organization/projects", "/organization/projects/{project_id}/data_retention"}
    assert result.notes == []
    assert result.desired is not None and all(p.hosted_tools is None for p in result.desired.projects)


def test_out_must_be_a_directory(tmp_path: Path) -> None:
    from datacontrols.export import check_target

    target = tmp_path / "file"
    target.write_text("x")
    with pytest.raises(ConfigError, match="is not a directory"):
        check_target(target, force=True)


# --- --project: add one project to a desired state that exists ---------------------------------------------


async def exported_with(emulator: Emulator, out: Path, **options: Any) -> Any:
    async with AdminApi.connect(
        admin_key=ADMIN_KEY, base_url="https://api.openai.com/v1", http_transport=emulator.http_transport()
    ) as api:
        return await export_organization(api, out, **options)


async def test_export_of_one_project_adds_its_file_alone_and_reads_only_what_it_needs(tmp_path: Path) -> None:
    emulator = Emulator(admin_key=ADMIN_KEY, seed=demo_seed_path(), rng_seed=1)
    out = tmp_path / "desired"
    whole = await exported_with(emulator, out)
    (out / "projects" / "support-bot.yaml").unlink()
    organization = (out / "organization.yaml").read_text()
    emulator.requests.clear()

    added = await exported_with(emulator, out, only=["Support Bot"])

    assert [p.relative_to(out).as_posix() for p in added.written] == ["projects/support-bot.yaml"]
    assert (out / "organization.yaml").read_text() == organization  # left as it was
    assert added.desired is not None and added.desired == whole.desired  # the same desired state again
    templates = {entry.template or entry.path for entry in emulator.requests}
    # A read filtered by `project_id` (external storage) is one project's read, not the organization's.
    organization_level = {
        entry.template or entry.path
        for entry in emulator.requests
        if "{project_id}" not in (entry.template or entry.path) and "project_id" not in entry.query
    }
    assert organization_level == {"/organization/projects"}, templates  # nothing of the organization but its list
    project_ids = {part for e in emulator.requests for part in e.path.split("/") if part.startswith("proj_")}
    project_ids |= {e.query["project_id"] for e in emulator.requests if "project_id" in e.query}
    assert project_ids == {"proj_DemoSupportBot00000000001"}


@pytest.mark.parametrize(
    ("name", "setup", "message"),
    [
        ("Nobody", None, "'Nobody' is not a live project"),
        ("Support Bot", "same", "exists; nothing was written. Pass --merge to update it, or --force"),
        ("Support Bot", "elsewhere", "already described by"),
    ],
)
async def test_export_of_one_project_refuses_what_would_be_wrong(
    tmp_path: Path, name: str, setup: str | None, message: str
) -> None:
    emulator = Emulator(admin_key=ADMIN_KEY, seed=demo_seed_path(), rng_seed=1)
    out = tmp_path / "desired"
    await exported_with(emulator, out)
    if setup == "elsewhere":
        (out / "projects" / "support-bot.yaml").rename(out / "projects" / "bot.yaml")
    before = {p: p.read_bytes() for p in out.rglob("*.yaml")}
    with pytest.raises(ConfigError, match=message):
        await exported_with(emulator, out, only=[name])
    assert {p: p.read_bytes() for p in out.rglob("*.yaml")} == before  # nothing written


def test_export_project_on_the_command_line(capsys, monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "exported"
    with served_emulator() as served:
        first = run_cli(capsys, monkeypatch, ["export", "--out", str(out)], DATACONTROLS_BASE_URL=served.base_url)
        (out / "projects" / "legacy-chatbot.yaml").unlink()
        again = run_cli(
            capsys,
            monkeypatch,
            ["export", "--out", str(out), "--project", "Legacy Chatbot"],
            DATACONTROLS_BASE_URL=served.base_url,
        )
    assert first.code == 0 and again.code == 0, again.stderr
    assert "Exported 1 project to" in again.stdout and "projects/legacy-chatbot.yaml" in again.stdout
    assert (out / "projects" / "legacy-chatbot.yaml").exists()


async def test_spend_limits_and_alerts_are_exported_so_that_the_plan_is_empty(tmp_path: Path) -> None:
    seed: dict[str, Any] = {
        "organization": {
            "spend_limit": {"threshold_amount": 2_000_000},
            "spend_alerts": [{"threshold_amount": 150_000, "recipients": ["finops@example.com"]}],
        },
        "projects": [
            {
                "name": "Support",
                "spend_limit": {"threshold_amount": 1999},
                "spend_alerts": [
                    {
                        "threshold_amount": 900,
                        "recipients": ["b@example.com", "a@example.com"],
                        "subject_prefix": "[x]",
                    },
                    {"threshold_amount": 0, "recipients": ["a@example.com"]},
                ],
            },
            {"name": "Plain"},
        ],
    }
    emulator = Emulator(admin_key=ADMIN_KEY, seed=seed, rng_seed=1)
    async with AdminApi.connect(
        admin_key=ADMIN_KEY, base_url="https://api.openai.com/v1", http_transport=emulator.http_transport()
    ) as api:
        result = await export_organization(api, tmp_path / "out")
        assert result.desired is not None
        plan = diff(result.desired, await observe(api, result.desired))
    assert not plan.has_changes, list(plan)
    organization = result.desired.organization.organization
    assert organization.spend_limit is not None and organization.spend_alerts is not None
    support = (tmp_path / "out" / "projects" / "support.yaml").read_text()
    assert "amount_usd: 19.99" in support and "subject_prefix: '[x]'" in support
    assert "threshold_usd: 0" in support and "threshold_usd: 9" in support
    plain = (tmp_path / "out" / "projects" / "plain.yaml").read_text()
    assert "spend_limit" not in plain and "spend_alerts" not in plain, "none live: left unmanaged"
