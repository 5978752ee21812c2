"""Estimated monthly cost of a program run: captured resources × the price table (tools/plan/prices.yaml).

Every quantity comes from the captured inputs (instance types, root volumes, PVC sizes, load balancers and
their subnets, Elastic IPs, DNS zones, the bucket's lifecycle); only usage the program cannot know (ALB LCUs,
uploads per day) comes from the table's ``usage`` block, and each line says what it assumed. Not modelled:
data transfer out, CloudWatch, T3 surplus CPU credits, EBS snapshots.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

from tools.plan.findings import Finding
from tools.plan.harness import CapturedResource

PRICES_FILE = Path(__file__).with_name("prices.yaml")
INSTANCE = "aws:ec2/instance:Instance"
VOLUME = "aws:ebs/volume:Volume"
SUBNET = "aws:ec2/subnet:Subnet"
EIP = "aws:ec2/eip:Eip"
EIP_ASSOCIATION = "aws:ec2/eipAssociation:EipAssociation"
LOAD_BALANCERS = ("aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer")
RECORD = "aws:route53/record:Record"
ZONE = "aws:route53/zone:Zone"
BUCKETS = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
STATEFUL_SET = "kubernetes:apps/v1:StatefulSet"
PVC = "kubernetes:core/v1:PersistentVolumeClaim"
RELEASE = "kubernetes:helm.sh/v3:Release"
AMI_DEFAULT_ROOT_GIB = 8
"""Root volume of an Ubuntu cloud image when the instance sets no size."""
UNBOUNDED_RETENTION_DAYS = 365
"""Retention assumed for a bucket without an expiration rule: a year of uploads."""
DAYS_PER_MONTH = 30.42
_QUANTITY = re.compile(r"^([0-9.]+)([EPTGMK]i?|m|k)?$")
_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {
    "k": 10**3,
    "K": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "P": 10**15,
    "E": 10**18,
    "m": 10**-3,
}


@dataclass(frozen=True)
class CostLine:
    item: str
    quantity: float
    unit: str
    unit_price: float
    """USD per unit per month."""
    basis: str
    """Where the quantity came from, and any usage assumption."""

    @property
    def monthly(self) -> float:
        return self.quantity * self.unit_price

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "monthly": round(self.monthly, 4)}


@dataclass(frozen=True)
class CostEstimate:
    lines: tuple[CostLine, ...]
    findings: tuple[Finding, ...]
    """Resources the table cannot price (an instance type or volume type missing from it)."""
    reference: Mapping[str, Any]

    @property
    def total(self) -> float:
        return sum(line.monthly for line in self.lines)

    def as_json(self) -> dict[str, Any]:
        return {
            "currency": "USD",
            "lines": [line.as_json() for line in self.lines],
            "totalMonthly": round(self.total, 2),
            "reference": dict(self.reference),
        }


def load_prices(path: Path = PRICES_FILE) -> dict[str, Any]:
    prices: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return prices


def gibibytes(quantity: object) -> float:
    """A Kubernetes quantity (``50Gi``, ``10G``, ``512Mi``) in GiB."""
    match = _QUANTITY.match(str(quantity).strip())
    if not match:
        raise ValueError(f"not a Kubernetes storage quantity: {quantity!r}")
    number, suffix = float(match.group(1)), match.group(2) or ""
    factor = _BINARY.get(suffix) or _DECIMAL.get(suffix, 1)
    return number * factor / 2**30


def estimate(resources: Sequence[CapturedResource], prices: Mapping[str, Any]) -> CostEstimate:
    by_urn = {resource.urn: resource for resource in resources}
    lines: list[CostLine] = []
    findings: list[Finding] = []
    hours = float(prices["hours_per_month"])
    lines += _instances(resources, prices, hours, findings)
    lines += _volumes(resources, prices, findings)
    lines += _claims(resources, prices, findings)
    lines += _load_balancers(resources, prices, hours)
    lines += _public_ipv4(resources, by_urn, prices, hours)
    lines += _dns_zones(resources, prices)
    lines += _buckets(resources, prices)
    return CostEstimate(tuple(lines), tuple(findings), prices.get("reference_monthly", {}))


def _of(resources: Sequence[CapturedResource], *types: str) -> list[CapturedResource]:
    return [resource for resource in resources if resource.type_ in types]


def _instances(
    resources: Sequence[CapturedResource], prices: Mapping[str, Any], hours: float, findings: list[Finding]
) -> list[CostLine]:
    table = prices["ec2_on_demand_hourly"]
    counts = Counter(str(r.inputs.get("instanceType")) for r in _of(resources, INSTANCE))
    lines = []
    for instance_type, count in sorted(counts.items()):
        if instance_type not in table:
            findings.append(
                Finding(
                    "cost",
                    f"{INSTANCE} ×{count}",
                    "instanceType",
                    f"no price for {instance_type} in {PRICES_FILE.name}",
                )
            )
            continue
        lines.append(
            CostLine(
                f"EC2 {instance_type}",
                count,
                "instance",
                float(table[instance_type]) * hours,
                f"{count} instance(s) on-demand, {hours:g} h",
            )
        )
    return lines


def _block_devices(resource: CapturedResource) -> list[tuple[str, Mapping[str, Any]]]:
    """(label, device) of an instance's root and extra EBS volumes, or of an ``ebs.Volume``."""
    inputs = resource.inputs
    if resource.type_ == VOLUME:
        return [(resource.name, inputs)]
    root = inputs.get("rootBlockDevice")
    root = root if isinstance(root, dict) else {}
    devices: list[tuple[str, Mapping[str, Any]]] = [
        (f"{resource.name} root", {"volumeSize": AMI_DEFAULT_ROOT_GIB, **root})
    ]
    devices += [
        (f"{resource.name} {d.get('deviceName', 'ebs')}", d) for d in inputs.get("ebsBlockDevices") or []
    ]
    return devices


