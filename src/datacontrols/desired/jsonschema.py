"""JSON Schema for the desired-state files, for editors (yaml-language-server) and CI validators.

Generated from the pydantic models, so descriptions, enums and closed mappings follow them. pydantic writes
draft 2020-12; yaml-language-server validates with draft-07, so the output is rewritten into draft-07:
`definitions` instead of `$defs`, tuples as `items` arrays, and a `$ref` never beside other keywords (draft-07
ignores a `$ref`'s siblings, which would drop descriptions and defaults).

The committed copies live in docs/schema/; regenerate them with (a test fails when they are stale)
`uv run python -c "from datacontrols.desired.jsonschema import write_schema_files; write_schema_files('docs/schema')"`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Final, Literal

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from datacontrols.desired.schema import OrganizationFile, ProjectFile

__all__ = ["DRAFT_07", "SCHEMA_FILES", "desired_state_json_schema", "render_schema_file", "write_schema_files"]

DRAFT_07: Final = "http://json-schema.org/draft-07/schema#"
SCHEMA_FILES: Final[dict[Literal["organization", "project"], str]] = {
    "organization": "organization.schema.json",
    "project": "project.schema.json",
}
_GENERATED: Final = "Generated from the pydantic models by datacontrols.desired.jsonschema; do not edit."
_REF_TEMPLATE: Final = "#/definitions/{model}"
_MODELS: Final[dict[str, type[BaseModel]]] = {"organization": OrganizationFile, "project": ProjectFile}
_TITLES: Final = {
    "organization": "desired_state/organization.yaml",
    "project": "desired_state/projects/<name>.yaml",
    "both": "openai-datacontrols desired state",
}
# Keywords that only exist after draft-07; none may survive the rewrite.
_LATER_KEYWORDS: Final = frozenset(
    {
        "$defs",
        "prefixItems",
        "unevaluatedProperties",
        "unevaluatedItems",
        "dependentRequired",
        "dependentSchemas",
        "$anchor",
        "$dynamicRef",
        "$dynamicAnchor",
        "minContains",
        "maxContains",
    }
)


def desired_state_json_schema(which: Literal["organization", "project", "both"] = "both") -> dict[str, Any]:
    """A draft-07 JSON Schema for organization.yaml, a project file, or either (`both`: the root is an
    `anyOf` of the two, both kept under `definitions`)."""
    if which == "both":
        refs, top = models_json_schema(
            [(OrganizationFile, "validation"), (ProjectFile, "validation")], ref_template=_REF_TEMPLATE
        )
        body: dict[str, Any] = {
            "description": "Either desired_state/organization.yaml or one desired_state/projects/<name>.yaml file.",
            "anyOf": [refs[(model, "validation")] for model in (OrganizationFile, ProjectFile)],
            "definitions": top.get("$defs", {}),
        }
    else:
        body = _MODELS[which].model_json_schema(ref_template=_REF_TEMPLATE)
        body["definitions"] = body.pop("$defs", {})
        if not body["definitions"]:
            del body["definitions"]
    body.pop("title", None)
    schema = {"$schema": DRAFT_07, "$comment": _GENERATED, "title": _TITLES[which], **_draft07(body)}
    later = _keywords(schema) & _LATER_KEYWORDS
    if later:  # a new model construct pydantic renders in 2020-12 only: teach `_draft07` about it
        raise RuntimeError(f"JSON Schema keywords newer than draft-07 remain: {sorted(later)}")
    return schema


def render_schema_file(which: Literal["organization", "project"]) -> str:
    """The exact text of docs/schema/<which>.schema.json."""
    return json.dumps(desired_state_json_schema(which), indent=2, ensure_ascii=False) + "\n"


def write_schema_files(directory: str | Path) -> list[Path]:
    """Write organization.schema.json and project.schema.json into `directory`; return their paths."""
    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for which, name in SCHEMA_FILES.items():
        path = target / name
        path.write_text(render_schema_file(which), encoding="utf-8")
        written.append(path)
    return written


def _draft07(node: Any) -> Any:
    """Rewrite pydantic's 2020-12 output into draft-07, recursively."""
    if isinstance(node, list):
        return [_draft07(item) for item in node]
    if not isinstance(node, dict):
        return node
    result = {key: _draft07(value) for key, value in node.items()}
    if "$defs" in result:
        result["definitions"] = {**result.pop("$defs"), **result.get("definitions", {})}
    if "prefixItems" in result:  # a tuple: positional item schemas, then what may follow them
        following = result.pop("items", None)
        result["items"] = result.pop("prefixItems")
        result["additionalItems"] = following if following is not None else False
    if "$ref" in result and len(result) > 1:
        result = {"allOf": [{"$ref": result.pop("$ref")}], **result}
    return result


def _keywords(node: Any) -> set[str]:
    if isinstance(node, list):
        return {key for item in node for key in _keywords(item)}
    if isinstance(node, dict):
        found = set(node)
        for key, value in node.items():
            # the names under properties/definitions are data, not keywords
            children = value.values() if key in ("properties", "definitions") and isinstance(value, dict) else [value]
            for child in children:
                found |= _keywords(child)
        return found
    return set()
