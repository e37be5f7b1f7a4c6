"""The kustomize base and the example overlay render, and the rendered objects have the properties the
deployment promises (deploy/README.md): a hardened singleton, the key as a file from a Secret that is
never rendered, the desired state as ConfigMaps equal to the files, a tight NetworkPolicy."""

from __future__ import annotations

import ipaddress
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from deploy_support import (
    APP,
    APP_SHUTDOWN_SECONDS,
    BASE,
    DEPLOY,
    DESIRED_DIR,
    EXAMPLE,
    EXAMPLE_DESIRED,
    GID,
    KEY_DIR,
    KEY_FILE,
    PORT,
    REPO,
    UID,
    Manifest,
    container,
    find,
    load_yaml,
    mounts_by_path,
    only,
    option,
    pod_spec,
    volumes_by_name,
)

NAMESPACE = "openai-datacontrols"
SELECTOR_LABELS = {"app.kubernetes.io/name": APP, "app.kubernetes.io/part-of": APP}


def _project_version() -> str:
    version: str = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    return version


def _configmaps(manifests: list[Manifest]) -> dict[str, Manifest]:
    """Rendered ConfigMaps by their name before kustomize's hash suffix."""
    return {re.sub(r"-[a-z0-9]{10}$", "", m["metadata"]["name"]): m for m in find(manifests, "ConfigMap")}


# --- what renders ---------------------------------------------------------------------------------------


def test_base_renders_the_workload_and_nothing_that_belongs_to_the_user(base_manifests: list[Manifest]) -> None:
    kinds = sorted(m["kind"] for m in base_manifests)
    assert kinds == ["Deployment", "NetworkPolicy", "Service", "ServiceAccount"]


def test_example_overlay_adds_namespace_desired_state_and_servicemonitor(example_manifests: list[Manifest]) -> None:
    kinds = sorted(m["kind"] for m in example_manifests)
    assert kinds == [
        "ConfigMap",
        "ConfigMap",
        "ConfigMap",  # the expectations (the number of project files)
        "Deployment",
        "Namespace",
        "NetworkPolicy",
        "Service",
        "ServiceAccount",
        "ServiceMonitor",
    ]
    namespaced = [m for m in example_manifests if m["kind"] != "Namespace"]
    assert {m["metadata"].get("namespace") for m in namespaced} == {NAMESPACE}
    assert only(example_manifests, "Namespace")["metadata"]["name"] == NAMESPACE


