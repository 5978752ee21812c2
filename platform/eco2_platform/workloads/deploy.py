"""Wires the data services and the application into the program's graph, after the cluster's provider."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pulumi
import pulumi_kubernetes as k8s

from eco2_platform.data.component import DataServices, DataServicesArgs
from eco2_platform.network_policies import NetworkPolicies, NetworkPoliciesArgs
from eco2_platform.workloads.api import Api
from eco2_platform.workloads.app_config import AppConfig, AppConfigArgs
from eco2_platform.workloads.app_pod import AppWorkloadArgs
from eco2_platform.workloads.image_puller import AppImagePuller, AppImagePullerArgs
from eco2_platform.workloads.migration import Migration, MigrationArgs
from eco2_platform.workloads.namespaces import Namespaces, NamespacesArgs
from eco2_platform.workloads.pod_monitors import PodMonitors, PodMonitorsArgs
from eco2_platform.workloads.workers import Workers
from infra.config import StackConfig
from infra.render.cloud_init import pause_image


def deploy_workloads(
    config: StackConfig,
    *,
    provider: k8s.Provider,
    bucket_name: pulumi.Input[str],
    app_secrets: Mapping[str, pulumi.Output[str]],
    scheduling_ready: Sequence[pulumi.Resource],
    storage_ready: Sequence[pulumi.Resource],
    monitoring_ready: Sequence[pulumi.Resource],
    images_pulled: Mapping[str, Sequence[pulumi.Resource]],
) -> None:
    """Namespaces → network policies, data services and the app image puller → settings → migration Job → APIs
    and workers. ``images_pulled``: role → the cluster's steps that pulled the data images on its nodes."""
    namespaces = Namespaces("namespaces", NamespacesArgs(provider=provider))
    NetworkPolicies(
        "network-policies",
        NetworkPoliciesArgs(provider=provider, namespaces=[namespaces.app, namespaces.data]),
    )
    data = DataServices(
        "data",
        DataServicesArgs(
            sizing=config.workloads,
            provider=provider,
            namespace=namespaces.data,
            scheduling_ready=scheduling_ready,
            storage_ready=storage_ready,
            images_pulled=images_pulled,
        ),
    )
    puller = AppImagePuller(
        "app-image-puller",
        AppImagePullerArgs(
            provider=provider,
            image=config.image,
            pause_image=pause_image(config.kubernetes_version),
            wait_for=[namespaces.app, *scheduling_ready],
        ),
    )
    app_config = AppConfig(
        "app-config",
        AppConfigArgs(
            provider=provider,
            namespace=namespaces.app,
            environment=config.stack,
            domain=config.domain,
            bucket_name=bucket_name,
            region=config.region,
            app_origins=config.app_origins,
            data_passwords=data.passwords,
            app_secrets=app_secrets,
            sign_in_client_ids=config.sign_in_client_ids,
        ),
    )
    migration = Migration(
        "migration",
        MigrationArgs(
            provider=provider,
            image=config.image,
            config=app_config,
            wait_for=[*scheduling_ready, *data.statefulsets, puller.daemon_set],
        ),
    )
    app = AppWorkloadArgs(
        provider=provider,
        image=config.image,
        sizing=config.workloads,
        config=app_config,
        wait_for=[*scheduling_ready, migration.job, puller.daemon_set],
    )
    Api("api", app)
    Workers("workers", app)
    PodMonitors(
        "pod-monitors",
        PodMonitorsArgs(provider=provider, wait_for=[namespaces.app, namespaces.data, *monitoring_ready]),
    )
