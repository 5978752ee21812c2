"""The cost model on a small synthetic program run, priced from a synthetic table (exact figures)."""

from __future__ import annotations

import pytest
import yaml

from tests.plan.synthetic import captured, kubernetes, urn
from tools.plan import cost
from tools.plan.build import build, kubernetes_minor
from tools.plan.harness import STACKS, CapturedResource, run_stack
from tools.plan.stack_runner import REPO_ROOT

PRICES = {
    "hours_per_month": 100,
    "ec2_on_demand_hourly": {"t3.small": 0.1},
    "ebs": {
        "gp3_gib_month": 0.5,
        "gp3_iops_month_above_3000": 0.01,
        "gp3_throughput_mibps_month_above_125": 0.1,
    },
    "alb": {"hourly": 0.02, "lcu_hourly": 0.01},
    "public_ipv4_hourly": 0.005,
    "route53": {"hosted_zone_month": 0.5},
    "s3": {"standard_gib_month": 0.02, "put_per_1000": 0.005, "get_per_1000": 0.001},
    "usage": {
        "alb_average_lcu": 2,
        "alb_public_ipv4_per_subnet": 1,
        "s3_uploads_per_day": 1024,
        "s3_average_upload_mib": 1,
        "s3_gets_per_upload": 5,
    },
    "reference_monthly": {"low": 200, "high": 222},
}
SUBNET = "aws:ec2/subnet:Subnet"
INSTANCE = "aws:ec2/instance:Instance"


def synthetic_run() -> list[CapturedResource]:
    public, private = urn(SUBNET, "public"), urn(SUBNET, "private")
    bucket = urn("aws:s3/bucket:Bucket", "images")
    return [
        captured(SUBNET, "public", {"mapPublicIpOnLaunch": True}),
        captured(SUBNET, "private", {}),
        captured(
            INSTANCE,
            "master",
            {
                "instanceType": "t3.small",
                "rootBlockDevice": {"volumeSize": 20, "volumeType": "gp3", "iops": 4000},
            },
            property_dependencies={"subnetId": [public]},
        ),
        captured(
            INSTANCE,
            "worker",
            {"instanceType": "t3.small", "rootBlockDevice": {"volumeSize": 30, "volumeType": "gp3"}},
            property_dependencies={"subnetId": [public]},
        ),
        captured(
            INSTANCE, "inner", {"instanceType": "t3.small"}, property_dependencies={"subnetId": [private]}
        ),
        captured("aws:ec2/eip:Eip", "eip", {"domain": "vpc"}),
        captured(
            "aws:ec2/eipAssociation:EipAssociation",
            "eip-association",
            {},
            property_dependencies={"instanceId": [urn(INSTANCE, "master")]},
        ),
        captured("aws:lb/loadBalancer:LoadBalancer", "alb", {"internal": False, "subnets": ["a", "b"]}),
        captured("aws:route53/record:Record", "apex", {"zoneId": "Z1"}),
        captured("aws:route53/record:Record", "www", {"zoneId": "Z1"}),
        captured("aws:s3/bucket:Bucket", "images", {}),
        captured(
            "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
            "images-lifecycle",
            {"rules": [{"status": "Enabled", "expiration": {"days": 10}}]},
            property_dependencies={"bucket": [bucket]},
        ),
        kubernetes(
            "kubernetes:apps/v1:StatefulSet",
            {
                "metadata": {"name": "postgresql"},
                "spec": {
                    "replicas": 2,
                    "volumeClaimTemplates": [{"spec": {"resources": {"requests": {"storage": "10Gi"}}}}],
                },
            },
        ),
        kubernetes(
            "kubernetes:core/v1:PersistentVolumeClaim",
            {"metadata": {"name": "data"}, "spec": {"resources": {"requests": {"storage": "5Gi"}}}},
        ),
        captured(
            "kubernetes:helm.sh/v3:Release",
            "monitoring",
            {
                "values": {
                    "prometheus": {
                        "prometheusSpec": {
                            "replicas": 2,
                            "storageSpec": {
                                "volumeClaimTemplate": {
                                    "spec": {"resources": {"requests": {"storage": "50Gi"}}}
                                }
                            },
                        }
                    },
                    "grafana": {"persistence": {"enabled": True, "size": "1Gi"}},
                }
            },
        ),
    ]