def test_example_namespace_enforces_the_restricted_pod_security_profile(example_manifests: list[Manifest]) -> None:
    labels = only(example_manifests, "Namespace")["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"


def test_no_secret_is_rendered_or_generated(manifests: list[Manifest]) -> None:
    assert find(manifests, "Secret") == []
    for kustomization in DEPLOY.rglob("kustomization.yaml"):
        assert "secretGenerator" not in load_yaml(kustomization.read_text()), kustomization


# --- the Deployment, property by property ---------------------------------------------------------------


def test_singleton_that_never_runs_two_pods_during_a_rollout(manifests: list[Manifest]) -> None:
    spec = only(manifests, "Deployment")["spec"]
    assert spec["replicas"] == 1
    assert spec["strategy"] == {"type": "Recreate"}


def test_pod_runs_as_numeric_non_root_user_with_seccomp(manifests: list[Manifest]) -> None:
    pod = pod_spec(manifests)["securityContext"]
    assert pod["runAsNonRoot"] is True
    assert (pod["runAsUser"], pod["runAsGroup"]) == (UID, GID)
    # Without fsGroup the kubelet leaves the 0400 key file root-owned, unreadable by uid 10001.
    assert pod["fsGroup"] == GID
    assert pod["seccompProfile"] == {"type": "RuntimeDefault"}


def test_container_cannot_escalate_or_write_its_filesystem(manifests: list[Manifest]) -> None:
    context = container(manifests)["securityContext"]
    assert context["readOnlyRootFilesystem"] is True
    assert context["allowPrivilegeEscalation"] is False
    assert context.get("privileged", False) is False
    assert context["capabilities"] == {"drop": ["ALL"]}
    assert context["seccompProfile"] == {"type": "RuntimeDefault"}
    assert context.get("runAsUser", UID) == UID
    for host_access in ("hostNetwork", "hostPID", "hostIPC"):
        assert not pod_spec(manifests).get(host_access, False)


def test_resources_are_requested_and_limited(manifests: list[Manifest]) -> None:
    resources = container(manifests)["resources"]
    for section in ("requests", "limits"):
        assert set(resources[section]) >= {"cpu", "memory"}, section


def _probe(manifests: list[Manifest], name: str) -> dict[str, Any]:
    probe: dict[str, Any] = container(manifests)[name]
    return probe


def _port_number(manifests: list[Manifest], port: int | str) -> int:
    if isinstance(port, int):
        return port
    named: dict[str, int] = {p["name"]: p["containerPort"] for p in container(manifests)["ports"]}
    return named[port]


def test_probes_use_the_health_and_readiness_endpoints(manifests: list[Manifest]) -> None:
    expected = {"startupProbe": "/healthz", "livenessProbe": "/healthz", "readinessProbe": "/readyz"}
    for name, path in expected.items():
        http = _probe(manifests, name)["httpGet"]
        assert http["path"] == path, name
        assert _port_number(manifests, http["port"]) == PORT, name


def test_startup_probe_covers_a_slow_first_load_before_liveness_applies(manifests: list[Manifest]) -> None:
    startup = _probe(manifests, "startupProbe")
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 30


def test_own_service_account_without_a_kubernetes_token(manifests: list[Manifest]) -> None:
    spec = pod_spec(manifests)
    account = only(manifests, "ServiceAccount")
    assert spec["serviceAccountName"] == account["metadata"]["name"] != "default"
    assert spec["automountServiceAccountToken"] is False
    assert account["automountServiceAccountToken"] is False


def test_grace_period_outlasts_the_daemons_own_drain(manifests: list[Manifest]) -> None:
    grace = pod_spec(manifests)["terminationGracePeriodSeconds"]
    assert grace == 45
    assert grace > APP_SHUTDOWN_SECONDS


def test_image_is_referenced_by_digest(manifests: list[Manifest]) -> None:
    assert re.fullmatch(r"[a-z0-9.\-/:]+@sha256:[0-9a-f]{64}", container(manifests)["image"])


def test_example_overlay_replaces_the_image_placeholder(
    base_manifests: list[Manifest], example_manifests: list[Manifest]
) -> None:
    placeholder, image = container(base_manifests)["image"], container(example_manifests)["image"]
    assert image != placeholder
    assert image.split("@")[0] != placeholder.split("@")[0]


def test_command_line_is_the_daemons(base_manifests: list[Manifest], example_manifests: list[Manifest]) -> None:
    expected = [
        "serve",
        "--desired-state",
        DESIRED_DIR,
        "--admin-key-file",
        KEY_FILE,
        "--listen",
        f"0.0.0.0:{PORT}",
        "--mode",
        "report",
        "--interval",
        "5m",
    ]
    base = container(base_manifests)
    assert "command" not in base, "the image's ENTRYPOINT (reconcile) must stay in charge"
    assert base["args"] == expected
    # The example overlay's patch turns on enforcement and changes nothing else.
    enforced = [*expected[:8], "enforce", *expected[9:]]
    assert container(example_manifests)["args"] == enforced


def test_container_port_is_the_listen_port(manifests: list[Manifest]) -> None:
    ports = container(manifests)["ports"]
    assert ports == [{"name": "http", "containerPort": PORT, "protocol": "TCP"}]
    assert option(container(manifests)["args"], "--listen").endswith(f":{PORT}")


# --- the admin key ----------------------------------------------------------------------------------------


def test_admin_key_is_a_file_from_a_secret_readable_by_the_owner_only(manifests: list[Manifest]) -> None:
    args = container(manifests)["args"]
    key_path = Path(option(args, "--admin-key-file"))
    mount = mounts_by_path(manifests)[str(key_path.parent)]
    assert mount["readOnly"] is True
    assert "subPath" not in mount
    volume = volumes_by_name(manifests)[mount["name"]]
    secret = volume["secret"]
    assert secret["secretName"] == "openai-datacontrols-admin-key"
    assert secret["defaultMode"] == 0o400
    assert secret["items"] == [{"key": "admin-key", "path": key_path.name}]
    assert str(key_path.parent) == KEY_DIR


def test_admin_key_is_never_in_the_environment(manifests: list[Manifest]) -> None:
    spec = container(manifests)
    for variable in spec.get("env", []):
        assert "secretKeyRef" not in variable.get("valueFrom", {}), variable
    assert not any("secretRef" in source for source in spec.get("envFrom", []))


def test_tmp_is_a_small_scratch_volume(manifests: list[Manifest]) -> None:
    mount = mounts_by_path(manifests)["/tmp"]
    volume = volumes_by_name(manifests)[mount["name"]]
    assert set(volume) == {"name", "emptyDir"}
    assert "sizeLimit" in volume["emptyDir"]


# --- the desired state --------------------------------------------------------------------------------------


def test_desired_state_directories_are_mounted_read_only_from_configmaps(manifests: list[Manifest]) -> None:
    mounts, volumes = mounts_by_path(manifests), volumes_by_name(manifests)
    assert option(container(manifests)["args"], "--desired-state") == DESIRED_DIR
    for path in (DESIRED_DIR, f"{DESIRED_DIR}/projects"):
        mount = mounts[path]
        assert mount["readOnly"] is True
        assert "subPath" not in mount, "subPath mounts never see ConfigMap updates"
        assert "configMap" in volumes[mount["name"]]


def test_deployment_refers_to_the_generated_configmaps(example_manifests: list[Manifest]) -> None:
    rendered = {m["metadata"]["name"] for m in find(example_manifests, "ConfigMap")}
    mounts, volumes = mounts_by_path(example_manifests), volumes_by_name(example_manifests)
    referenced = {volumes[mounts[p]["name"]]["configMap"]["name"] for p in (DESIRED_DIR, f"{DESIRED_DIR}/projects")}
    env = {e["name"]: e for e in container(example_manifests)["env"]}
    referenced.add(env["DATACONTROLS_EXPECT_PROJECT_FILES"]["valueFrom"]["configMapKeyRef"]["name"])
    assert referenced == rendered
    # The content hash suffix is what rolls the pod when a file changes.
    assert all(re.search(r"-[a-z0-9]{10}$", name) for name in rendered)


def test_configmaps_hold_exactly_the_desired_state_files(example_manifests: list[Manifest]) -> None:
    configmaps = _configmaps(example_manifests)
    organization = configmaps["openai-datacontrols-desired-organization"]["data"]
    assert organization == {"organization.yaml": (EXAMPLE_DESIRED / "organization.yaml").read_text()}
    projects = configmaps["openai-datacontrols-desired-projects"]["data"]
    files = {p.name: p.read_text() for p in sorted((EXAMPLE_DESIRED / "projects").glob("*.yaml"))}
    assert files, "the example overlay ships project files"
    # Every file is listed in the kustomization (kustomize has no globs), and each is copied verbatim.
    assert projects == files


# --- network, service, monitoring, labels ----------------------------------------------------------------


def _policy(manifests: list[Manifest]) -> dict[str, Any]:
    spec: dict[str, Any] = only(manifests, "NetworkPolicy")["spec"]
    return spec


def _selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())


