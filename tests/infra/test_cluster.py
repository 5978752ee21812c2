"""The kubeadm bootstrap: ordering, secrecy of tokens and kubeconfig, and the Kubernetes provider."""

from __future__ import annotations

import re

import kubernetes_validate
import pytest
import yaml

from tools.plan.harness import (
    STACKS,
    CapturedResource,
    by_name,
    of_type,
    run_program,
    transitive_dependencies,
)

COMMAND = "command:remote:Command"
WORKERS = ["api-1", "async-1", "monitoring", "postgresql", "rabbitmq", "redis"]
TAINTED = {"monitoring", "postgresql", "rabbitmq", "redis"}


def command(resources: list[CapturedResource], name: str) -> CapturedResource:
    return by_name(resources, COMMAND, name)


def upstream(resources: list[CapturedResource], resource: CapturedResource) -> set[str]:
    return transitive_dependencies(resources, resource)


@pytest.mark.parametrize("stack", STACKS)
def test_init_waits_for_the_master_and_every_join_waits_for_init(stack):
    resources = run_program(stack)
    init = command(resources, "kubeadm-init")
    assert command(resources, "wait-master").urn in init.dependencies
    for worker in WORKERS:
        join = command(resources, f"kubeadm-join-{worker}")
        before = upstream(resources, join)
        assert init.urn in before, f"{worker} may join before kubeadm init"
        assert command(resources, f"wait-{worker}").urn in join.dependencies
        assert command(resources, "join-command").urn in join.dependencies
        assert join.order > init.order
        assert not any(f"kubeadm-join-{other}" in urn for urn in before for other in WORKERS)  # in parallel


@pytest.mark.parametrize("stack", STACKS)
def test_no_kubernetes_resource_before_the_kubeconfig_exists(stack):
    resources = run_program(stack)
    kubeconfig = command(resources, "kubeconfig")
    assert command(resources, "kubeadm-init").urn in kubeconfig.dependencies
    kubernetes = [r for r in resources if r.type_.startswith(("kubernetes:", "pulumi:providers:kubernetes"))]
    assert kubernetes
    for resource in kubernetes:
        assert kubeconfig.urn in upstream(resources, resource), resource.name
        assert resource.order > kubeconfig.order
    (provider,) = of_type(resources, "pulumi:providers:kubernetes")
    for resource in resources:
        if resource.type_.startswith("kubernetes:"):
            assert resource.provider == provider.urn, f"{resource.name} must use the cluster's provider"
    joins = {command(resources, f"kubeadm-join-{worker}").urn for worker in WORKERS}
    assert joins <= set(provider.dependencies)


@pytest.mark.parametrize("stack", STACKS)
@pytest.mark.parametrize("name", ["join-command", "kubeconfig"])
def test_token_and_kubeconfig_commands_are_secret_and_unlogged(stack, name):
    resource = command(run_program(stack), name)
    assert {"stdout", "stderr"} <= set(resource.additional_secret_outputs)
    assert resource.inputs["logging"] == "none"
    assert resource.inputs["addPreviousOutputInEnv"] is False


@pytest.mark.parametrize("stack", STACKS)
def test_join_scripts_carry_the_token_as_a_secret(stack):
    resources = run_program(stack)
    for worker in WORKERS:
        join = command(resources, f"kubeadm-join-{worker}")
        assert "stdin" in join.secret_inputs
        assert {"stdout", "stderr"} <= set(join.additional_secret_outputs)
        assert "--token" not in join.inputs["create"]
        assert "abcdef.0123456789abcdef" in join.inputs["stdin"]


@pytest.mark.parametrize("stack", STACKS)
def test_ssh_private_key_stays_secret_on_every_command(stack):
    for resource in of_type(run_program(stack), COMMAND):
        assert "connection" in resource.secret_inputs, resource.name
        assert resource.inputs["connection"]["privateKey"].startswith("-----BEGIN OPENSSH PRIVATE KEY-----")
        # Never echo a previous output (possibly a token) back into the environment.
        assert resource.inputs["addPreviousOutputInEnv"] is False, resource.name


@pytest.mark.parametrize("stack", STACKS)
def test_every_worker_joins_with_its_provider_id_label_and_taint(stack):
    resources = run_program(stack)
    for worker in WORKERS:
        join = command(resources, f"kubeadm-join-{worker}")
        stdin = join.inputs["stdin"]
        role = worker.split("-")[0]
        (instance_id,) = join.inputs["triggers"]
        assert "kind: JoinConfiguration" in stdin
        assert "apiServerEndpoint: 10.0.0.10:6443" in stdin
        assert f"name: {worker}\n" in stdin
        assert re.search(rf"value: aws:///ap-northeast-2[a-d]/{instance_id}\n", stdin), worker
        assert f"value: eco2.io/role={role}" in stdin
        has_taint = f"value: {role}\n    effect: NoSchedule" in stdin
        assert has_taint == (role in TAINTED), worker


@pytest.mark.parametrize("stack", STACKS)
def test_every_remote_step_reruns_only_for_a_new_instance(stack):
    resources = run_program(stack)
    for resource in of_type(resources, COMMAND):
        if resource.name == "join-command":
            assert len(resource.inputs["triggers"]) == 1 + len(WORKERS)  # the master and every worker
        else:
            (trigger,) = resource.inputs["triggers"]
            assert trigger.startswith("i-"), resource.name


@pytest.mark.parametrize("stack", STACKS)
def test_provider_uses_the_public_kubeconfig_and_a_stable_identity(stack):
    (provider,) = of_type(run_program(stack), "pulumi:providers:kubernetes")
    assert "kubeconfig" in provider.secret_inputs
    kubeconfig = yaml.safe_load(provider.inputs["kubeconfig"])
    assert [c["cluster"]["server"] for c in kubeconfig["clusters"]] == ["https://203.0.113.10:6443"]
    assert provider.inputs["clusterIdentifier"] == f"eco2-{stack}"


@pytest.mark.parametrize("stack", STACKS)
def test_app_namespace_is_a_valid_manifest(stack):
    namespaces = of_type(run_program(stack), "kubernetes:core/v1:Namespace")
    (namespace,) = [item for item in namespaces if "eco2:infra:Cluster" in item.urn]
    assert namespace.inputs["metadata"]["name"] == "eco2"
    kubernetes_validate.validate(namespace.inputs, "1.34", strict=True)
