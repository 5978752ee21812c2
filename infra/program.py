"""The whole stack, wired together; ``__main__.py`` only calls :func:`deploy`."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from eco2_platform.cluster_platform import ClusterPlatform, ClusterPlatformArgs
from eco2_platform.data.component import DATA_IMAGES
from eco2_platform.monitoring import grafana_root_url
from eco2_platform.namespaces import APP_NAMESPACE
from eco2_platform.workloads.deploy import deploy_workloads
from infra.components.cluster import Cluster, ClusterArgs
from infra.components.edge import Edge, EdgeArgs
from infra.components.iam import Iam, IamArgs
from infra.components.network import Network, NetworkArgs
from infra.components.nodes import Nodes, NodesArgs
from infra.components.security import Group, Security, SecurityArgs
from infra.components.storage import Storage, StorageArgs
from infra.config import load_app_secrets, load_config, load_ssh_private_key
from infra.ports import API_ROUTES
from infra.roles import API_ROLE, MONITORING_ROLE


def deploy() -> None:
    config = load_config()
    ssh_private_key = load_ssh_private_key()
    account_id = aws.get_caller_identity().account_id
    hosted_zone_id = aws.route53.get_zone(name=config.hosted_zone, private_zone=False).zone_id

    network = Network("network", NetworkArgs(config))
    security = Security("security", SecurityArgs(config, vpc_id=network.vpc.id))
    storage = Storage("storage", StorageArgs(config, account_id=account_id))
    iam = Iam("iam", IamArgs(config, image_bucket_arn=storage.bucket.arn))
    subnet_ids = [subnet.id for subnet in network.subnets]
    nodes = Nodes(
        "nodes",
        NodesArgs(
            config,
            subnet_ids=subnet_ids,
            node_security_group_id=security.groups[Group.NODES].id,
            control_plane_security_group_id=security.groups[Group.CONTROL_PLANE].id,
            instance_profiles={profile: ip.name for profile, ip in iam.instance_profiles.items()},
            hosted_zone_id=hosted_zone_id,
        ),
    )
    edge = Edge(
        "edge",
        EdgeArgs(
            config,
            vpc_id=network.vpc.id,
            subnet_ids=subnet_ids,
            alb_security_group_id=security.groups[Group.ALB].id,
            hosted_zone_id=hosted_zone_id,
            api_instance_ids=[
                nodes.instances[spec.name].id for spec in config.nodes if spec.role.name == API_ROLE
            ],
            monitoring_instance_ids=[
                nodes.instances[spec.name].id for spec in config.nodes if spec.role.name == MONITORING_ROLE
            ],
        ),
    )
    cluster = Cluster(
        "cluster",
        ClusterArgs(
            config,
            specs=nodes.specs,
            instances=nodes.instances,
            control_plane_public_ip=nodes.control_plane_public_ip,
            control_plane_private_ip=nodes.control_plane_private_ip,
            ssh_private_key=ssh_private_key,
            images_to_pull=DATA_IMAGES,
        ),
    )

    platform = ClusterPlatform(
        "platform", ClusterPlatformArgs(config, provider=cluster.provider, nodes_joined=cluster.joins)
    )
    deploy_workloads(
        config,
        provider=cluster.provider,
        bucket_name=storage.bucket.bucket,
        app_secrets=load_app_secrets(),
        scheduling_ready=platform.scheduling_ready,
        storage_ready=platform.storage_ready,
        monitoring_ready=[platform.monitoring.release],
        images_pulled=cluster.images_pulled,
    )

    pulumi.export("kubeconfig", cluster.kubeconfig)
    pulumi.export("appNamespace", APP_NAMESPACE)
    pulumi.export("grafanaAdminPassword", platform.monitoring.grafana_admin_password)
    pulumi.export("albDnsName", edge.load_balancer.dns_name)
    pulumi.export("imageBucketName", storage.bucket.bucket)
    pulumi.export("region", config.region)
    pulumi.export("image", config.image)
    pulumi.export("nodes", nodes.ips_by_role())
    pulumi.export(
        "apiRoutes",
        {route.service: {"path": route.path_prefix, "nodePort": route.node_port} for route in API_ROUTES},
    )
    pulumi.export(
        "urls",
        {
            "app": f"https://{config.domain}",
            "api": f"https://{config.domain}/api/v1",
            "grafana": grafana_root_url(config.domain),
            "kubernetesApi": nodes.control_plane_public_ip.apply(lambda ip: f"https://{ip}:6443"),
            "kubernetesApiDns": f"https://{config.api_endpoint_name}:6443",
        },
    )
