"""The EBS CSI driver and the default gp3 StorageClass every claim uses."""

from __future__ import annotations

import kubernetes_validate
import pytest

from eco2_platform.charts import AWS_EBS_CSI_DRIVER
from eco2_platform.ebs_csi import PROVISIONER
from eco2_platform.storage_classes import DEFAULT_STORAGE_CLASS
from infra.components.iam import EBS_CSI_POLICY
from infra.roles import ROLES
from tools.plan.harness import STACKS, by_name, of_type, run_program

STORAGE_CLASS = "kubernetes:storage.k8s.io/v1:StorageClass"
RELEASE = "kubernetes:helm.sh/v3:Release"


@pytest.mark.parametrize("stack", STACKS)
def test_the_default_class_is_encrypted_gp3_bound_where_the_pod_lands_and_expandable(stack):
    (storage_class,) = of_type(run_program(stack), STORAGE_CLASS)
    manifest = storage_class.inputs
    kubernetes_validate.validate(manifest, "1.34", strict=True)
    assert manifest["metadata"]["name"] == DEFAULT_STORAGE_CLASS
    assert manifest["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"] == "true"
    assert manifest["provisioner"] == PROVISIONER == "ebs.csi.aws.com"
    assert manifest["parameters"]["type"] == "gp3"
    assert manifest["parameters"]["encrypted"] == "true"
    assert manifest["volumeBindingMode"] == "WaitForFirstConsumer"
    assert manifest["allowVolumeExpansion"] is True
    assert manifest["reclaimPolicy"] == "Retain"


@pytest.mark.parametrize("stack", STACKS)
def test_the_driver_waits_for_the_cni_and_knows_its_region(stack):
    resources = run_program(stack)
    driver = by_name(resources, RELEASE, "aws-ebs-csi-driver")
    installation = by_name(resources, "kubernetes:operator.tigera.io/v1:Installation", "calico-installation")
    assert installation.urn in driver.dependencies
    assert driver.inputs["version"] == AWS_EBS_CSI_DRIVER.version
    controller = driver.inputs["values"]["controller"]
    assert controller["region"] == "ap-northeast-2"
    assert controller["k8sTagClusterId"] == f"eco2-{stack}"
    # The node plugin must reach the tainted data and monitoring nodes.
    assert driver.inputs["values"]["node"]["tolerateAllTaints"] is True
    assert driver.inputs["values"]["storageClasses"] == []


@pytest.mark.parametrize("stack", STACKS)
def test_every_node_profile_may_manage_ebs_volumes(stack):
    resources = run_program(stack)
    attachments = of_type(resources, "aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    with_ebs = {
        a.name.removesuffix("-ebs-csi") for a in attachments if a.inputs["policyArn"] == EBS_CSI_POLICY
    }
    assert with_ebs == {f"role-{role.iam_profile}" for role in ROLES.values()}
