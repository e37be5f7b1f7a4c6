"""Kubernetes for a repository of several organizations: deploy/examples/several-organizations holds one
overlay per organization (prod, staging), each rendering a reconciler that serves only its organization
(`serve --org NAME` through the git-sync checkout), with its own namespace, labels and admin key Secret.

The overlays pin this project's base and components by git URL, as deploy/examples/your-repository does; they
are rendered with those references mapped to this checkout's deploy/ (the files a user's kustomize fetches)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import typer.main
from deploy_support import DEPLOY, KUBERNETES_VALIDATE, Manifest, find, load_yaml, pod_spec, render, uvx
from ruamel.yaml import YAML

from datacontrols.cli import app
from datacontrols.daemon.cli import served_desired_state

OVERLAYS = DEPLOY / "examples" / "several-organizations"
ORGANIZATIONS = ("prod", "staging")
REMOTE = re.compile(r"https://github\.com/YOUR-ORG/openai-datacontrols//deploy/([\w/-]+)\?ref=(v[\w.]+)")
ORGS_DIR = "/etc/openai-datacontrols/git/checkout/orgs"


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Manifest]]:
    root = tmp_path_factory.mktemp("several-organizations")
    for part in ("base", "components"):
        shutil.copytree(DEPLOY / part, root / "deploy" / part)
    manifests = {}
    for name in ORGANIZATIONS:
        text = (OVERLAYS / name / "kustomization.yaml").read_text()
        (root / name).mkdir()
        (root / name / "kustomization.yaml").write_text(REMOTE.sub(lambda m: f"../deploy/{m.group(1)}", text))
        manifests[name] = render(root / name)
    return manifests


def _reconciler(manifests: list[Manifest]) -> dict[str, Any]:
    (found,) = [c for c in pod_spec(manifests)["containers"] if c["name"] == "reconciler"]
    return dict(found)


def test_there_is_one_overlay_per_example_organization() -> None:
    assert sorted(p.name for p in OVERLAYS.iterdir() if p.is_dir()) == sorted(ORGANIZATIONS)
    for name in ORGANIZATIONS:
        kustomization = load_yaml((OVERLAYS / name / "kustomization.yaml").read_text())
        for reference in [*kustomization["resources"], *kustomization["components"]]:
            assert REMOTE.fullmatch(reference), reference


@pytest.mark.parametrize("name", ORGANIZATIONS)
def test_each_overlay_serves_its_own_organization_only(rendered: dict[str, list[Manifest]], name: str) -> None:
    manifests = rendered[name]
    args = _reconciler(manifests)["args"]
    assert args[:5] == ["serve", "--org", name, "--orgs-dir", ORGS_DIR], args
    assert "--desired-state" not in args, "one directory, named once: --org"
    assert args.count("--org") == 1
    # Its own namespace and labels: two overlays side by side never share an object.
    assert {m["metadata"].get("namespace") for m in manifests if m["kind"] != "Namespace"} == {
        f"openai-datacontrols-{name}"
    }
    deployment = next(m for m in manifests if m["kind"] == "Deployment")
    assert deployment["metadata"]["labels"]["app.kubernetes.io/instance"] == f"openai-datacontrols-{name}"
    assert "app.kubernetes.io/instance" not in deployment["spec"]["selector"]["matchLabels"]
    # Its own admin key Secret, mounted as the base mounts it (the key file path the args name is unchanged).
    volumes = {v["name"]: v for v in pod_spec(manifests)["volumes"]}
    assert volumes["admin-key"]["secret"]["secretName"] == f"openai-datacontrols-admin-key-{name}"
    assert volumes["admin-key"]["secret"]["items"] == [{"key": "admin-key", "path": "admin-key"}]
    assert args[args.index("--admin-key-file") + 1] == "/var/run/secrets/openai-datacontrols/admin-key"
    (expectations,) = [
        m for m in find(manifests, "ConfigMap") if m["metadata"]["name"].startswith("openai-datacontrols-expectations")
    ]
    assert int(expectations["data"]["project-files"]) > 0


def test_the_two_overlays_differ_only_in_the_organization(rendered: dict[str, list[Manifest]]) -> None:
    prod, staging = (_reconciler(rendered[name]) for name in ORGANIZATIONS)
    assert [a.replace("staging", "prod") for a in staging["args"]] == prod["args"]
    assert staging["image"] == prod["image"] and staging["volumeMounts"] == prod["volumeMounts"]


def test_serve_takes_the_overlays_flags_and_reads_the_organization_they_name(
    rendered: dict[str, list[Manifest]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    serve = typer.main.get_command(app).commands["serve"]  # type: ignore[attr-defined]
    known = {opt for param in serve.params for opt in param.opts}
    for name in ORGANIZATIONS:
        flags = {a for a in _reconciler(rendered[name])["args"] if a.startswith("--")}
        assert flags <= known, sorted(flags - known)
    for variable in ("DATACONTROLS_ORG", "DATACONTROLS_ORGS_DIR", "DATACONTROLS_DESIRED_STATE"):
        monkeypatch.delenv(variable, raising=False)
    # The checkout as git-sync leaves it: a link to the commit's tree; the daemon reads through the link.
    commit = tmp_path / "commit-1"
    for name in ORGANIZATIONS:
        (commit / "orgs" / name / "projects").mkdir(parents=True)
        (commit / "orgs" / name / "organization.yaml").write_text(f"identity: {{default_project_id: proj_{name}}}\n")
    (tmp_path / "checkout").symlink_to(commit)
    orgs = tmp_path / "checkout" / "orgs"
    args = _reconciler(rendered["staging"])["args"]
    assert served_desired_state(None, args[args.index("--org") + 1], orgs) == orgs / "staging"


@pytest.mark.parametrize("name", ORGANIZATIONS)
def test_each_overlay_matches_the_kubernetes_schemas(
    rendered: dict[str, list[Manifest]], tmp_path: Path, name: str
) -> None:
    path = tmp_path / f"{name}.yaml"
    with path.open("w") as stream:
        YAML(typ="safe", pure=True).dump_all(rendered[name], stream)
    run = uvx(KUBERNETES_VALIDATE, "kubernetes-validate", "--strict", "-k", "1.37.0", path)
    assert run.returncode == 0 and "ERROR" not in run.output, run.output
    checked = [m for m in rendered[name] if m["kind"] != "ServiceMonitor"]  # a CRD: only warned about
    assert run.output.count(" passed for resource ") == len(checked), run.output