def test_each_line_is_quantity_times_the_table() -> None:
    estimate = cost.estimate(synthetic_run(), PRICES)
    lines = {line.item: (line.quantity, line.unit_price) for line in estimate.lines}
    assert lines == {
        "EC2 t3.small": (3, 10.0),
        # 20 + 30 + the 8 GiB default root of "inner"
        "EBS gp3 node volumes": (58, 0.5),
        "EBS gp3 IOPS above 3000": (1000, 0.01),
        # 2 × 10 Gi + 5 Gi + 2 × 50 Gi (Prometheus replicas) + 1 Gi
        "EBS gp3 PersistentVolumeClaims": (126, 0.5),
        "ALB hours": (1, 2.0),
        "ALB LCUs": (2, 1.0),
        # the EIP, the worker's own address (the master's is replaced by the EIP), two ALB subnets
        "Public IPv4 addresses": (4, 0.5),
        "Route53 hosted zone": (1, 0.5),
        # 1024 uploads/day × 1 MiB × 10 days = 10 GiB
        "S3 storage images": (10, 0.02),
        "S3 requests images": (pytest.approx(1024 * 30.42 / 1000), 0.005 + 5 * 0.001),
    }
    assert estimate.findings == ()
    expected = 30 + 29 + 10 + 63 + 2 + 2 + 2 + 0.5 + 0.2 + 1024 * 30.42 / 1000 * 0.01
    assert estimate.total == pytest.approx(expected)
    assert estimate.as_json()["totalMonthly"] == round(expected, 2)


def test_an_instance_type_missing_from_the_table_is_a_finding() -> None:
    resources = [captured(INSTANCE, "big", {"instanceType": "m7i.48xlarge"})]
    (finding,) = cost.estimate(resources, PRICES).findings
    assert str(finding) == (f"[cost] {INSTANCE} ×1 at instanceType: no price for m7i.48xlarge in prices.yaml")


def test_a_bucket_without_expiration_keeps_a_year_of_uploads() -> None:
    resources = [captured("aws:s3/bucket:Bucket", "archive", {})]
    lines = {line.item: line for line in cost.estimate(resources, PRICES).lines}
    assert lines["S3 storage archive"].quantity == 365
    assert "no expiration" in lines["S3 storage archive"].basis


@pytest.mark.parametrize(
    ("quantity", "gib"),
    [("50Gi", 50), ("512Mi", 0.5), ("1Ti", 1024), ("10G", 10**10 / 2**30), (20, 20 / 2**30)],
)
def test_kubernetes_quantities(quantity: object, gib: float) -> None:
    assert cost.gibibytes(quantity) == pytest.approx(gib)


def test_a_malformed_quantity_is_refused() -> None:
    with pytest.raises(ValueError, match="not a Kubernetes storage quantity"):
        cost.gibibytes("lots")


def test_the_price_table_prices_every_instance_type_the_stacks_use() -> None:
    prices = cost.load_prices()
    for stack in STACKS:
        stack_file = yaml.safe_load((REPO_ROOT / f"Pulumi.{stack}.yaml").read_text())
        for role, node in stack_file["config"]["eco2:nodes"].items():
            assert node["instanceType"] in prices["ec2_on_demand_hourly"], (stack, role)


@pytest.mark.parametrize("stack", STACKS)
def test_the_real_program_is_priced_without_gaps(stack: str) -> None:
    plan = build(stack, run_stack(stack), kubernetes_minor(stack, {}))
    assert plan.cost.findings == ()
    items = {line.item for line in plan.cost.lines}
    assert {"EBS gp3 node volumes", "ALB hours", "Public IPv4 addresses", "Route53 hosted zone"} <= items
    assert any(item.startswith("EC2 ") for item in items)
    assert plan.cost.total > 0
