"""Kubernetes from a user's own repository: the kustomization in deploy/examples/your-repository pins this
project's base and components by git URL and version, takes the desired state from the user's repository
through git-sync (no file listed), sets the floor under the number of project files, and wires the webhook
Secret and the PrometheusRule, whose expressions parse and name only metrics the daemon exports.

The remote references cannot be fetched here, so the example is rendered with each
`https://github.com/YOUR-ORG/openai-datacontrols//deploy/<dir>?ref=v<version>` mapped to this checkout's
`deploy/<dir>`: the same files a user's kustomize would fetch from the tag."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
from deploy_support import (
    BASE,
    DEPLOY,
    EXAMPLE,
    EXAMPLE_DESIRED,
    KUBERNETES_VALIDATE,
    REPO,
    Manifest,
    container,
    find,
    kustomize,
    load_yaml,
    load_yaml_all,
    only,
    pod_spec,
    render,
    tool_environment,
    uvx,
)

from datacontrols.daemon.metrics import DaemonMetrics
from datacontrols.daemon.settings import DaemonSettings

YOUR_REPOSITORY = DEPLOY / "examples" / "your-repository"
COMPONENTS = DEPLOY / "components"
RULE = COMPONENTS / "prometheusrule" / "prometheusrule.yaml"
VERSION = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
REMOTE = re.compile(r"https://github\.com/YOUR-ORG/openai-datacontrols//deploy/([\w/-]+)\?ref=(v[\w.]+)")
GIT_ROOT = "/etc/openai-datacontrols/git"
PROMQL_PARSER = "promql-parser==0.11.0"


def _kustomization() -> dict[str, Any]:
    kustomization: dict[str, Any] = load_yaml((YOUR_REPOSITORY / "kustomization.yaml").read_text())
    return kustomization


@pytest.fixture(scope="module")
def user_manifests(tmp_path_factory: pytest.TempPathFactory) -> list[Manifest]:
    """The example rendered with its remote references mapped to this checkout's deploy/ (copied beside it)."""
    root = tmp_path_factory.mktemp("your-repository")
    for part in ("base", "components"):
        shutil.copytree(DEPLOY / part, root / "deploy" / part)
    text = (YOUR_REPOSITORY / "kustomization.yaml").read_text()
    (root / "user").mkdir()
    (root / "user" / "kustomization.yaml").write_text(REMOTE.sub(lambda m: f"../deploy/{m.group(1)}", text))
    return render(root / "user")


@pytest.fixture(scope="module")
def fixture_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("overlays")


def _with_component(root: Path, component: str) -> list[Manifest]:
    """The base and one component, as an overlay would include them (with the ConfigMaps it must generate)."""
    shutil.copytree(DEPLOY / "base", root / "deploy" / "base", dirs_exist_ok=True)
    shutil.copytree(COMPONENTS, root / "deploy" / "components", dirs_exist_ok=True)
    overlay = root / f"with-{component}"
    overlay.mkdir()
    (overlay / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: openai-datacontrols\n"
        f"resources: [../deploy/base]\ncomponents: [../deploy/components/{component}]\n"
    )
    return render(overlay)


# --- every kustomization builds ----------------------------------------------------------------------------


@pytest.mark.parametrize("component", sorted(p.name for p in COMPONENTS.iterdir() if p.is_dir()))
def test_every_component_builds_on_the_base(fixture_dir: Path, component: str) -> None:
    manifests = _with_component(fixture_dir / component, component)
    assert only(manifests, "Deployment")


def test_the_base_and_the_example_build() -> None:
    assert only(render(BASE), "Deployment") and only(render(EXAMPLE), "Deployment")


def test_the_users_kustomization_builds_from_the_pinned_release(user_manifests: list[Manifest]) -> None:
    kinds = sorted(m["kind"] for m in user_manifests)
    assert kinds == sorted(
        [
            *["ConfigMap"] * 2,
            "Deployment",
            "NetworkPolicy",
            "PrometheusRule",
            "Service",
            "ServiceAccount",
            "ServiceMonitor",
        ]
    )
    assert {m["metadata"]["namespace"] for m in user_manifests} == {"openai-datacontrols"}


# --- the user's kustomization ------------------------------------------------------------------------------


def test_it_references_this_project_by_git_url_pinned_to_the_release() -> None:
    kustomization = _kustomization()
    references = [*kustomization["resources"], *kustomization["components"]]
    assert references[0] == f"https://github.com/YOUR-ORG/openai-datacontrols//deploy/base?ref=v{VERSION}"
    for reference in references:
        match = REMOTE.fullmatch(reference)
        assert match, reference
        assert match.group(2) == f"v{VERSION}", f"{reference} is not pinned to this release"
        assert (DEPLOY / match.group(1) / "kustomization.yaml").is_file(), reference


