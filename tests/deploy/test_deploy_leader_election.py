"""The leader-election component: two replicas on one Lease, the RBAC for exactly that Lease, the API server
reachable, and a command line the daemon accepts. The base stays a single replica without a token."""

from __future__ import annotations

from pathlib import Path

import pytest
from deploy_support import BASE, DEPLOY, Manifest, container, find, only, pod_spec, render

from datacontrols.daemon.settings import DaemonSettings

COMPONENT = DEPLOY / "components" / "leader-election"
WITH_COMPONENT = Path(__file__).resolve().parent / "fixtures" / "leader-election"
LEASE = "openai-datacontrols-leader"


@pytest.fixture(scope="module")
def elected() -> list[Manifest]:
    return render(WITH_COMPONENT)


def test_the_base_runs_one_replica_and_no_lease(elected: list[Manifest]) -> None:
    base = render(BASE)
    assert only(base, "Deployment")["spec"]["replicas"] == 1
    assert "--leader-election-lease" not in container(base)["args"]
    assert not find(base, "Role") and not find(base, "RoleBinding")


def test_two_replicas_roll_one_at_a_time_with_the_lease_on_their_command_line(elected: list[Manifest]) -> None:
    deployment = only(elected, "Deployment")
    assert deployment["spec"]["replicas"] == 2
    assert deployment["spec"]["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0},
    }
    args = container(elected)["args"]
    assert args[args.index("--leader-election-lease") + 1] == LEASE
    env = {e["name"]: e for e in container(elected)["env"]}
    assert env["POD_NAME"]["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.name"}}
    # The daemon accepts what the manifest passes (the flags are its settings' fields).
    flags = dict(zip(args[1::2], args[2::2], strict=False))
    settings = DaemonSettings(**{k.removeprefix("--").replace("-", "_"): v for k, v in flags.items()})
    assert settings.leader_election_lease == LEASE


def test_the_token_is_mounted_and_may_only_read_renew_and_create_the_lease(elected: list[Manifest]) -> None:
    assert pod_spec(elected)["automountServiceAccountToken"] is True
    assert only(elected, "ServiceAccount")["automountServiceAccountToken"] is True
    role, binding = only(elected, "Role"), only(elected, "RoleBinding")
    rules = role["rules"]
    assert all(r["apiGroups"] == ["coordination.k8s.io"] and r["resources"] == ["leases"] for r in rules)
    by_verbs = {tuple(r["verbs"]): r.get("resourceNames") for r in rules}
    assert by_verbs == {("create",): None, ("get", "update"): [LEASE]}, "no list, watch, delete or other Lease"
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": role["metadata"]["name"],
    }
    account = only(elected, "ServiceAccount")["metadata"]
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": account["name"], "namespace": account["namespace"]}
    ]


def test_the_network_policy_lets_the_pods_reach_the_api_server(elected: list[Manifest]) -> None:
    egress = only(elected, "NetworkPolicy")["spec"]["egress"]
    api_server = [rule for rule in egress if {p["port"] for p in rule.get("ports", [])} == {443, 6443}]
    assert len(api_server) == 1
    base_egress = only(render(BASE), "NetworkPolicy")["spec"]["egress"]
    assert egress[: len(base_egress)] == base_egress, "the base's rules are kept as they are"


def test_the_component_is_a_kustomize_component() -> None:
    text = (COMPONENT / "kustomization.yaml").read_text()
    assert "kind: Component" in text
