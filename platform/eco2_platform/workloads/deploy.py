"""Wires the data services and the application into the program's graph, after the cluster's provider."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from eco2_platform.data.component import DataServices, DataServicesArgs
from eco2_platform.network_policies import NetworkPolicies, NetworkPoliciesArgs
from eco2_platform.workloads.api import Api, ApiArgs
from eco2_platform.workloads.app_config import AppConfig, AppConfigArgs
from eco2_platform.workloads.migration import Migration, MigrationArgs
from eco2_platform.workloads.namespaces import Namespaces, NamespacesArgs
from eco2_platform.workloads.pod_monitors import PodMonitors, PodMonitorsArgs
from eco2_platform.workloads.workers import Workers, WorkersArgs
from infra.config import StackConfig


@dataclass(frozen=True)
class DeployedWorkloads:
    namespaces: Namespaces
    data: DataServices
    migration: Migration
    api: Api
    workers: Workers


def deploy_workloads(
    config: StackConfig,
    *,
    provider: k8s.Provider,
    bucket_name: pulumi.Input[str],
    app_secrets: Mapping[str, pulumi.Output[str]],
    scheduling_ready: Sequence[pulumi.Resource],
    monitoring_ready: Sequence[pulumi.Resource],
) -> DeployedWorkloads:
    """Namespaces → network policies and data services → settings → migration Job → APIs and workers."""
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
        ),
    )
    app_config = AppConfig(
        "app-config",
        AppConfigArgs(
            provider=provider,
            namespace=namespaces.app,
            environment=config.stack,
            bucket_name=bucket_name,
            region=config.region,
            app_origins=config.app_origins,
            data_passwords=data.passwords,
            app_secrets=app_secrets,
        ),
    )
    migration = Migration(
        "migration",
        MigrationArgs(
            provider=provider,
            image=config.image,
            config=app_config,
            wait_for=[*scheduling_ready, *data.statefulsets],
        ),
    )
    after_migration = [*scheduling_ready, migration.job]
    api = Api(
        "api",
        ApiArgs(
            provider=provider,
            image=config.image,
            sizing=config.workloads,
            config=app_config,
            wait_for=after_migration,
        ),
    )
    workers = Workers(
        "workers",
        WorkersArgs(
            provider=provider,
            image=config.image,
            sizing=config.workloads,
            config=app_config,
            wait_for=after_migration,
        ),
    )
    PodMonitors(
        "pod-monitors",
        PodMonitorsArgs(provider=provider, wait_for=[namespaces.app, namespaces.data, *monitoring_ready]),
    )
    return DeployedWorkloads(namespaces=namespaces, data=data, migration=migration, api=api, workers=workers)
