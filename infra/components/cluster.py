"""kubeadm bootstrap over SSH and the Kubernetes provider the workloads use.

Order: every node waits for its cloud-init → ``kubeadm init`` on the master → all workers join in parallel,
each through one step on the master that mints a short-lived token for that attempt and runs the worker's join
script on it over the VPC. The kubeconfig is read after init and the provider needs nothing else, so the
CNI installs while the workers join; whatever must run on a worker waits for ``joins``. Meanwhile each node
whose role has images to pull ahead (``ClusterArgs.images_to_pull``) pulls them after its cloud-init, while
the control plane comes up. The component ends at the kubeconfig and the provider: what runs on the cluster
is the platform layer's (platform/eco2_platform).
Each step is guarded on the node, so re-running any of them (an input changed, a node was replaced) is safe.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
from pulumi_command import remote

from infra.config import NodeSpec, StackConfig
from infra.render import scripts
from infra.render.kubeadm import (
    MINTED_ON_MASTER,
    ControlPlaneEndpoint,
    NodeIdentity,
    init_config,
    join_config,
)
from infra.render.kubeconfig import public_kubeconfig

SSH_DIAL_ERROR_LIMIT = 60
"""Dial attempts while a fresh instance boots sshd (each up to SSH_DIAL_TIMEOUT_SECONDS)."""
SSH_DIAL_TIMEOUT_SECONDS = 15
SECRET_COMMAND_OUTPUTS = ["stdout", "stderr"]


@dataclass(frozen=True)
class ClusterArgs:
    config: StackConfig
    specs: dict[str, NodeSpec]
    instances: dict[str, aws.ec2.Instance]
    control_plane_public_ip: pulumi.Output[str]
    control_plane_private_ip: str
    ssh_private_key: pulumi.Output[str]
    images_to_pull: Mapping[str, Sequence[str]]
    """Role name → images its nodes pull ahead (the platform's, e.g. the data services' images)."""


class Cluster(pulumi.ComponentResource):
    kubeconfig: pulumi.Output[str]
    """Secret kubeconfig whose server is the master's Elastic IP."""
    provider: k8s.Provider
    """Use for every Kubernetes resource (``opts=ResourceOptions(provider=cluster.provider)``)."""
    joins: list[remote.Command]
    """Resolve once every worker is a member of the cluster (Ready once the CNI runs on it)."""
    images_pulled: dict[str, list[remote.Command]]
    """Role name → the steps that pulled ``images_to_pull`` on its nodes; a pod of the role waits for them."""

    def __init__(self, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("eco2:infra:Cluster", name, None, opts)
        config = args.config
        master = config.control_plane
        endpoint = args.control_plane_public_ip.apply(
            lambda public_ip: ControlPlaneEndpoint(
                private_ip=args.control_plane_private_ip,
                public_ip=public_ip,
                dns_name=config.api_endpoint_name,
            )
        )

        def connection(node: str) -> remote.ConnectionArgs:
            host = (
                args.control_plane_public_ip
                if args.specs[node].is_control_plane
                else args.instances[node].public_ip
            )
            return remote.ConnectionArgs(
                host=host,
                user=config.ssh_user,
                private_key=args.ssh_private_key,
                dial_error_limit=SSH_DIAL_ERROR_LIMIT,
                per_dial_timeout=SSH_DIAL_TIMEOUT_SECONDS,
            )

        def identity(node: str) -> pulumi.Output[NodeIdentity]:
            instance = args.instances[node]
            return pulumi.Output.all(instance.id, instance.availability_zone, instance.private_ip).apply(
                lambda values: NodeIdentity(
                    name=node,
                    role=args.specs[node].role,
                    instance_id=values[0],
                    availability_zone=values[1],
                    private_ip=values[2],
                )
            )

        def run(
            name: str,
            node: str,
            create: str,
            *,
            stdin: pulumi.Input[str] | None = None,
            triggers: list[pulumi.Output[str]],
            depends_on: list[pulumi.Resource],
            secret_output: bool = False,
            log_output: bool = True,
        ) -> remote.Command:
            """One remote step. Previous output is never sent back (it may be a credential, and it would need
            sshd's AcceptEnv); ``triggers`` name what must re-run it besides its own inputs."""
            return remote.Command(
                name,
                connection=connection(node),
                create=create,
                stdin=stdin,
                triggers=triggers,
                logging=None if log_output else remote.Logging.NONE,
                add_previous_output_in_env=False,
                opts=pulumi.ResourceOptions(
                    parent=self,
                    depends_on=depends_on,
                    additional_secret_outputs=SECRET_COMMAND_OUTPUTS if secret_output else None,
                ),
            )

        ready = {
            node: run(
                f"wait-{node}",
                node,
                scripts.RUN_AS_USER,
                stdin=scripts.wait_for_node_script(node),
                triggers=[instance.id],
                depends_on=[],
            )
            for node, instance in args.instances.items()
        }

        init_script = pulumi.Output.all(identity(master.name), endpoint).apply(
            lambda values: scripts.kubeadm_init_script(
                master.name,
                init_config(
                    cluster_name=config.name_prefix,
                    kubernetes_version=config.kubernetes_version,
                    node=values[0],
                    endpoint=values[1],
                ),
            )
        )
        master_id = args.instances[master.name].id
        init = run(
            "kubeadm-init",
            master.name,
            scripts.RUN_AS_ROOT,
            stdin=init_script,
            triggers=[master_id],
            depends_on=[ready[master.name]],
        )

        workers = [spec.name for spec in config.workers]

        def join_script(node: str) -> pulumi.Output[str]:
            def render(values: list[Any]) -> str:
                node_identity, control_plane, private_key = values
                worker_script = scripts.kubeadm_join_script(
                    node,
                    join_config(node=node_identity, endpoint=control_plane, credentials=MINTED_ON_MASTER),
                    MINTED_ON_MASTER.ca_cert_hash,
                )
                return scripts.join_from_master_script(
                    node_name=node,
                    node_address=node_identity.private_ip,
                    ssh_user=config.ssh_user,
                    ssh_private_key=private_key,
                    worker_script=worker_script,
                )

            return pulumi.Output.all(identity(node), endpoint, args.ssh_private_key).apply(render)

        self.joins = [
            run(
                f"kubeadm-join-{node}",
                master.name,
                scripts.RUN_AS_ROOT,
                stdin=join_script(node),
                # A new worker joins; a rebuilt control plane (new CA) makes every worker join again.
                triggers=[args.instances[node].id, master_id],
                depends_on=[ready[node], init],
                secret_output=True,
            )
            for node in workers
        ]

        admin_conf = run(
            "kubeconfig",
            master.name,
            scripts.READ_ADMIN_KUBECONFIG,
            triggers=[master_id],
            depends_on=[init],
            secret_output=True,
            log_output=False,
        )
        self.kubeconfig = pulumi.Output.secret(
            pulumi.Output.all(admin_conf.stdout, endpoint).apply(
                lambda values: public_kubeconfig(values[0], values[1].public_url)
            )
        )
        self.provider = k8s.Provider(
            "kubernetes",
            kubeconfig=self.kubeconfig,
            # A stable identity: a re-read kubeconfig (new certificate, same cluster) must not replace every
            # Kubernetes resource the provider manages.
            cluster_identifier=config.name_prefix,
            enable_server_side_apply=True,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.images_pulled = {}
        for node, spec in args.specs.items():
            images = args.images_to_pull.get(spec.role.name, ())
            if images:
                pull = run(
                    f"pull-images-{node}",
                    node,
                    scripts.RUN_AS_ROOT,
                    stdin=scripts.pull_images_script(node, images),
                    triggers=[args.instances[node].id],
                    depends_on=[ready[node]],
                )
                self.images_pulled.setdefault(spec.role.name, []).append(pull)
        self.register_outputs({"kubeconfig": self.kubeconfig})