def test_it_lists_no_desired_state_file() -> None:
    # git-sync delivers the directory as it is: a new project file needs no edit here.
    for generator in _kustomization()["configMapGenerator"]:
        assert "files" not in generator, generator
    assert not re.search(r"^\s*-\s*\S*desired_state/", (YOUR_REPOSITORY / "kustomization.yaml").read_text(), re.M)


def test_its_image_is_the_bases_by_digest(user_manifests: list[Manifest]) -> None:
    image = container_named(pod_spec(user_manifests), "reconciler")["image"]
    base_name = container(render(BASE))["image"].split("@")[0]
    assert image.startswith(f"{base_name}@sha256:")


def test_the_desired_state_is_read_from_the_git_sync_checkout(user_manifests: list[Manifest]) -> None:
    pod = pod_spec(user_manifests)
    reconciler = container_named(pod, "reconciler")
    args = reconciler["args"]
    assert args[args.index("--desired-state") + 1] == f"{GIT_ROOT}/checkout/desired_state"
    mounts = {m["mountPath"]: m for m in reconciler["volumeMounts"]}
    assert mounts[GIT_ROOT] == {"name": "git", "mountPath": GIT_ROOT, "readOnly": True}
    assert not [p for p in mounts if p.startswith("/etc/openai-datacontrols/desired")]
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert "desired-organization" not in volumes and "desired-projects" not in volumes
    assert "emptyDir" in volumes["git"]


def container_named(pod: dict[str, Any], name: str) -> dict[str, Any]:
    (found,) = [c for c in [*pod["containers"], *pod.get("initContainers", [])] if c["name"] == name]
    return dict(found)


def _env(c: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in c["env"]}


def test_git_sync_syncs_once_before_the_daemon_then_every_minute_beside_it(user_manifests: list[Manifest]) -> None:
    pod = pod_spec(user_manifests)
    (generated,) = [
        m for m in find(user_manifests, "ConfigMap") if m["metadata"]["name"].startswith("openai-datacontrols-git-sync")
    ]
    assert generated["data"]["ref"] == "main" and "YOUR-ORG" in generated["data"]["repo"]
    [init] = pod["initContainers"]
    sidecar = container_named(pod, "git-sync")
    assert _env(init)["GITSYNC_ONE_TIME"] == "true" and "GITSYNC_ONE_TIME" not in _env(sidecar)
    assert _env(sidecar)["GITSYNC_PERIOD"] == "60s"
    assert _env(sidecar)["GITSYNC_MAX_FAILURES"] == "-1"  # a failed sync keeps the last good checkout
    for git_sync in (init, sidecar):
        env = _env(git_sync)
        assert env["GITSYNC_ROOT"] == GIT_ROOT and env["GITSYNC_LINK"] == "checkout"
        for key in ("repo", "ref"):
            ref = env[f"GITSYNC_{key.upper()}"]["configMapKeyRef"]
            assert ref == {"name": generated["metadata"]["name"], "key": key}  # kustomize's hashed name
        for key in ("username", "password"):
            secret = env[f"GITSYNC_{key.upper()}"]["secretKeyRef"]
            assert secret == {"name": "openai-datacontrols-git-credentials", "key": key, "optional": True}
        assert {m["mountPath"]: m["name"] for m in git_sync["volumeMounts"]} == {
            GIT_ROOT: "git",
            "/tmp": "git-sync-tmp",
        }
        assert git_sync["image"].startswith("registry.k8s.io/git-sync/git-sync:v4.")


@pytest.mark.parametrize("name", ["git-sync-init", "git-sync", "reconciler"])
def test_every_container_is_hardened(user_manifests: list[Manifest], name: str) -> None:
    c = container_named(pod_spec(user_manifests), name)
    context = c["securityContext"]
    assert context["readOnlyRootFilesystem"] is True
    assert context["allowPrivilegeEscalation"] is False and context["privileged"] is False
    assert context["runAsNonRoot"] is True
    assert context["capabilities"] == {"drop": ["ALL"]}
    assert context["seccompProfile"] == {"type": "RuntimeDefault"}
    assert c["resources"]["limits"]["memory"] and c["resources"]["requests"]["cpu"]


# --- the expectation and the webhook Secret -----------------------------------------------------------------


def _expectation(manifests: list[Manifest]) -> int:
    env = {e["name"]: e for e in container_named(pod_spec(manifests), "reconciler")["env"]}
    ref = env["DATACONTROLS_EXPECT_PROJECT_FILES"]["valueFrom"]["configMapKeyRef"]
    assert "optional" not in ref, "required: without the ConfigMap the pod must not start unguarded"
    (generated,) = [m for m in find(manifests, "ConfigMap") if m["metadata"]["name"] == ref["name"]]
    return int(generated["data"][ref["key"]])


