"""The JSON Schema for editors: draft-07, generated from the models, committed, and agreeing with the loader."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import pytest
from ruamel.yaml import YAML

from datacontrols.desired import OrganizationFile, ProjectFile, desired_state_json_schema
from datacontrols.desired.jsonschema import DRAFT_07, SCHEMA_FILES, render_schema_file, write_schema_files

REPO = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures"
REGENERATE = (
    'uv run python -c "from datacontrols.desired.jsonschema import write_schema_files; '
    "write_schema_files('docs/schema')\""
)


def walk(node: Any) -> list[dict[str, Any]]:
    """Every schema object in a document (and some data objects: enough to look for keywords)."""
    if isinstance(node, list):
        return [found for item in node for found in walk(item)]
    if isinstance(node, dict):
        return [node, *(found for value in node.values() for found in walk(value))]
    return []


def load_yaml(path: Path) -> Any:
    return YAML(typ="rt").load(path.read_text())


@pytest.mark.parametrize("which", ["organization", "project"])
def test_committed_schema_files_are_fresh(which: Literal["organization", "project"]) -> None:
    committed = REPO / "docs" / "schema" / SCHEMA_FILES[which]
    assert committed.is_file(), f"missing {committed}; run: {REGENERATE}"
    assert committed.read_text() == render_schema_file(which), f"stale {committed.name}; run: {REGENERATE}"


def test_write_schema_files_writes_both(tmp_path: Path) -> None:
    written = write_schema_files(tmp_path / "schema")
    assert [path.name for path in written] == ["organization.schema.json", "project.schema.json"]
    assert json.loads(written[1].read_text()) == desired_state_json_schema("project")


@pytest.mark.parametrize("which", ["organization", "project", "both"])
def test_schema_is_draft_07(which: Any) -> None:
    schema = desired_state_json_schema(which)
    assert schema["$schema"] == DRAFT_07
    for node in walk(schema):
        assert "$defs" not in node and "prefixItems" not in node and "unevaluatedProperties" not in node
        ref = node.get("$ref")
        if ref is not None:
            assert ref.startswith("#/definitions/"), ref
            assert ref.removeprefix("#/definitions/") in schema["definitions"], ref
            assert set(node) == {"$ref"}, f"draft-07 ignores keywords beside $ref: {node}"


def test_schemas_carry_the_models_descriptions_and_closed_mappings() -> None:
    project = desired_state_json_schema("project")
    for name, info in ProjectFile.model_fields.items():
        assert project["properties"][name]["description"] == info.description, name
    assert project["additionalProperties"] is False
    assert project["required"] == ["name"]
    assert "EU_STORAGE_PROCESSING" in json.dumps(project["properties"]["residency"])
    organization = desired_state_json_schema("organization")
    for name, info in OrganizationFile.model_fields.items():
        assert organization["properties"][name]["description"] == info.description, name
    assert organization["definitions"]["ProjectDefaults"]["additionalProperties"] is False


def test_both_accepts_either_file() -> None:
    both = desired_state_json_schema("both")
    assert both["anyOf"] == [
        {"$ref": "#/definitions/OrganizationFile"},
        {"$ref": "#/definitions/ProjectFile"},
    ]
    assert {"OrganizationFile", "ProjectFile", "ModelPolicy"} <= set(both["definitions"])


def example_files() -> list[tuple[str, Path]]:
    root = REPO / "desired_state"
    return [("organization", root / "organization.yaml")] + [
        ("project", path) for path in sorted((root / "projects").glob("*.yaml"))
    ]


# (schema, fixture file) the schema must refuse, as the loader does
REFUSED = [
    ("project", "unknown_key_top/projects/support-bot.yaml"),
    ("project", "unknown_key_nested/projects/support-bot.yaml"),
    ("project", "enum_typos/projects/support-bot.yaml"),
    ("project", "enum_typos/projects/analytics.yaml"),
    ("project", "wrong_scalars/projects/p.yaml"),
    ("project", "mapping_for_list/projects/p.yaml"),
    ("project", "list_for_mapping/projects/p.yaml"),
    ("project", "missing_name/projects/p.yaml"),
    ("organization", "enum_typos/organization.yaml"),
    ("organization", "unknown_key_nested/organization.yaml"),
    ("organization", "list_for_mapping/organization.yaml"),
]


def test_examples_validate_and_broken_fixtures_do_not() -> None:
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema (via openapi-core) is not installed")
    schemas: dict[str, Any] = {
        which: json.loads((REPO / "docs" / "schema" / name).read_text()) for which, name in SCHEMA_FILES.items()
    }
    schemas["both"] = desired_state_json_schema("both")
    validators = {}
    for which, schema in schemas.items():
        jsonschema.Draft7Validator.check_schema(schema)
        validators[which] = jsonschema.Draft7Validator(schema)
    for kind, path in example_files():
        data = load_yaml(path)
        errors = [error.message for error in validators[kind].iter_errors(data)]
        assert errors == [], f"{path.name}: {errors}"
        assert not list(validators["both"].iter_errors(data)), path.name
    for kind, relative in REFUSED:
        assert list(validators[kind].iter_errors(load_yaml(FIXTURES / relative))), relative
