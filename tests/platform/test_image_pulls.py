"""Images are on a node before its pods need them: the data images pulled by the cluster while the control
plane comes up, the app image by its puller DaemonSet. The modeled stand-up time (tools/plan/durations.yaml)
counts the typed workloads without a pull; these tests keep that true."""

from __future__ import annotations

import os
import stat
import subprocess
from functools import cache
from pathlib import Path

import pytest

from eco2_platform.data.component import DATA_IMAGES
from eco2_platform.workloads.image_puller import PULL_COMMAND, PULLED_ON_ROLES, PULLER_NAME
from infra.render import scripts
from infra.render.cloud_init import pause_image
from infra.roles import ROLE_LABEL
from tests.support.kubernetes import containers, kind, named, pod_spec, workloads
from tests.support.stack_config import parsed, raw_config
from tools.plan.harness import STACKS, CapturedResource, by_name, run_program, transitive_dependencies

COMMAND = "command:remote:Command"
FAKE_CRICTL = """#!/usr/bin/env bash
# Records each call; fails the first $FAIL_TIMES pulls of an image named in $FAILING.
echo "$*" >>"$CALLS"
image="${@: -1}"
if [[ "$image" == "$FAILING" ]]; then
  count=$(grep -c -- "$image" "$CALLS")
  [[ "$count" -gt "$FAIL_TIMES" ]] || { echo "rpc error: pull failed" >&2; exit 1; }
fi
"""


@cache
def captured(stack: str) -> tuple[CapturedResource, ...]:
    return tuple(run_program(stack))


def node_role(workload: CapturedResource) -> set[str]:
    """The roles a workload's pods may run on: its nodeSelector or its required node affinity."""
    spec = pod_spec(workload)
    if "nodeSelector" in spec:
        return {spec["nodeSelector"][ROLE_LABEL]}
    (term,) = spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][
        "nodeSelectorTerms"
    ]
    (expression,) = term["matchExpressions"]
    assert expression["key"] == ROLE_LABEL and expression["operator"] == "In"
    return set(expression["values"])


def run_pull_script(tmp_path: Path, images: list[str], *, failing: str = "", fail_times: int = 0):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "crictl"
    fake.write_text(FAKE_CRICTL)
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    calls = tmp_path / "calls"
    calls.touch()
    env = {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "CALLS": str(calls),
        "FAILING": failing,
        "FAIL_TIMES": str(fail_times),
    }
    script = scripts.pull_images_script("postgresql", images, retry_seconds=0)
    result = subprocess.run(["bash"], input=script, env=env, capture_output=True, text=True, check=False)
    return result, calls.read_text().splitlines()


def test_the_pull_script_pulls_each_image_through_the_cri(tmp_path):
    result, calls = run_pull_script(tmp_path, ["docker.io/library/postgres:17.6", "quay.io/e/x:v1"])
    assert result.returncode == 0, result.stderr
    assert calls == [
        f"--runtime-endpoint {scripts.CRI_ENDPOINT} pull docker.io/library/postgres:17.6",
        f"--runtime-endpoint {scripts.CRI_ENDPOINT} pull quay.io/e/x:v1",
    ]
    assert "postgresql has quay.io/e/x:v1" in result.stdout


def test_a_failed_pull_is_retried(tmp_path):
    result, calls = run_pull_script(tmp_path, ["quay.io/e/x:v1"], failing="quay.io/e/x:v1", fail_times=2)
    assert result.returncode == 0, result.stderr
    assert len(calls) == 3
    assert "pull of quay.io/e/x:v1 failed (attempt 2/3); retrying" in result.stderr


def test_a_pull_that_keeps_failing_stops_the_step_naming_the_image(tmp_path):
    result, calls = run_pull_script(
        tmp_path, ["quay.io/e/x:v1", "quay.io/e/y:v2"], failing="quay.io/e/x:v1", fail_times=3
    )
    assert result.returncode == 1
    assert "postgresql could not pull quay.io/e/x:v1" in result.stderr
    assert len(calls) == 3  # the next image is not tried


@pytest.mark.parametrize(
    ("images", "message"),
    [
        ([], "no images to pull on postgresql"),
        (["docker.io/library/postgres"], "must be pinned to a tag or digest: docker.io/library/postgres"),
        (["localhost:5000/app"], "must be pinned to a tag or digest: localhost:5000/app"),
    ],
)
def test_unpinned_or_missing_images_are_refused(images, message):
    with pytest.raises(ValueError, match=message):
        scripts.pull_images_script("postgresql", images)


@pytest.mark.parametrize("stack", STACKS)
def test_each_data_node_pulls_exactly_its_statefulset_images_beside_kubeadm_init(stack):
    resources = captured(stack)
    for role, images in DATA_IMAGES.items():
        statefulset = named(resources, "StatefulSet", role)
        assert {c["image"] for c in containers(statefulset)} == set(images), role
        pull = by_name(resources, COMMAND, f"pull-images-{role}")
        assert pull.urn in statefulset.dependencies, role
        assert by_name(resources, COMMAND, f"wait-{role}").urn in pull.dependencies
        # Not after the control plane: the pulls run while kubeadm init does.
        init = by_name(resources, COMMAND, "kubeadm-init")
        assert init.urn not in transitive_dependencies(resources, pull)
        assert pull.inputs["stdin"] == scripts.pull_images_script(role, images)


@pytest.mark.parametrize("stack", STACKS)
def test_the_app_image_puller_runs_the_stack_image_on_the_app_nodes_and_holds_with_the_sandbox_image(stack):
    resources = captured(stack)
    config = parsed(raw_config(stack), stack)
    puller = named(resources, "DaemonSet", PULLER_NAME)
    assert node_role(puller) == set(PULLED_ON_ROLES)
    spec = pod_spec(puller)
    (pull,) = spec["initContainers"]
    assert pull["image"] == config.image
    assert pull["command"] == list(PULL_COMMAND)
    (hold,) = spec["containers"]
    # The image containerd already holds as every pod's sandbox: holding costs no pull.
    assert hold["image"] == pause_image(config.kubernetes_version)
    assert puller.inputs["spec"]["updateStrategy"]["rollingUpdate"]["maxUnavailable"] == "100%"


@pytest.mark.parametrize("stack", STACKS)
def test_every_typed_workload_starts_from_images_already_on_its_nodes(stack):
    """What the durations table assumes of Deployments, StatefulSets and Jobs: none is counted with a pull."""
    resources = captured(stack)
    by_urn = {resource.urn: resource for resource in resources}
    checked = 0
    for workload in workloads(resources):
        if kind(workload) == "DaemonSet":
            continue  # the puller itself
        upstream = [by_urn[urn] for urn in transitive_dependencies(resources, workload) if urn in by_urn]
        pulled: set[str] = set()
        for resource in upstream:
            if resource.name.startswith("pull-images-"):
                pulled.update(DATA_IMAGES[resource.name.removeprefix("pull-images-")])
            puller = resource.type_ == "kubernetes:apps/v1:DaemonSet"
            if puller and node_role(workload) <= node_role(resource):
                pulled.update(c["image"] for c in pod_spec(resource)["initContainers"])
        for container in containers(workload):
            assert container["image"] in pulled, f"{workload.name}: {container['image']} is pulled at start"
            checked += 1
    assert checked >= 15
