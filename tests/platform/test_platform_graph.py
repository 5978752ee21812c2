"""The platform in the one graph: the CNI first, the cluster's provider everywhere, pinned charts, and the
Grafana route agreeing from the chart values to the ALB."""

from __future__ import annotations

import re

import kubernetes_validate
import pytest

from eco2_platform.charts import CHARTS, VALUES_DIR, load_values
from eco2_platform.namespaces import MONITORING_NAMESPACE
from infra.ports import GRAFANA
from tools.plan.harness import STACKS, by_name, of_type, run_program, transitive_dependencies

RELEASE = "kubernetes:helm.sh/v3:Release"
INSTALLATION = "kubernetes:operator.tigera.io/v1:Installation"
EXACT_VERSION = re.compile(r"^v?\d+\.\d+\.\d+$")
POD_RUNNING_KINDS = (
    "kubernetes:helm.sh/v3:Release",
    "kubernetes:apps/v1:Deployment",
    "kubernetes:apps/v1:StatefulSet",
    "kubernetes:apps/v1:DaemonSet",
    "kubernetes:batch/v1:Job",
    "kubernetes:batch/v1:CronJob",
    "kubernetes:core/v1:Pod",
)
"""What schedules pods: each must wait for Calico (only the operator that installs it may not)."""


@pytest.mark.parametrize("stack", STACKS)
def test_everything_scheduled_waits_for_the_cni(stack):
    resources = run_program(stack)
    (installation,) = of_type(resources, INSTALLATION)
    operator = by_name(resources, RELEASE, "tigera-operator")
    scheduled = [r for r in resources if r.type_ in POD_RUNNING_KINDS and r.urn != operator.urn]
    assert len(scheduled) >= 4
    for resource in scheduled:
        assert installation.urn in transitive_dependencies(resources, resource), resource.name


@pytest.mark.parametrize("stack", STACKS)
def test_calico_installs_while_the_workers_join_and_everything_scheduled_waits_for_every_join(stack):
    resources = run_program(stack)
    commands = of_type(resources, "command:remote:Command")
    joins = {r.urn for r in commands if r.name.startswith("kubeadm-join-")}
    assert len(joins) == 6
    (installation,) = of_type(resources, INSTALLATION)
    assert not joins & transitive_dependencies(resources, installation)
    operator = by_name(resources, RELEASE, "tigera-operator")
    scheduled = [r for r in resources if r.type_ in POD_RUNNING_KINDS and r.urn != operator.urn]
    for resource in scheduled:
        assert joins <= transitive_dependencies(resources, resource), resource.name


@pytest.mark.parametrize("stack", STACKS)
def test_every_kubernetes_resource_uses_the_cluster_provider(stack):
    resources = run_program(stack)
    (provider,) = of_type(resources, "pulumi:providers:kubernetes")
    (cluster,) = of_type(resources, "eco2:infra:Cluster")
    assert provider.parent == cluster.urn
    kubernetes = [r for r in resources if r.type_.startswith("kubernetes:")]
    assert kubernetes
    assert {r.name for r in kubernetes if r.provider != provider.urn} == set()


@pytest.mark.parametrize("stack", STACKS)
def test_platform_components_live_under_the_cluster_platform(stack):
    resources = run_program(stack)
    (platform,) = of_type(resources, "eco2:platform:ClusterPlatform")
    children = {r.type_ for r in resources if r.parent == platform.urn}
    assert children == {
        "eco2:platform:Calico",
        "eco2:platform:MetricsServer",
        "eco2:platform:EbsCsi",
        "eco2:platform:Monitoring",
    }


@pytest.mark.parametrize("stack", STACKS)
def test_every_chart_is_pinned_and_installed_once(stack):
    releases = of_type(run_program(stack), RELEASE)
    assert sorted(r.inputs["chart"] for r in releases) == sorted(pin.chart for pin in CHARTS)
    pins = {pin.chart: pin for pin in CHARTS}
    for release in releases:
        pin = pins[release.inputs["chart"]]
        assert EXACT_VERSION.match(release.inputs["version"]), release.name
        assert release.inputs["version"] == pin.version
        assert release.inputs["repositoryOpts"] == {"repo": pin.repository}
        assert pin.repository.startswith("https://")
        assert release.inputs["atomic"] is True
        # The values file is the base: every key it sets is in the release (stack values only add or refine).
        assert set(load_values(pin)) <= set(release.inputs["values"]), release.name


