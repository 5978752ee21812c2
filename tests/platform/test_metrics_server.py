"""metrics-server verifies kubelet certificates: serving certs bootstrapped and approved, never skipped."""

from __future__ import annotations

import json
import re

import pytest

from eco2_platform.metrics_server import node_name_pattern
from infra.roles import ROLES
from tools.plan.harness import STACKS, by_name, run_program
from tools.plan.stack_runner import stack_config

RELEASE = "kubernetes:helm.sh/v3:Release"


@pytest.mark.parametrize("stack", STACKS)
def test_metrics_server_never_skips_kubelet_tls(stack):
    release = by_name(run_program(stack), RELEASE, "metrics-server")
    assert "kubelet-insecure-tls" not in json.dumps(release.inputs["values"])
    assert release.inputs["values"]["args"] == []


@pytest.mark.parametrize("stack", STACKS)
def test_every_kubelet_asks_for_a_serving_certificate(stack):
    init = by_name(run_program(stack), "command:remote:Command", "kubeadm-init")
    # The KubeletConfiguration kubeadm init stores for every node (workers read it at join).
    assert (
        "kind: KubeletConfiguration\ncgroupDriver: systemd\nserverTLSBootstrap: true\n"
        in init.inputs["stdin"]
    )


@pytest.mark.parametrize("stack", STACKS)
def test_metrics_server_waits_for_the_cni_and_the_csr_approver(stack):
    resources = run_program(stack)
    metrics = by_name(resources, RELEASE, "metrics-server")
    approver = by_name(resources, RELEASE, "kubelet-csr-approver")
    installation = by_name(resources, "kubernetes:operator.tigera.io/v1:Installation", "calico-installation")
    assert approver.urn in metrics.dependencies
    assert installation.urn in metrics.dependencies and installation.urn in approver.dependencies


@pytest.mark.parametrize("stack", STACKS)
def test_the_approver_accepts_exactly_this_clusters_nodes(stack):
    values = by_name(run_program(stack), RELEASE, "kubelet-csr-approver").inputs["values"]
    assert values["providerIpPrefixes"] == [json.loads(json.dumps(stack_config(stack)["eco2:vpcCidr"]))]
    pattern = re.compile(values["providerRegex"])
    for name in ["master", "api-1", "api-2", "async-1", "monitoring", "postgresql", "rabbitmq", "redis"]:
        assert pattern.match(name), name
    for name in ["api", "master-2", "redis-1", "evil", "api-1.attacker.example", "postgresql\n"]:
        assert not pattern.fullmatch(name), name


def test_the_node_name_pattern_follows_the_role_table():
    assert node_name_pattern(ROLES.values()) == (
        "^(master|api-[0-9]+|async-[0-9]+|monitoring|postgresql|rabbitmq|redis)$"
    )
