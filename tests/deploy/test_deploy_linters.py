"""The rendered manifests and the Dockerfile pass the linters the ecosystem uses, with zero findings:
kubernetes-validate (strict schemas), checkov (kubernetes and dockerfile frameworks) and hadolint.

SLOWEST MODULE of tests/deploy: checkov takes about 5 s (one run, shared); each other tool under a second.
The first run on a machine also installs each tool into uv's cache (checkov: ~100 packages).

Each tool runs through `uvx` at a pinned version, apart from the project's dependencies, offline apart from
uv fetching the tool once. Each is also shown a broken input, so a tool that silently checks nothing fails.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from deploy_support import (
    BASE,
    CHECKOV,
    DOCKERFILE,
    EXAMPLE,
    HADOLINT,
    KUBERNETES_VALIDATE,
    kustomize,
    load_yaml_all,
    uvx,
)

# The oldest and the newest Kubernetes minor versions the manifests are checked against.
KUBERNETES_VERSIONS = ["1.29.0", "1.37.0"]

CHECKOV_OFFLINE = ["--skip-download", "--skip-results-upload", "--download-external-modules", "false"]


def _rendered(tmp_path: Path, overlay: Path) -> Path:
    rendered = tmp_path / f"{overlay.name}.yaml"
    rendered.write_text(kustomize(overlay))
    return rendered


# --- kubernetes-validate ---------------------------------------------------------------------------------


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("overlay", [BASE, EXAMPLE], ids=["base", "example"])
def test_rendered_manifests_match_the_kubernetes_schemas(tmp_path: Path, overlay: Path, version: str) -> None:
    rendered = _rendered(tmp_path, overlay)
    run = uvx(KUBERNETES_VALIDATE, "kubernetes-validate", "--strict", "-k", version, rendered)
    assert run.returncode == 0, run.output
    assert "ERROR" not in run.output, run.output
    passed = run.output.count(" passed for resource ")
    # Every object but the ServiceMonitor (a CRD, which it can only warn about) is checked.
    manifests = load_yaml_all(kustomize(overlay))
    assert passed == len([m for m in manifests if m["kind"] != "ServiceMonitor"]), run.output


def test_kubernetes_validate_rejects_an_unknown_field(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(kustomize(BASE).replace("readOnlyRootFilesystem:", "readOnlyRootFileSystem:"))
    run = uvx(KUBERNETES_VALIDATE, "kubernetes-validate", "--strict", "-k", KUBERNETES_VERSIONS[0], broken)
    assert run.returncode != 0
    assert "readOnlyRootFileSystem" in run.output


# --- checkov ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def checkov(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One checkov run over the rendered overlay and the Dockerfile (it takes ~5 s to start, so once):
    {"returncode": int, "kubernetes": report, "dockerfile": report}."""
    rendered = tmp_path_factory.mktemp("checkov") / "example.yaml"
    rendered.write_text(kustomize(EXAMPLE))
    run = uvx(
        CHECKOV,
        "checkov",
        "-f",
        rendered,
        "-f",
        DOCKERFILE,
        "--framework",
        "kubernetes",
        "dockerfile",
        "--output",
        "json",
        *CHECKOV_OFFLINE,
    )
    reports = json.loads(run.stdout)
    reports = reports if isinstance(reports, list) else [reports]  # a list when there is one per framework
    return {"run": run, **{report["check_type"]: report for report in reports}}


def _check_ids(report: dict[str, Any], outcome: str) -> set[str]:
    return {check["check_id"] for check in report["results"][f"{outcome}_checks"]}


def test_checkov_passes_overall(checkov: dict[str, Any]) -> None:
    assert checkov["run"].returncode == 0, checkov["run"].output
    assert set(checkov) == {"run", "kubernetes", "dockerfile"}


def test_checkov_kubernetes_finds_nothing_in_the_rendered_overlay(checkov: dict[str, Any]) -> None:
    report = checkov["kubernetes"]
    failed = [(c["check_id"], c["resource"], c["check_name"]) for c in report["results"]["failed_checks"]]
    assert failed == []
    assert report["summary"]["parsing_errors"] == 0
    assert report["summary"]["skipped"] == 0
    # The checks that matter most ran and passed (so a checkov that checks nothing cannot pass this).
    assert _check_ids(report, "passed") >= {
        "CKV_K8S_8",  # liveness probe
        "CKV_K8S_9",  # readiness probe
        "CKV_K8S_20",  # allowPrivilegeEscalation
        "CKV_K8S_22",  # read-only root filesystem
        "CKV_K8S_28",  # NET_RAW dropped
        "CKV_K8S_31",  # seccomp
        "CKV_K8S_35",  # secrets as files
        "CKV_K8S_38",  # no service account token
        "CKV_K8S_40",  # high UID
        "CKV_K8S_43",  # image digest
        "CKV2_K8S_6",  # a NetworkPolicy selects the pod
    }


def test_checkov_dockerfile_finds_nothing_but_the_documented_skip(checkov: dict[str, Any]) -> None:
    report = checkov["dockerfile"]
    assert report["results"]["failed_checks"] == []
    skipped = {c["check_id"]: c["check_result"].get("suppress_comment") for c in report["results"]["skipped_checks"]}
    assert skipped == {"CKV_DOCKER_2": "Kubernetes probes replace HEALTHCHECK"}
    assert _check_ids(report, "passed") >= {
        "CKV_DOCKER_3",  # a USER is set
        "CKV_DOCKER_7",  # no `latest` base
        "CKV_DOCKER_8",  # the last USER is not root
    }


# --- hadolint ---------------------------------------------------------------------------------------------


def test_hadolint_has_no_finding_on_the_dockerfile() -> None:
    run = uvx(HADOLINT, "hadolint", DOCKERFILE)
    assert (run.returncode, run.stdout) == (0, ""), run.output
    assert "DL" not in run.stderr and "SC" not in run.stderr, run.stderr


def test_hadolint_reports_a_bad_dockerfile(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN pip install httpx\nCMD reconcile serve\n")
    run = uvx(HADOLINT, "hadolint", bad)
    assert run.returncode != 0
    for rule in ("DL3007", "DL3013", "DL3025"):  # latest tag, unpinned pip, shell-form CMD
        assert rule in run.output
