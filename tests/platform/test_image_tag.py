"""Shipping is changing ``eco2:imageTag``: that must touch the app's workloads and nothing else."""

from __future__ import annotations

from functools import cache

from eco2_platform.workloads.image_puller import PULLER_NAME
from eco2_platform.workloads.workers import WORKER_GROUPS
from infra.ports import API_ROUTES
from tools.plan.harness import CapturedResource, execute, run_program

NEW_TAG = "0.2.0"


@cache
def retagged() -> list[CapturedResource]:
    return list(execute("dev", {"eco2:imageTag": NEW_TAG}).resources)


def test_changing_only_the_image_tag_changes_only_the_app_workloads():
    before = {resource.urn: resource.inputs for resource in run_program("dev")}
    after = {
        resource.urn: resource.inputs for resource in execute("dev", {"eco2:imageTag": NEW_TAG}).resources
    }
    assert set(before) == set(after)
    changed = {urn for urn in before if before[urn] != after[urn]}
    names = {urn.rsplit("::", 1)[1] for urn in changed}
    kinds = {urn.rsplit("::", 1)[0].rsplit("$", 1)[1] for urn in changed}
    app_deployments = {route.service for route in API_ROUTES} | {f"worker-{g.name}" for g in WORKER_GROUPS}
    assert names == app_deployments | {"beat", "migrate", PULLER_NAME}
    assert kinds == {
        "kubernetes:apps/v1:Deployment",
        "kubernetes:batch/v1:Job",
        "kubernetes:apps/v1:DaemonSet",  # the puller pulls the new image before the app rolls
    }
    for urn in changed:
        assert NEW_TAG in str(after[urn]) and NEW_TAG not in str(before[urn]), urn


def test_a_new_tag_is_a_new_migration_job():
    (job,) = [r for r in run_program("dev") if r.type_ == "kubernetes:batch/v1:Job"]
    (new_job,) = [
        r
        for r in execute("dev", {"eco2:imageTag": NEW_TAG}).resources
        if r.type_ == "kubernetes:batch/v1:Job"
    ]
    assert job.inputs["metadata"]["name"] != new_job.inputs["metadata"]["name"]
    assert new_job.inputs["metadata"]["name"].startswith("migrate-")