def test_network_policy_applies_to_the_reconciler_both_ways(manifests: list[Manifest]) -> None:
    policy = _policy(manifests)
    pod_labels = only(manifests, "Deployment")["spec"]["template"]["metadata"]["labels"]
    assert policy["podSelector"]["matchLabels"]
    assert _selects(policy["podSelector"]["matchLabels"], pod_labels)
    assert sorted(policy["policyTypes"]) == ["Egress", "Ingress"]


def test_network_policy_admits_only_metrics_scrapes_from_monitoring(manifests: list[Manifest]) -> None:
    (rule,) = _policy(manifests)["ingress"]
    assert rule["ports"] == [{"protocol": "TCP", "port": PORT}]
    assert rule["from"] == [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}]


def test_network_policy_allows_dns_by_port_to_any_resolver(manifests: list[Manifest]) -> None:
    """NodeLocal DNSCache (a link-local address on the node) and OpenShift's resolvers are not kube-dns pods."""
    dns = [rule for rule in _policy(manifests)["egress"] if any(p["port"] == 53 for p in rule["ports"])]
    assert len(dns) == 1
    assert sorted((p["protocol"], p["port"]) for p in dns[0]["ports"]) == [("TCP", 53), ("UDP", 53)]
    assert "to" not in dns[0], "any peer, by port"