def test_the_floor_reaches_the_daemon_as_its_setting(user_manifests: list[Manifest]) -> None:
    assert _expectation(user_manifests) == 4
    assert "expect_project_files" in DaemonSettings.model_fields  # DATACONTROLS_EXPECT_PROJECT_FILES


def test_the_examples_floor_is_its_number_of_project_files() -> None:
    # The in-repository example lists its files by hand: the floor is what catches a line left out.
    assert _expectation(render(EXAMPLE)) == len(list((EXAMPLE_DESIRED / "projects").glob("*.yaml")))


def test_the_webhook_comes_from_an_optional_secret_as_a_file() -> None:
    base = render(BASE)
    env = {e["name"]: e for e in container(base)["env"]}
    path = env["DATACONTROLS_WEBHOOK_FILE"]["value"]
    mount = {m["mountPath"]: m for m in container(base)["volumeMounts"]}[str(Path(path).parent)]
    assert mount["readOnly"] is True
    volume = {v["name"]: v for v in pod_spec(base)["volumes"]}[mount["name"]]
    assert volume["secret"] == {
        "secretName": "openai-datacontrols-webhook",
        "optional": True,  # without the Secret the pod starts, alerting through its metrics only
        "defaultMode": 0o400,
        "items": [{"key": "url", "path": Path(path).name}],
    }
    assert env["DATACONTROLS_WEBHOOK_FORMAT"]["value"] in ("json", "slack")
    assert {"webhook_file", "webhook_format"} <= set(DaemonSettings.model_fields)
    assert DaemonSettings.model_config.get("env_prefix") == "DATACONTROLS_"


# --- the PrometheusRule -------------------------------------------------------------------------------------


def _rules() -> list[dict[str, Any]]:
    (rule,) = load_yaml_all(RULE.read_text())
    return [r for group in rule["spec"]["groups"] for r in group["rules"]]


def _exported() -> set[str]:
    """Every series name the daemon's registry can expose (a labelled metric shows none before its first use)."""
    names: set[str] = set()
    for family in DaemonMetrics().registry.collect():
        suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_sum", "_count"]}.get(family.type, [""])
        names |= {family.name + suffix for suffix in suffixes}
    return names


_NAMES_SCRIPT = r"""
import json, sys
import promql_parser as p

def names(node):
    if isinstance(node, p.VectorSelector):
        return [node.name]
    found = []
    for attr in ("expr", "lhs", "rhs", "vector_selector", "param"):
        child = getattr(node, attr, None)
        if isinstance(child, p.Expr):
            found += names(child)
    for arg in getattr(node, "args", None) or []:
        found += names(arg)
    return found

out = {}
for expr in json.load(sys.stdin):
    try:
        out[expr] = sorted(set(names(p.parse(expr))))
    except Exception as exc:  # a syntax error: reported, not raised
        out[expr] = "error: " + str(exc)
print(json.dumps(out))
"""


def _metric_names(expressions: list[str]) -> dict[str, Any]:
    """Each PromQL expression's metric names, by promql-parser (Prometheus's grammar), in its own environment."""
    uv = shutil.which("uv")
    if uv is None:
        pytest.skip(f"uv is not installed (pip install uv): it runs {PROMQL_PARSER} apart from the project")
    result = subprocess.run(
        [uv, "run", "--quiet", "--no-project", "--with", PROMQL_PARSER, "python", "-c", _NAMES_SCRIPT],
        input=json.dumps(expressions),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=tool_environment(),
    )
    assert result.returncode == 0, result.stderr
    parsed: dict[str, Any] = json.loads(result.stdout)
    return parsed


def test_the_rule_has_the_three_alerts_each_with_a_duration_and_a_severity() -> None:
    rules = {r["alert"]: r for r in _rules()}
    assert set(rules) == {"DataControlsRunFailing", "DataControlsDriftOpen", "DataControlsLastSuccessTooOld"}
    for rule in rules.values():
        assert re.fullmatch(r"\d+m", rule["for"]) and rule["labels"]["severity"] in ("warning", "critical")
        assert rule["annotations"]["summary"] and rule["annotations"]["description"]


def test_every_expression_parses_and_names_only_exported_metrics() -> None:
    expressions = [r["expr"].strip() for r in _rules()]
    names = _metric_names(expressions)
    exported = _exported()
    for expression in expressions:
        found = names[expression]
        assert isinstance(found, list), f"{expression!r} does not parse: {found}"
        assert found, expression
        assert set(found) <= exported, f"{expression!r} names {sorted(set(found) - exported)}, not exported"


