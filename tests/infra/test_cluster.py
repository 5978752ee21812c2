"""The kubeadm bootstrap: ordering, secrecy of tokens and kubeconfig, and the Kubernetes provider."""

from __future__ import annotations

import re
import subprocess

import pytest
import yaml

from infra.render.scripts import CA_CERT_HASH_PLACEHOLDER, JOIN_TOKEN_PLACEHOLDER
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


def worker_script(join: CapturedResource) -> str:
    """The script the master pipes to the worker: read back from the join step's own variables."""
    script = join.inputs["stdin"].replace("\nmain\n", '\nprintf "%s" "$WORKER_SCRIPT"\n')
    return subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True).stdout


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
        assert init.urn in join.dependencies
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
    # The CNI installs while the workers join: the provider needs the kubeconfig only (what is scheduled
    # on the workers waits for their joins: tests/platform/test_platform_graph.py).
    joins = {command(resources, f"kubeadm-join-{worker}").urn for worker in WORKERS}
    assert not joins & upstream(resources, provider)


@pytest.mark.parametrize("stack", STACKS)
def test_kubeconfig_command_is_secret_and_unlogged(stack):
    resource = command(run_program(stack), "kubeconfig")
    assert {"stdout", "stderr"} <= set(resource.additional_secret_outputs)
    assert resource.inputs["logging"] == "none"
    assert resource.inputs["addPreviousOutputInEnv"] is False


@pytest.mark.parametrize("stack", STACKS)
def test_each_join_runs_on_the_master_and_mints_its_own_token(stack):
    """No token is minted ahead of the join and stored: a retried join never carries an expired one."""
    resources = run_program(stack)
    master = command(resources, "kubeadm-init")
    assert not [r for r in of_type(resources, COMMAND) if r.name == "join-command"]
    for worker in WORKERS:
        join = command(resources, f"kubeadm-join-{worker}")
        assert join.inputs["connection"]["host"] == master.inputs["connection"]["host"]
        stdin = join.inputs["stdin"]
        assert "kubeadm token create --ttl" in stdin
        assert "abcdef.0123456789abcdef" not in stdin  # the mock's join command is never consulted
        script = worker_script(join)
        assert JOIN_TOKEN_PLACEHOLDER in script and CA_CERT_HASH_PLACEHOLDER in script
        # The deploy key travels inside the step's input, which is therefore secret, and so are its outputs.
        assert "stdin" in join.secret_inputs
        assert "-----BEGIN OPENSSH PRIVATE KEY-----" in stdin
        assert {"stdout", "stderr"} <= set(join.additional_secret_outputs)


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
        stdin = worker_script(join)
        role = worker.split("-")[0]
        instance_id, _master_id = join.inputs["triggers"]
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
    (master_id,) = command(resources, "kubeadm-init").inputs["triggers"]
    for resource in of_type(resources, COMMAND):
        if resource.name.startswith("kubeadm-join-"):
            # Its own node, and the master: a rebuilt control plane (new CA) re-joins every worker.
            worker_id, trigger_master = resource.inputs["triggers"]
            assert worker_id.startswith("i-") and worker_id != master_id and trigger_master == master_id
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
def test_the_cluster_ends_at_the_kubeconfig_and_the_provider(stack):
    resources = run_program(stack)
    (cluster,) = [r for r in resources if r.type_ == "eco2:infra:Cluster"]
    children = {r.type_ for r in resources if r.parent == cluster.urn}
    assert children == {COMMAND, "pulumi:providers:kubernetes"}
