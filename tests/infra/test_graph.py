"""The resource graph of both stacks: what exists, how it is grouped, and how it is tagged."""

from __future__ import annotations

import importlib
import inspect
from collections import Counter
from typing import Any

import pytest

from eco2_platform.monitoring import load_dashboards, load_rule_files
from infra.ports import API_ROUTES
from tools.plan.harness import STACKS, run_program, stack_outputs

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

NODES = 7
WORKERS = NODES - 1
ROUTES = len(API_ROUTES)
API_NODES = 1

EXPECTED_COUNTS = {
    "eco2:infra:Network": 1,
    "eco2:infra:Security": 1,
    "eco2:infra:Storage": 1,
    "eco2:infra:Iam": 1,
    "eco2:infra:Nodes": 1,
    "eco2:infra:Edge": 1,
    "eco2:infra:Cluster": 1,
    "eco2:platform:ClusterPlatform": 1,
    "eco2:platform:Calico": 1,
    "eco2:platform:MetricsServer": 1,
    "eco2:platform:EbsCsi": 1,
    "eco2:platform:Monitoring": 1,
    "aws:ec2/vpc:Vpc": 1,
    "aws:ec2/internetGateway:InternetGateway": 1,
    "aws:ec2/routeTable:RouteTable": 1,
    "aws:ec2/route:Route": 1,
    "aws:ec2/subnet:Subnet": 3,
    "aws:ec2/routeTableAssociation:RouteTableAssociation": 3,
    "aws:ec2/securityGroup:SecurityGroup": 3,
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": None,  # depends on admin CIDRs: own test
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": 1 + ROUTES + 1,
    "aws:s3/bucket:Bucket": 1,
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": 1,
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": 1,
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": 1,
    "aws:s3/bucketPolicy:BucketPolicy": 1,
    "aws:s3/bucketCorsConfiguration:BucketCorsConfiguration": 1,
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": 1,
    "aws:iam/role:Role": 3,
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": 6,
    "aws:iam/rolePolicy:RolePolicy": 1,
    "aws:iam/instanceProfile:InstanceProfile": 3,
    "aws:ec2/keyPair:KeyPair": 1,
    "aws:ec2/instance:Instance": NODES,
    "aws:ec2/eip:Eip": 1,
    "aws:ec2/eipAssociation:EipAssociation": 1,
    "aws:route53/record:Record": 4,  # k8s endpoint, ACM validation, apex, www
    "aws:acm/certificate:Certificate": 1,
    "aws:acm/certificateValidation:CertificateValidation": 1,
    "aws:lb/loadBalancer:LoadBalancer": 1,
    "aws:lb/listener:Listener": 2,
    "aws:lb/targetGroup:TargetGroup": ROUTES + 1,  # the API services and Grafana
    "aws:lb/targetGroupAttachment:TargetGroupAttachment": ROUTES * API_NODES + 1,
    "aws:lb/listenerRule:ListenerRule": ROUTES + 1,
    # waits, init, joins, kubeconfig, image pulls on the three data nodes
    "command:remote:Command": NODES + 1 + WORKERS + 1 + 3,
    "pulumi:providers:kubernetes": 1,
    # platform (eco2_platform): tigera-operator and monitoring namespaces, five charts
    "kubernetes:helm.sh/v3:Release": 5,
    "kubernetes:operator.tigera.io/v1:Installation": 1,
    "kubernetes:storage.k8s.io/v1:StorageClass": 1,
    # ... and the app's and data namespaces, the data services and the app (platform/eco2_platform/data,
    # workloads, network_policies.py)
    "kubernetes:core/v1:Namespace": 2 + 2,
    "eco2:platform:Namespaces": 1,
    "eco2:platform:NetworkPolicies": 1,
    "eco2:platform:DataServices": 1,
    "eco2:platform:AppConfig": 1,
    "eco2:platform:Migration": 1,
    "eco2:platform:AppImagePuller": 1,
    "eco2:platform:Api": 1,
    "eco2:platform:Workers": 1,
    "eco2:platform:PodMonitors": 1,
    # Grafana's admin password; PostgreSQL, Redis and RabbitMQ
    "random:index/randomPassword:RandomPassword": 1 + 3,
    "tls:index/privateKey:PrivateKey": 1,
    "kubernetes:core/v1:Secret": 1 + 4,
    "kubernetes:core/v1:ConfigMap": 1 + len(load_dashboards()),  # the app's settings; one per dashboard
    "kubernetes:monitoring.coreos.com/v1:PrometheusRule": len(load_rule_files()),
    "kubernetes:apps/v1:StatefulSet": 3,
    "kubernetes:core/v1:Service": 3 + ROUTES,
    "kubernetes:batch/v1:Job": 1,
    "kubernetes:apps/v1:Deployment": ROUTES + 3 + 1,  # APIs, worker groups, beat
    "kubernetes:apps/v1:DaemonSet": 1,  # the app image puller
    "kubernetes:autoscaling/v2:HorizontalPodAutoscaler": ROUTES,
    "kubernetes:policy/v1:PodDisruptionBudget": 3 + ROUTES + 3,
    "kubernetes:networking.k8s.io/v1:NetworkPolicy": 2 + 5,  # default denies, one per destination
    "kubernetes:monitoring.coreos.com/v1:PodMonitor": 5,
}

