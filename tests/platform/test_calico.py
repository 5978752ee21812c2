"""Calico: its Installation is valid against the CRD, its pool is kubeadm's pod subnet, it waits for Ready."""

from __future__ import annotations

import copy

import jsonschema
import pytest
import yaml

from eco2_platform.calico import installation_manifest
from eco2_platform.charts import TIGERA_OPERATOR
from eco2_platform.namespaces import TIGERA_OPERATOR_NAMESPACE
from infra.config import POD_CIDR
from infra.render.kubeadm import ControlPlaneEndpoint, NodeIdentity, init_config
from infra.roles import ROLES
from tests.support.crd_schema import validate_custom_resource
from tools.plan.harness import STACKS, CapturedResource, by_name, of_type, run_program

INSTALLATION = "kubernetes:operator.tigera.io/v1:Installation"
RELEASE = "kubernetes:helm.sh/v3:Release"


def installation(stack: str) -> CapturedResource:
    (resource,) = of_type(run_program(stack), INSTALLATION)
    return resource


@pytest.mark.parametrize("stack", STACKS)
def test_the_installation_is_valid_against_its_crd(stack):
    validate_custom_resource(installation(stack).inputs)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("spec", "calicoNetwork", "ipPools", 0, "encapsulation"), "GRE"),
        (("spec", "calicoNetwork", "bgp"), "Off"),
        (("spec", "calicoNetwork", "ipPools", 0, "blockSize"), "26"),
        (("spec", "calicoNetwork", "ipPool"), []),  # a typo the API server would silently drop
    ],
    ids=["unknown-encapsulation", "bgp-off", "block-size-as-text", "unknown-field"],
)
def test_a_broken_installation_is_refused(path, value):
    manifest = copy.deepcopy(installation_manifest(str(POD_CIDR)))
    target = manifest
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(jsonschema.ValidationError):
        validate_custom_resource(manifest)


@pytest.mark.parametrize("stack", STACKS)
def test_pool_is_the_kubeadm_pod_subnet_from_one_source(stack):
    master = NodeIdentity("master", ROLES["master"], "i-0123456789abcdef0", "ap-northeast-2a", "10.0.0.10")
    endpoint = ControlPlaneEndpoint(
        private_ip="10.0.0.10", public_ip="203.0.113.10", dns_name="k8s.example.com"
    )
    cluster_config = yaml.safe_load_all(
        init_config(cluster_name="eco2", kubernetes_version="1.34.2", node=master, endpoint=endpoint)
    )
    pod_subnet = next(doc for doc in cluster_config if doc["kind"] == "ClusterConfiguration")["networking"][
        "podSubnet"
    ]
    (pool,) = installation(stack).inputs["spec"]["calicoNetwork"]["ipPools"]
    assert pool["cidr"] == pod_subnet == str(POD_CIDR)


@pytest.mark.parametrize("stack", STACKS)
def test_vxlan_without_bgp_and_the_install_waits_for_ready(stack):
    inputs = installation(stack).inputs
    network = inputs["spec"]["calicoNetwork"]
    assert network["bgp"] == "Disabled"
    assert [pool["encapsulation"] for pool in network["ipPools"]] == ["VXLAN"]
    assert inputs["metadata"]["name"] == "default"  # the only name the operator reconciles
    assert inputs["metadata"]["annotations"]["pulumi.com/waitFor"] == "condition=Ready"


@pytest.mark.parametrize("stack", STACKS)
def test_the_operator_chart_leaves_the_installation_to_the_typed_resource(stack):
    resources = run_program(stack)
    operator = by_name(resources, RELEASE, "tigera-operator")
    assert operator.inputs["chart"] == TIGERA_OPERATOR.chart
    assert operator.inputs["version"] == TIGERA_OPERATOR.version
    assert operator.inputs["namespace"] == TIGERA_OPERATOR_NAMESPACE
    assert operator.inputs["values"]["installation"] == {"enabled": False}
    assert operator.urn in installation(stack).dependencies