def _volumes(
    resources: Sequence[CapturedResource], prices: Mapping[str, Any], findings: list[Finding]
) -> list[CostLine]:
    ebs = prices["ebs"]
    size = iops = throughput = 0.0
    for resource in _of(resources, INSTANCE, VOLUME):
        for label, device in _block_devices(resource):
            volume_type = str(device.get("volumeType") or device.get("type") or "gp3")
            if volume_type != "gp3":
                findings.append(
                    Finding("cost", label, "volumeType", f"no price for EBS {volume_type} (gp3 only)")
                )
                continue
            size += float(device.get("volumeSize") or device.get("size") or 0)
            iops += max(0.0, float(device.get("iops") or 3000) - 3000)
            throughput += max(0.0, float(device.get("throughput") or 125) - 125)
    lines = [
        CostLine("EBS gp3 node volumes", size, "GiB", float(ebs["gp3_gib_month"]), "root and data volumes")
    ]
    if iops:
        lines.append(
            CostLine(
                "EBS gp3 IOPS above 3000",
                iops,
                "IOPS",
                float(ebs["gp3_iops_month_above_3000"]),
                "provisioned",
            )
        )
    if throughput:
        lines.append(
            CostLine(
                "EBS gp3 throughput above 125 MiB/s",
                throughput,
                "MiB/s",
                float(ebs["gp3_throughput_mibps_month_above_125"]),
                "provisioned",
            )
        )
    return lines


def _release_claims(values: Any, path: str = "values", replicas: int = 1) -> list[tuple[str, float]]:
    """(path, GiB) of every PVC a chart's values ask for: ``volumeClaimTemplate`` blocks (× the nearest
    enclosing ``replicas``, as in ``prometheusSpec: {replicas, storageSpec: {volumeClaimTemplate}}``) and
    ``persistence: {enabled: true, size: ...}`` blocks."""
    found: list[tuple[str, float]] = []
    if isinstance(values, dict):
        replicas = values["replicas"] if isinstance(values.get("replicas"), int) else replicas
        template = values.get("volumeClaimTemplate")
        if isinstance(template, dict):
            storage = template.get("spec", {}).get("resources", {}).get("requests", {}).get("storage")
            if storage is not None:
                found.append((f"{path}.volumeClaimTemplate", gibibytes(storage) * replicas))
        persistence = values.get("persistence")
        if isinstance(persistence, dict) and persistence.get("enabled") is True and persistence.get("size"):
            found.append((f"{path}.persistence", gibibytes(persistence["size"])))
        for key, item in values.items():
            if key not in ("volumeClaimTemplate", "persistence"):
                found += _release_claims(item, f"{path}.{key}", replicas)
    elif isinstance(values, list):
        for index, item in enumerate(values):
            found += _release_claims(item, f"{path}[{index}]", replicas)
    return found


def _claims(
    resources: Sequence[CapturedResource], prices: Mapping[str, Any], findings: list[Finding]
) -> list[CostLine]:
    """PVCs on gp3: StatefulSet claim templates × replicas, PVC objects, and the charts' own PVCs."""
    claims: list[tuple[str, float]] = []
    for resource in _of(resources, STATEFUL_SET, PVC, RELEASE):
        try:
            if resource.type_ == STATEFUL_SET:
                spec = resource.inputs.get("spec", {})
                replicas = int(spec.get("replicas", 1))
                for template in spec.get("volumeClaimTemplates") or []:
                    storage = template["spec"]["resources"]["requests"]["storage"]
                    claims.append((resource.name, gibibytes(storage) * replicas))
            elif resource.type_ == PVC:
                claims.append(
                    (resource.name, gibibytes(resource.inputs["spec"]["resources"]["requests"]["storage"]))
                )
            else:
                claims += [
                    (f"{resource.name} {path}", size)
                    for path, size in _release_claims(resource.inputs.get("values"))
                ]
        except (KeyError, TypeError, ValueError) as error:
            findings.append(
                Finding(
                    "cost", f"{resource.type_} {resource.name}", "", f"unreadable storage request: {error}"
                )
            )
    if not claims:
        return []
    names = ", ".join(f"{name} {size:g}" for name, size in claims)
    total = sum(size for _, size in claims)
    return [
        CostLine("EBS gp3 PersistentVolumeClaims", total, "GiB", float(prices["ebs"]["gp3_gib_month"]), names)
    ]