def test_the_parser_catches_a_misspelt_metric_and_a_syntax_error() -> None:
    names = _metric_names(["datacontrols_drift_opened > 0", "sum by (kind (datacontrols_drift_open)"])
    assert names["datacontrols_drift_opened > 0"] == ["datacontrols_drift_opened"]
    assert not set(names["datacontrols_drift_opened > 0"]) <= _exported()
    assert str(names["sum by (kind (datacontrols_drift_open)"]).startswith("error: ")


def test_the_alerts_use_the_metrics_they_are_about() -> None:
    rules = {r["alert"]: r["expr"] for r in _rules()}
    assert (
        "datacontrols_last_run_timestamp_seconds > datacontrols_last_success_timestamp_seconds"
        in rules["DataControlsRunFailing"]
    )
    assert "datacontrols_drift_open" in rules["DataControlsDriftOpen"]
    assert "time() - datacontrols_last_success_timestamp_seconds" in rules["DataControlsLastSuccessTooOld"]
    # A follower's timestamps stay at 0 by design: only the replica that runs is judged.
    for name in ("DataControlsRunFailing", "DataControlsLastSuccessTooOld"):
        assert "datacontrols_leader == 1" in rules[name]


def test_the_rendered_rule_is_labelled_like_the_rest(user_manifests: list[Manifest]) -> None:
    rule = only(user_manifests, "PrometheusRule")
    assert rule["metadata"]["labels"]["app.kubernetes.io/name"] == "openai-datacontrols"
    assert kustomize(COMPONENTS / "prometheusrule")  # the component alone renders too


@pytest.mark.parametrize("version", ["1.29.0", "1.37.0"])
def test_the_users_manifests_match_the_kubernetes_schemas(
    tmp_path: Path, user_manifests: list[Manifest], version: str
) -> None:
    from ruamel.yaml import YAML

    rendered = tmp_path / "your-repository.yaml"
    with rendered.open("w") as stream:
        YAML(typ="safe", pure=True).dump_all(user_manifests, stream)
    run = uvx(KUBERNETES_VALIDATE, "kubernetes-validate", "--strict", "-k", version, rendered)
    assert run.returncode == 0, run.output
    assert "ERROR" not in run.output, run.output
    crds = {"ServiceMonitor", "PrometheusRule"}  # custom resources: it can only warn about them
    assert run.output.count(" passed for resource ") == len([m for m in user_manifests if m["kind"] not in crds])


def test_all_components_build_together(fixture_dir: Path) -> None:
    root = fixture_dir / "all"
    shutil.copytree(DEPLOY / "base", root / "deploy" / "base")
    shutil.copytree(COMPONENTS, root / "deploy" / "components")
    names = sorted(p.name for p in COMPONENTS.iterdir() if p.is_dir())
    (root / "all").mkdir()
    (root / "all" / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
        f"resources: [../deploy/base]\ncomponents: [{', '.join(f'../deploy/components/{n}' for n in names)}]\n"
    )
    manifests = render(root / "all")
    args = container_named(pod_spec(manifests), "reconciler")["args"]
    assert "--leader-election-lease" in args  # leader election's patch and git-sync's both apply
    assert args[args.index("--desired-state") + 1] == f"{GIT_ROOT}/checkout/desired_state"
    assert only(manifests, "PrometheusRule") and only(manifests, "ServiceMonitor")


def test_the_daemon_reads_a_git_sync_checkout_and_refuses_too_few_files(
    tmp_path: Path, user_manifests: list[Manifest]
) -> None:
    # git-sync's layout: the worktree of the synced commit, and the link the daemon reads through.
    from datacontrols.daemon.project_files import check_project_files
    from datacontrols.desired import load_desired_state
    from datacontrols.errors import ConfigError

    git_root = tmp_path / GIT_ROOT.lstrip("/")
    worktree = git_root / ".worktrees" / "0123abcd"
    shutil.copytree(DEPLOY.parent / "tests" / "deploy" / "fixtures" / "desired_state", worktree / "desired_state")
    (git_root / "checkout").symlink_to(worktree.relative_to(git_root))
    args = container_named(pod_spec(user_manifests), "reconciler")["args"]
    desired = tmp_path / args[args.index("--desired-state") + 1].lstrip("/")
    assert load_desired_state(desired).projects  # the path the Deployment passes is the synced directory
    files = len(list((worktree / "desired_state" / "projects").glob("*.yaml")))
    check_project_files(desired, files)
    expected = _expectation(user_manifests)
    assert files < expected
    with pytest.raises(ConfigError, match=f"fewer than the {expected} expected"):
        check_project_files(desired, expected)
