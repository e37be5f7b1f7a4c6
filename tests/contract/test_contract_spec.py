"""The spec itself: it is a valid OpenAPI 3.1 document, it has what the contract suite relies on, it is found
the documented way, and it is not copied into the repository."""

from __future__ import annotations

import copy
import hashlib
import os
from pathlib import Path

import pytest
from contract_support import ISSUE2_OPERATIONS, require_spec
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

import testsupport.spec
from testsupport.spec import ENV_VAR, find_spec, spec_candidates

SPEC = require_spec()
_SKIPPED_DIRS = {".git", ".venv", "node_modules", ".mypy_cache", ".ruff_cache", ".pytest_cache", "__pycache__"}


def test_the_spec_is_a_valid_openapi_31_document() -> None:
    assert SPEC.document["openapi"].startswith("3.1")
    validate(SPEC.document)  # raises on any violation of the OpenAPI 3.1 meta-schema


def test_the_spec_validator_can_fail() -> None:
    broken = copy.deepcopy(SPEC.document)
    broken["paths"]["/organization/projects"]["get"]["responses"] = "none"
    with pytest.raises(OpenAPIValidationError):
        validate(broken)


def test_the_spec_has_what_the_contract_suite_relies_on() -> None:
    assert SPEC.document["servers"] == [{"url": "https://api.openai.com/v1"}]
    assert SPEC.server_prefix == "/v1"
    documented = {op.operation_id for op in SPEC.operations}
    assert documented >= ISSUE2_OPERATIONS, sorted(ISSUE2_OPERATIONS - documented)
    assert set(SPEC.schema("ErrorResponse")["required"]) == {"error"}
    assert set(SPEC.schema("Error")["required"]) == {"type", "message", "param", "code"}


@pytest.mark.parametrize(
    ("method", "path", "operation_id"),
    [
        ("GET", "/v1/organization/projects", "list-projects"),
        ("POST", "/v1/organization/projects/proj_1", "modify-project"),
        ("POST", "/v1/organization/projects/proj_1/archive", "archive-project"),
        ("DELETE", "/v1/organization/projects/proj_1/model_permissions", "delete-project-model-permissions"),
        # A literal segment wins over a template at the same place.
        ("POST", "/v1/organization/certificates/activate", "activateOrganizationCertificates"),
        ("POST", "/v1/organization/certificates/cert_1", "modifyCertificate"),
        ("GET", "/v1/organization/projects/proj_1/spend_limit", "Getprojectspendlimit"),
    ],
)
def test_requests_are_matched_to_their_operation(method: str, path: str, operation_id: str) -> None:
    found = SPEC.operation(method, path)
    assert found is not None and found.operation_id == operation_id


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("DELETE", "/v1/organization/projects/proj_1"),  # projects cannot be deleted
        ("GET", "/organization/projects"),  # without the server's /v1
        ("GET", "/v1/organization/projects/proj_1/extra"),
        ("PATCH", "/v1/organization/data_retention"),
    ],
)
def test_undocumented_requests_match_nothing(method: str, path: str) -> None:
    assert SPEC.operation(method, path) is None


def test_the_environment_variable_comes_first(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    elsewhere = tmp_path / "spec.json"
    elsewhere.write_text("{}")
    monkeypatch.setenv(ENV_VAR, str(elsewhere))
    assert spec_candidates()[0] == elsewhere
    assert find_spec() == elsewhere


def test_a_missing_file_in_the_variable_falls_back_to_the_shared_path(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    repo = tmp_path / "repo"
    shared = tmp_path / "shared" / "openai-admin-api" / "openapi-admin-subset.json"
    shared.parent.mkdir(parents=True)
    shared.write_text("{}")
    monkeypatch.setattr(testsupport.spec, "REPO_ROOT", repo)
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "absent.json"))
    assert find_spec() == shared


def test_without_any_spec_the_suite_skips_and_says_why(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(testsupport.spec, "REPO_ROOT", tmp_path / "repo")
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "absent.json"))
    with pytest.raises(pytest.skip.Exception) as skipped:
        require_spec()
    reason = str(skipped.value)
    assert "absent.json" in reason and "../shared/openai-admin-api/openapi-admin-subset.json" in reason
    assert f"set {ENV_VAR}" in reason
    monkeypatch.delenv(ENV_VAR)
    with pytest.raises(pytest.skip.Exception, match=f"{ENV_VAR} unset"):
        require_spec()


def test_the_spec_is_not_copied_into_the_repository() -> None:
    assert SPEC.source is not None
    digest = hashlib.sha256(SPEC.source.read_bytes()).hexdigest()
    size = SPEC.source.stat().st_size
    root = testsupport.spec.REPO_ROOT
    copies = []
    for directory, subdirs, files in os.walk(root):
        subdirs[:] = [d for d in subdirs if d not in _SKIPPED_DIRS]
        for name in files:
            path = Path(directory, name)
            same_name = name == SPEC.source.name
            same_size = path.suffix in {".json", ".yaml", ".yml"} and path.stat().st_size == size
            if same_name or (same_size and hashlib.sha256(path.read_bytes()).hexdigest() == digest):
                copies.append(path)
    assert copies == [], f"the spec must be read from ../shared or {ENV_VAR}, not copied: {copies}"