def test_the_values_files_are_mappings_and_there_is_no_stray_one():
    assert sorted(path.name for path in VALUES_DIR.glob("*.yaml")) == sorted(
        pin.values_file.name for pin in CHARTS
    )
    for pin in CHARTS:
        assert isinstance(load_values(pin), dict)


@pytest.mark.parametrize("stack", STACKS)
def test_grafana_node_port_target_group_listener_rule_and_health_path_agree(stack):
    resources = run_program(stack)
    grafana = by_name(resources, RELEASE, "kube-prometheus-stack").inputs["values"]["grafana"]
    assert grafana["service"] == {"type": "NodePort", "nodePort": GRAFANA.node_port}
    assert grafana["readinessProbe"]["httpGet"]["path"] == GRAFANA.health_check_path
    assert grafana["livenessProbe"]["httpGet"]["path"] == GRAFANA.health_check_path
    server = grafana["grafana.ini"]["server"]
    assert server["serve_from_sub_path"] is True
    domain = "dev.eco2.example.com" if stack == "dev" else "eco2.example.com"
    assert server["root_url"] == f"https://{domain}{GRAFANA.path_prefix}/"

    target_group = by_name(resources, "aws:lb/targetGroup:TargetGroup", "tg-grafana")
    assert target_group.inputs["port"] == GRAFANA.node_port
    assert target_group.inputs["targetType"] == "instance"
    assert target_group.inputs["healthCheck"]["path"] == GRAFANA.health_check_path
    (attachment,) = [
        a
        for a in of_type(resources, "aws:lb/targetGroupAttachment:TargetGroupAttachment")
        if target_group.urn in a.dependencies
    ]
    assert attachment.inputs["port"] == GRAFANA.node_port
    monitoring_node = by_name(resources, "aws:ec2/instance:Instance", "node-monitoring")
    assert attachment.property_dependencies["targetId"] == (monitoring_node.urn,)
    rule = by_name(resources, "aws:lb/listenerRule:ListenerRule", "route-grafana")
    assert rule.property_dependencies["actions"] == (target_group.urn,)
    (condition,) = rule.inputs["conditions"]
    assert condition["pathPattern"]["values"] == [GRAFANA.path_prefix, f"{GRAFANA.path_prefix}/*"]
    ingress = [
        r
        for r in of_type(resources, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
        if r.inputs.get("fromPort") == GRAFANA.node_port
    ]
    assert len(ingress) == 1 and ingress[0].inputs["toPort"] == GRAFANA.node_port
    assert (
        by_name(resources, "aws:ec2/securityGroup:SecurityGroup", "sg-alb").urn
        in (ingress[0].property_dependencies["referencedSecurityGroupId"])
    )


@pytest.mark.parametrize("stack", STACKS)
def test_platform_namespaces_are_valid_and_privileged_only_where_agents_need_the_host(stack):

    namespaces = {
        r.inputs["metadata"]["name"]: r
        for r in of_type(run_program(stack), "kubernetes:core/v1:Namespace")
        if r.name.startswith("namespace-")
    }
    assert set(namespaces) >= {"tigera-operator", MONITORING_NAMESPACE}
    for namespace in namespaces.values():
        kubernetes_validate.validate(namespace.inputs, "1.34", strict=True)
        # tigera-operator runs on the host network; node-exporter reads the host.
        assert namespace.inputs["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "privileged"


@pytest.mark.parametrize("stack", STACKS)
def test_the_platforms_plain_objects_are_valid_kubernetes(stack):
    resources = run_program(stack)
    (platform,) = of_type(resources, "eco2:platform:ClusterPlatform")
    components = {r.urn for r in resources if r.parent == platform.urn}
    built_in = [
        r
        for r in resources
        if r.parent in components and r.type_.split(":")[1] in ("core/v1", "storage.k8s.io/v1")
    ]
    assert {r.type_ for r in built_in} >= {
        "kubernetes:core/v1:Namespace",
        "kubernetes:core/v1:Secret",
        "kubernetes:storage.k8s.io/v1:StorageClass",
    }
    for resource in built_in:
        kubernetes_validate.validate(resource.inputs, "1.34", strict=True)