def _https_networks(manifests: list[Manifest]) -> list[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, list[Any]]]:
    https = [rule for rule in _policy(manifests)["egress"] if any(p["port"] == 443 for p in rule["ports"])]
    assert len(https) == 1
    assert https[0]["ports"] == [{"protocol": "TCP", "port": 443}]
    blocks = []
    for peer in https[0]["to"]:
        assert set(peer) == {"ipBlock"}, "HTTPS egress is by address only"
        block = peer["ipBlock"]
        blocks.append((ipaddress.ip_network(block["cidr"]), [ipaddress.ip_network(e) for e in block.get("except", [])]))
    return blocks


def _https_allowed(manifests: list[Manifest], address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return any(
        ip in network and not any(ip in excluded for excluded in exceptions)
        for network, exceptions in _https_networks(manifests)
    )


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("162.159.140.245", True),  # a public address (the API sits behind a CDN)
        ("8.8.8.8", True),
        ("2606:4700::6812:1", True),  # a public IPv6 address
        ("169.254.169.254", False),  # cloud metadata service
        ("10.96.0.1", False),  # the usual kubernetes.default Service address
        ("172.20.3.4", False),
        ("192.168.1.10", False),
        ("100.64.0.10", False),  # shared address space some clusters use for pods
        ("fd00:ec2::254", False),  # the AWS metadata service over IPv6
        ("fe80::1", False),
    ],
)
def test_https_egress_reaches_public_addresses_only(manifests: list[Manifest], address: str, allowed: bool) -> None:
    assert _https_allowed(manifests, address) is allowed


def test_service_exposes_the_metrics_port_of_the_reconciler(manifests: list[Manifest]) -> None:
    service = only(manifests, "Service")["spec"]
    pod_labels = only(manifests, "Deployment")["spec"]["template"]["metadata"]["labels"]
    assert service["selector"] == SELECTOR_LABELS
    assert _selects(service["selector"], pod_labels)
    (port,) = service["ports"]
    assert port["port"] == PORT
    assert _port_number(manifests, port["targetPort"]) == PORT


def test_servicemonitor_scrapes_the_services_metrics_port(example_manifests: list[Manifest]) -> None:
    monitor = only(example_manifests, "ServiceMonitor")
    service = only(example_manifests, "Service")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert _selects(monitor["spec"]["selector"]["matchLabels"], service["metadata"]["labels"])
    (endpoint,) = monitor["spec"]["endpoints"]
    assert endpoint["path"] == "/metrics"
    assert endpoint["port"] in {p["name"] for p in service["spec"]["ports"]}


def test_every_object_carries_the_common_labels(manifests: list[Manifest]) -> None:
    version = _project_version()
    for manifest in manifests:
        if manifest["kind"] in ("Namespace", "ConfigMap"):
            continue  # the user's namespace, the user's files
        labels = manifest["metadata"]["labels"]
        assert labels["app.kubernetes.io/name"] == APP, manifest["kind"]
        assert labels["app.kubernetes.io/part-of"] == APP, manifest["kind"]
        if manifest["kind"] != "ServiceMonitor":
            assert labels["app.kubernetes.io/version"] == version, manifest["kind"]
    template = only(manifests, "Deployment")["spec"]["template"]["metadata"]["labels"]
    assert template["app.kubernetes.io/version"] == version


def test_selectors_never_hold_the_version(manifests: list[Manifest]) -> None:
    # A Deployment's selector is immutable: a version in it would make every upgrade fail to apply.
    assert only(manifests, "Deployment")["spec"]["selector"] == {"matchLabels": SELECTOR_LABELS}
    assert "app.kubernetes.io/version" not in only(manifests, "Service")["spec"]["selector"]


def test_base_and_overlay_directories_are_kustomizations() -> None:
    for directory in (BASE, EXAMPLE, DEPLOY / "components" / "servicemonitor"):
        assert (directory / "kustomization.yaml").is_file(), directory
