"""Spec-generated request bodies for the issue-2 write endpoints, sent to the emulator; every answer validated.

The bodies are drawn by Hypothesis from the spec's own request schemas (a small JSON Schema -> strategy
translation below; schemathesis is not a dependency), so the inputs are whatever the spec allows, not what the
client happens to send: odd names, nulls where the spec allows them, empty and repeated model lists, every
enum value. Each write is followed by reads of what it touched. Every request and response goes through
`ValidatingTransport`: a documented status must match its schema, any other must be the error envelope.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from contract_support import ADMIN_KEY, BASE_URL, Spec, ValidatingTransport, require_spec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from datacontrols.emulator import Emulator

SPEC = require_spec()
ACTIVE, ARCHIVED = "proj_fuzzactive000000000001", "proj_fuzzarchived0000000001"
SEED = {
    "projects": [
        {"id": ACTIVE, "name": "Fuzz", "external_key_id": "ekm_fuzz"},
        {"id": ARCHIVED, "name": "Fuzz old", "status": "archived"},
    ]
}
FUZZ = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,  # the same examples on every run: a CI failure reproduces locally
    suppress_health_check=[HealthCheck.too_slow],
)


def from_schema(schema: dict[str, Any], spec: Spec) -> st.SearchStrategy[Any]:
    """Values valid for a JSON Schema, for the keywords the Admin API request schemas use.

    An unknown keyword raises instead of being ignored, so the generator never quietly produces values
    the schema does not describe (the validating transport would catch them anyway)."""
    if "$ref" in schema:
        return from_schema(spec.schema(schema["$ref"].rsplit("/", 1)[-1]), spec)
    if "anyOf" in schema:
        return st.one_of([from_schema(branch, spec) for branch in schema["anyOf"]])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if kind == "object":
        known = {"type", "properties", "required", "description", "title"}
        if set(schema) - known:
            raise NotImplementedError(f"object keywords {sorted(set(schema) - known)}")
        properties = schema.get("properties", {})
        required = set(schema.get("required", ()))
        return st.fixed_dictionaries(
            {name: from_schema(sub, spec) for name, sub in properties.items() if name in required},
            optional={name: from_schema(sub, spec) for name, sub in properties.items() if name not in required},
        )
    if kind == "array":
        return st.lists(from_schema(schema.get("items", {}), spec), max_size=5)
    if kind == "string":
        return st.text(max_size=40)
    if kind == "boolean":
        return st.booleans()
    if kind == "integer":
        return st.integers(min_value=schema.get("minimum", -(2**31)), max_value=schema.get("maximum", 2**31))
    if kind == "null":
        return st.none()
    raise NotImplementedError(f"schema {schema}")


def request_schema(template: str, method: str) -> dict[str, Any]:
    body: dict[str, Any] = SPEC.document["paths"][template][method]["requestBody"]["content"]["application/json"]
    schema: dict[str, Any] = body["schema"]
    return schema


async def send(method: str, path: str, body: Any, follow_up: list[str]) -> ValidatingTransport:
    """One write, then reads of what it touched, on a fresh emulator; returns the transport that checked them."""
    emulator = Emulator(admin_key=ADMIN_KEY, seed=SEED, rng_seed=0, clock=lambda: 1_780_000_000.0)
    checked = ValidatingTransport(emulator.http_transport(), SPEC)
    async with httpx.AsyncClient(
        transport=checked, base_url=BASE_URL, headers={"Authorization": f"Bearer {ADMIN_KEY}"}
    ) as client:
        await client.request(method, path, json=body)
        for read in follow_up:
            await client.get(read, params={"include_archived": "true"} if read == "/organization/projects" else None)
    assert checked.violations == []
    assert len(checked.exchanges) == 1 + len(follow_up) == len(emulator.requests)
    return checked


projects = st.sampled_from([ACTIVE, ARCHIVED])
WRITE_TEMPLATES = (
    "/organization/projects",
    "/organization/projects/{project_id}",
    "/organization/data_retention",
    "/organization/projects/{project_id}/data_retention",
    "/organization/projects/{project_id}/model_permissions",
    "/organization/projects/{project_id}/hosted_tool_permissions",
)


@FUZZ
@given(body=from_schema(request_schema("/organization/projects", "post"), SPEC))
async def test_create_project(body: dict[str, Any]) -> None:
    await send("POST", "/organization/projects", body, ["/organization/projects"])


@FUZZ
@given(project=projects, body=from_schema(request_schema("/organization/projects/{project_id}", "post"), SPEC))
async def test_modify_project(project: str, body: dict[str, Any]) -> None:
    await send("POST", f"/organization/projects/{project}", body, [f"/organization/projects/{project}"])


@FUZZ
@given(body=from_schema(request_schema("/organization/data_retention", "post"), SPEC))
async def test_update_organization_retention(body: dict[str, Any]) -> None:
    await send("POST", "/organization/data_retention", body, ["/organization/data_retention"])


@FUZZ
@given(
    project=projects,
    body=from_schema(request_schema("/organization/projects/{project_id}/data_retention", "post"), SPEC),
)
async def test_update_project_retention(project: str, body: dict[str, Any]) -> None:
    path = f"/organization/projects/{project}/data_retention"
    await send("POST", path, body, [path])


@FUZZ
@given(
    project=projects,
    body=from_schema(request_schema("/organization/projects/{project_id}/model_permissions", "post"), SPEC),
)
async def test_update_model_permissions(project: str, body: dict[str, Any]) -> None:
    path = f"/organization/projects/{project}/model_permissions"
    await send("POST", path, body, [path])


@FUZZ
@given(
    project=projects,
    body=from_schema(request_schema("/organization/projects/{project_id}/hosted_tool_permissions", "post"), SPEC),
)
async def test_update_hosted_tools(project: str, body: dict[str, Any]) -> None:
    path = f"/organization/projects/{project}/hosted_tool_permissions"
    await send("POST", path, body, [path])


@pytest.mark.parametrize("template", WRITE_TEMPLATES)
def test_the_generator_draws_only_what_the_spec_allows(template: str) -> None:
    """The generator's own check: what it draws validates against the request schema it came from."""
    validator = SPEC.validator(request_schema(template, "post")["$ref"].rsplit("/", 1)[-1])

    @FUZZ
    @given(value=from_schema(request_schema(template, "post"), SPEC))
    def check(value: Any) -> None:
        assert list(validator.iter_errors(value)) == []

    check()