NOT_TAGGABLE = {
    "aws:ec2/route:Route",
    "aws:ec2/routeTableAssociation:RouteTableAssociation",
    "aws:ec2/eipAssociation:EipAssociation",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketPolicy:BucketPolicy",
    "aws:s3/bucketCorsConfiguration:BucketCorsConfiguration",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    "aws:iam/rolePolicy:RolePolicy",
    "aws:route53/record:Record",
    "aws:acm/certificateValidation:CertificateValidation",
    "aws:lb/targetGroupAttachment:TargetGroupAttachment",
}


def resource_class(type_: str) -> Any:
    """``aws:ec2/instance:Instance`` → ``pulumi_aws.ec2.Instance``."""
    _, module_path, class_name = type_.split(":")
    module = importlib.import_module(f"pulumi_aws.{module_path.split('/')[0]}")
    return getattr(module, class_name)


@pytest.mark.parametrize("stack", STACKS)
def test_resource_counts_per_type(stack):
    counts = Counter(resource.type_ for resource in run_program(stack))
    assert set(counts) == set(EXPECTED_COUNTS)
    for type_, expected in EXPECTED_COUNTS.items():
        if expected is not None:
            assert counts[type_] == expected, type_


@pytest.mark.parametrize("stack", STACKS)
def test_every_resource_belongs_to_a_component(stack):
    resources = run_program(stack)
    components = {resource.urn: resource for resource in resources if not resource.custom}
    assert all(
        component.type_.startswith(("eco2:infra:", "eco2:platform:")) for component in components.values()
    )
    for resource in resources:
        if resource.custom:
            assert resource.parent in components, f"{resource.type_} {resource.name} is not in a component"


@pytest.mark.parametrize("stack", STACKS)
def test_every_taggable_aws_resource_carries_the_common_tags(stack):
    for resource in run_program(stack):
        if not resource.type_.startswith("aws:") or resource.type_ in NOT_TAGGABLE:
            continue
        assert resource.tags.get("Project") == "eco2", resource.name
        assert resource.tags.get("Stack") == stack, resource.name
        assert resource.tags.get("ManagedBy") == "pulumi", resource.name
        assert resource.tags.get("Name", "").startswith(f"eco2-{stack}-"), resource.name


def test_the_untagged_types_really_have_no_tags_input():
    for type_ in NOT_TAGGABLE:
        assert "tags" not in inspect.signature(resource_class(type_)._internal_init).parameters, type_
    for type_ in EXPECTED_COUNTS:
        if type_.startswith("aws:") and type_ not in NOT_TAGGABLE:
            assert "tags" in inspect.signature(resource_class(type_)._internal_init).parameters, type_


@pytest.mark.parametrize("stack", STACKS)
def test_outputs_a_platform_engineer_needs(stack):
    outputs = stack_outputs(stack)
    assert outputs["kubeconfig"]["secret"] is True
    assert "server: https://203.0.113.10:6443" in outputs["kubeconfig"]["value"]
    assert outputs["albDnsName"]["value"].endswith(".elb.amazonaws.com")
    assert outputs["imageBucketName"]["value"] == f"eco2-{stack}-images-123456789012"
    nodes = outputs["nodes"]["value"]
    assert sorted(nodes) == sorted(
        ["master", "api", "async", "monitoring", "postgresql", "rabbitmq", "redis"]
    )
    assert nodes["master"] == [{"name": "master", "privateIp": "10.0.0.10", "publicIp": "203.0.113.10"}]
    domain = "dev.eco2.example.com" if stack == "dev" else "eco2.example.com"
    assert outputs["urls"]["value"]["app"] == f"https://{domain}"
    assert outputs["urls"]["value"]["kubernetesApiDns"] == f"https://k8s.{domain}:6443"
    assert outputs["apiRoutes"]["value"]["waste"] == {"path": "/api/v1/waste", "nodePort": 30083}
    assert outputs["grafanaAdminPassword"]["secret"] is True
    assert outputs["urls"]["value"]["grafana"] == f"https://{domain}/grafana/"
    secrets = ("kubeconfig", "grafanaAdminPassword")
    assert not any(output["secret"] for name, output in outputs.items() if name not in secrets)