def _application_load_balancers(resources: Sequence[CapturedResource]) -> list[CapturedResource]:
    return [
        r
        for r in _of(resources, *LOAD_BALANCERS)
        if r.inputs.get("loadBalancerType", "application") == "application"
    ]


def _load_balancers(
    resources: Sequence[CapturedResource], prices: Mapping[str, Any], hours: float
) -> list[CostLine]:
    albs = _application_load_balancers(resources)
    if not albs:
        return []
    alb = prices["alb"]
    lcu = float(prices["usage"]["alb_average_lcu"])
    return [
        CostLine(
            "ALB hours",
            len(albs),
            "load balancer",
            float(alb["hourly"]) * hours,
            f"{len(albs)} ALB, {hours:g} h",
        ),
        CostLine(
            "ALB LCUs",
            len(albs) * lcu,
            "LCU",
            float(alb["lcu_hourly"]) * hours,
            f"assumed {lcu:g} LCU on average (usage.alb_average_lcu)",
        ),
    ]


def _public_ipv4(
    resources: Sequence[CapturedResource],
    by_urn: Mapping[str, CapturedResource],
    prices: Mapping[str, Any],
    hours: float,
) -> list[CostLine]:
    """Every public IPv4 address is billed: Elastic IPs, auto-assigned instance addresses (an instance given
    an EIP releases its own), and one per subnet of an internet-facing ALB."""
    with_eip = {
        urn for r in _of(resources, EIP_ASSOCIATION) for urn in r.property_dependencies.get("instanceId", ())
    }
    auto = 0
    for instance in _of(resources, INSTANCE):
        subnets = [by_urn[urn] for urn in instance.property_dependencies.get("subnetId", ()) if urn in by_urn]
        public = instance.inputs.get("associatePublicIpAddress")
        if public is None:
            public = any(subnet.inputs.get("mapPublicIpOnLaunch") is True for subnet in subnets)
        auto += bool(public) and instance.urn not in with_eip
    eips = len(_of(resources, EIP))
    per_subnet = int(prices["usage"]["alb_public_ipv4_per_subnet"])
    alb = sum(
        len(r.inputs.get("subnets") or []) * per_subnet
        for r in _application_load_balancers(resources)
        if not r.inputs.get("internal")
    )
    count = auto + eips + alb
    if not count:
        return []
    return [
        CostLine(
            "Public IPv4 addresses",
            count,
            "address",
            float(prices["public_ipv4_hourly"]) * hours,
            f"{eips} Elastic IP, {auto} instance, {alb} ALB",
        )
    ]


def _dns_zones(resources: Sequence[CapturedResource], prices: Mapping[str, Any]) -> list[CostLine]:
    zones = {str(r.inputs.get("zoneId")) for r in _of(resources, RECORD) if r.inputs.get("zoneId")}
    count = len(zones) + len(_of(resources, ZONE))
    if not count:
        return []
    return [
        CostLine(
            "Route53 hosted zone",
            count,
            "zone",
            float(prices["route53"]["hosted_zone_month"]),
            "zones the records live in; alias queries to the ALB are free",
        )
    ]


def _retention_days(bucket: CapturedResource, resources: Sequence[CapturedResource]) -> int | None:
    days = [
        int(rule["expiration"]["days"])
        for lifecycle in _of(resources, LIFECYCLE)
        if bucket.urn in lifecycle.property_dependencies.get("bucket", ())
        for rule in lifecycle.inputs.get("rules") or []
        if rule.get("status") == "Enabled"
        and isinstance(rule.get("expiration"), dict)
        and rule["expiration"].get("days")
    ]
    return max(days) if days else None


def _buckets(resources: Sequence[CapturedResource], prices: Mapping[str, Any]) -> list[CostLine]:
    s3, usage = prices["s3"], prices["usage"]
    lines = []
    for bucket in _of(resources, *BUCKETS):
        days = _retention_days(bucket, resources)
        kept = days or UNBOUNDED_RETENTION_DAYS
        per_day, mib = float(usage["s3_uploads_per_day"]), float(usage["s3_average_upload_mib"])
        stored = per_day * mib * kept / 1024
        kept_text = f"{days} days (lifecycle)" if days else f"no expiration: {kept} days assumed"
        thousands = per_day * DAYS_PER_MONTH / 1000
        per_thousand = float(s3["put_per_1000"]) + float(usage["s3_gets_per_upload"]) * float(
            s3["get_per_1000"]
        )
        lines += [
            CostLine(
                f"S3 storage {bucket.name}",
                stored,
                "GiB",
                float(s3["standard_gib_month"]),
                f"{per_day:g} uploads/day × {mib:g} MiB × {kept_text}",
            ),
            CostLine(
                f"S3 requests {bucket.name}",
                thousands,
                "1000 uploads",
                per_thousand,
                f"1 PUT + {usage['s3_gets_per_upload']} GET per upload",
            ),
        ]
    return lines
