"""The AWS EBS CSI driver and the cluster's default StorageClass (gp3, encrypted, bound where the pod lands).

The nodes' instance profiles carry ``AmazonEBSCSIDriverPolicy`` (infra/components/iam.py), read by the driver
through IMDSv2 (hop limit 2). Volumes are tagged with the stack's name so they can be traced to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from eco2_platform.charts import AWS_EBS_CSI_DRIVER, chart_values, release
from eco2_platform.namespaces import KUBE_SYSTEM_NAMESPACE
from eco2_platform.storage_classes import DEFAULT_STORAGE_CLASS

PROVISIONER = "ebs.csi.aws.com"
DEFAULT_CLASS_ANNOTATION = "storageclass.kubernetes.io/is-default-class"
GP3_PARAMETERS = {"type": "gp3", "encrypted": "true", "csi.storage.k8s.io/fstype": "ext4"}
"""Encrypted with the account's default EBS key; gp3's baseline 3000 IOPS / 125 MiB/s."""
RECLAIM_POLICY = "Retain"
"""A deleted claim keeps its EBS volume: a database is never lost to a mistaken delete (clean up by hand)."""


def ebs_csi_values(region: str, cluster_id: str) -> dict[str, Any]:
    """The driver's values file plus the stack's region and the tag it puts on every volume."""
    return chart_values(
        AWS_EBS_CSI_DRIVER,
        {"controller": {"region": region, "k8sTagClusterId": cluster_id}},
    )


@dataclass(frozen=True)
class EbsCsiArgs:
    region: str
    cluster_id: str
    """The stack's name prefix (``eco2-prod``), tagged on every volume the driver creates."""
    provider: k8s.Provider
    scheduling_ready: Sequence[pulumi.Resource]


class EbsCsi(pulumi.ComponentResource):
    ready: list[pulumi.Resource]
    """``depends_on`` for anything with a PersistentVolumeClaim: the driver and the class exist."""
    storage_class: k8s.storage.v1.StorageClass

    def __init__(self, name: str, args: EbsCsiArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("eco2:platform:EbsCsi", name, None, opts)
        driver = release(
            "aws-ebs-csi-driver",
            AWS_EBS_CSI_DRIVER,
            namespace=KUBE_SYSTEM_NAMESPACE,
            values=ebs_csi_values(args.region, args.cluster_id),
            parent=self,
            provider=args.provider,
            depends_on=args.scheduling_ready,
        )
        self.storage_class = k8s.storage.v1.StorageClass(
            "storage-class-gp3",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=DEFAULT_STORAGE_CLASS, annotations={DEFAULT_CLASS_ANNOTATION: "true"}
            ),
            provisioner=PROVISIONER,
            parameters=GP3_PARAMETERS,
            reclaim_policy=RECLAIM_POLICY,
            volume_binding_mode="WaitForFirstConsumer",
            allow_volume_expansion=True,
            # A class is only a name for the provisioner: it needs no running driver, so charts whose claims
            # come later from an operator (Prometheus) can install while the driver still rolls out.
            opts=pulumi.ResourceOptions(parent=self, provider=args.provider),
        )
        self.ready = [driver, self.storage_class]
        self.register_outputs({"storageClass": self.storage_class.metadata.name})
