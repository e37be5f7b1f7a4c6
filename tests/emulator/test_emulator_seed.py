"""Seeding an organization from YAML/JSON/dict, dumping it back, and refusing broken seeds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from emulator_support import ADMIN_KEY

from datacontrols.adminapi import AdminApi
from datacontrols.emulator import Emulator, SeedError, load_seed, write_document
from testsupport.clock import START, FakeClock

SEED_YAML = """\
organization:
  data_retention: zero_data_retention
  approved_retention_types: [zero_data_retention, modified_abuse_monitoring]
projects:
  - {id: proj_default00000000000000000, name: Default project, default: true, created_at: 1700000000}
  - id: proj_supportbot0000000000000
    name: Support Bot
    residency: EU_STORAGE_PROCESSING
    external_key_id: ekm_42
    data_retention: zero_data_retention
    model_permissions: {mode: allow_list, model_ids: [gpt-4.1, o3]}
    hosted_tools: {mcp: false, code_interpreter: false}
  - {name: Old Experiment, status: archived, archived_at: 1710000000, created_at: 1705000000}
"""


async def test_a_yaml_seed_is_served_faithfully(tmp_path: Path, clock: FakeClock) -> None:
    seed_file = tmp_path / "org.yaml"
    seed_file.write_text(SEED_YAML)
    emulator = Emulator(admin_key=ADMIN_KEY, seed=seed_file, rng_seed=3, clock=clock)
    api = AdminApi.connect(admin_key=ADMIN_KEY, http_transport=emulator.http_transport())

    assert (await api.retention.get_organization()).type == "zero_data_retention"
    active = await api.projects.list()
    assert [p.name for p in active] == ["Default project", "Support Bot"]
    everything = await api.projects.list(include_archived=True)
    old = everything[2]
    assert (old.name, old.status, old.archived_at, old.created_at) == (
        "Old Experiment",
        "archived",
        1710000000,
        1705000000,
    )
    assert old.id.startswith("proj_") and len(old.id) == 29, "ids absent from the seed are generated"

    bot = "proj_supportbot0000000000000"
    project = await api.projects.retrieve(bot)
    assert (project.residency, project.external_key_id, project.created_at) == (
        "EU_STORAGE_PROCESSING",
        "ekm_42",
        int(START),
    )
    assert (await api.retention.get_project(bot)).type == "zero_data_retention"
    policy = await api.model_permissions.get(bot)
    assert policy is not None and (policy.mode, policy.model_ids) == ("allow_list", ["gpt-4.1", "o3"])
    assert (await api.hosted_tools.get(bot)).enabled() == {
        "file_search": True,
        "web_search": True,
        "image_generation": True,
        "mcp": False,
        "code_interpreter": False,
    }
    await api.aclose()


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
async def test_dump_and_reload_round_trip(tmp_path: Path, clock: FakeClock, suffix: str) -> None:
    seed_file = tmp_path / "org.yaml"
    seed_file.write_text(SEED_YAML)
    emulator = Emulator(admin_key=ADMIN_KEY, seed=seed_file, rng_seed=3, clock=clock)
    api = AdminApi.connect(admin_key=ADMIN_KEY, http_transport=emulator.http_transport())
    created = await api.projects.create("Made later", residency="JP_STORAGE")
    await api.model_permissions.update(created.id, mode="deny_list", model_ids=["o1"])
    await api.aclose()

    dumped = emulator.dump_state()
    out = tmp_path / f"dump{suffix}"
    write_document(out, dumped)
    if suffix == ".json":
        assert json.loads(out.read_text()) == dumped
    reloaded = Emulator(admin_key=ADMIN_KEY, seed=out, rng_seed=99, clock=FakeClock(START + 500))
    assert reloaded.dump_state() == dumped, "every field is in the dump, so nothing is regenerated"
    assert [p["name"] for p in dumped["projects"]] == ["Default project", "Support Bot", "Old Experiment", "Made later"]
    assert dumped["projects"][3]["model_permissions"] == {"mode": "deny_list", "model_ids": ["o1"]}
    assert dumped["organization"]["approved_retention_types"] == ["zero_data_retention", "modified_abuse_monitoring"]


def test_yaml_dump_keeps_the_documented_field_order(tmp_path: Path, emulator: Emulator) -> None:
    out = tmp_path / "dump.yml"
    write_document(out, emulator.dump_state())
    text = out.read_text()
    assert text.index("organization:") < text.index("projects:")
    assert text.index("id: proj_") < text.index("name: Default project") < text.index("residency: GLOBAL")


def test_load_seed_accepts_a_mapping_and_fills_defaults() -> None:
    seed = load_seed({"projects": [{"name": "Only"}]})
    (project,) = seed.projects
    assert (project.residency, project.status, project.data_retention, project.model_permissions) == (
        "GLOBAL",
        "active",
        "organization_default",
        None,
    )
    assert seed.organization.data_retention == "modified_abuse_monitoring"


@pytest.mark.parametrize(
    ("seed", "fragment"),
    [
        ({"projects": [{"name": "x", "residency": "MOON"}]}, "projects.0.residency"),
        ({"projects": [{"name": "x", "colour": "red"}]}, "projects.0.colour"),
        ({"projects": [{}]}, "projects.0.name"),
        ({"projects": [{"name": "a", "id": "proj_1"}, {"name": "b", "id": "proj_1"}]}, "proj_1"),
        ({"projects": [{"name": "a", "default": True}, {"name": "b", "default": True}]}, "more than one"),
        ({"projects": [{"name": "a", "archived_at": 5}]}, "archived_at"),
        ({"organization": {"data_retention": "standard"}}, "organization.data_retention"),
        ({"projects": [{"name": "x", "hosted_tools": {"browser": True}}]}, "hosted_tools"),
        ({"projects": [{"name": "x", "model_permissions": {"mode": "allow_list"}}]}, "model_ids"),
    ],
)
def test_broken_seeds_are_refused_with_the_location(seed: dict[str, Any], fragment: str) -> None:
    with pytest.raises(SeedError) as caught:
        load_seed(seed)
    assert fragment in str(caught.value)


def test_unreadable_seed_files_name_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "missing.yaml"
    with pytest.raises(SeedError, match=r"missing\.yaml"):
        load_seed(missing)
    broken = tmp_path / "broken.json"
    broken.write_text("{nope")
    with pytest.raises(SeedError, match=r"broken\.json: not valid JSON"):
        load_seed(broken)
    listed = tmp_path / "list.yaml"
    listed.write_text("- a\n- b\n")
    with pytest.raises(SeedError, match="mapping"):
        load_seed(listed)
    invalid = tmp_path / "invalid.yaml"
    invalid.write_text("projects:\n  - {name: x, status: deleted}\n")
    with pytest.raises(SeedError, match=r"invalid\.yaml: invalid seed at projects\.0\.status"):
        load_seed(invalid)


def test_load_seed_replaces_the_whole_state(emulator: Emulator) -> None:
    emulator.load_seed({"projects": [{"name": "A"}, {"name": "B"}]})
    assert [p.name for p in emulator.state.projects.values()] == ["A", "B"]
    assert emulator.state.default_project() is None
    emulator.load_seed(None)
    assert [p.name for p in emulator.state.projects.values()] == ["Default project"]
