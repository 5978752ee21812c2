"""``eco2:platform:NetworkPolicies``: who may talk to whom, from one table (FLOWS) that docs/architecture.md
draws. Both namespaces deny all ingress by default; the data namespace also denies egress except DNS, and is
reachable only from the app namespace (and from monitoring on the metrics ports)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from eco2_platform.data.endpoints import POSTGRESQL, RABBITMQ, REDIS
from eco2_platform.namespaces import APP_NAMESPACE, DATA_NAMESPACE, MONITORING_NAMESPACE
from eco2_platform.workloads.api import API_NAME
from eco2_platform.workloads.pods import PART_OF
from eco2_platform.workloads.workers import WORKER_NAME
from infra.ports import CONTAINER_PORT, WORKER_METRICS_PORT

ANYWHERE = "anywhere"
NAME_LABEL = "app.kubernetes.io/name"
NAMESPACE_LABEL = "kubernetes.io/metadata.name"
DNS_NAMESPACE = "kube-system"
DNS_POD = "kube-dns"
"""CoreDNS pods keep kube-dns's ``k8s-app: kube-dns`` label."""


@dataclass(frozen=True)
class Flow:
    """Ingress to ``pods`` in ``namespace`` on ``port`` from the namespace ``source`` (or from anywhere)."""

    namespace: str
    pods: str
    port: int
    source: str


FLOWS: tuple[Flow, ...] = (
    Flow(DATA_NAMESPACE, POSTGRESQL.name, POSTGRESQL.port, APP_NAMESPACE),
    Flow(DATA_NAMESPACE, POSTGRESQL.name, POSTGRESQL.metrics_port, MONITORING_NAMESPACE),
    Flow(DATA_NAMESPACE, REDIS.name, REDIS.port, APP_NAMESPACE),
    Flow(DATA_NAMESPACE, REDIS.name, REDIS.metrics_port, MONITORING_NAMESPACE),
    Flow(DATA_NAMESPACE, RABBITMQ.name, RABBITMQ.port, APP_NAMESPACE),
    Flow(DATA_NAMESPACE, RABBITMQ.name, RABBITMQ.metrics_port, MONITORING_NAMESPACE),
    # The ALB reaches the API through the NodePorts (kube-proxy rewrites the source to a node address); the
    # node security group admits those ports only from the ALB. Prometheus scrapes /metrics on the same port.
    Flow(APP_NAMESPACE, API_NAME, CONTAINER_PORT, ANYWHERE),
    Flow(APP_NAMESPACE, WORKER_NAME, WORKER_METRICS_PORT, MONITORING_NAMESPACE),
)
DNS_EGRESS_PORTS = (("UDP", 53), ("TCP", 53))
"""The only egress of the data namespace (its servers call nobody; exporters use loopback)."""


@dataclass(frozen=True)
class NetworkPoliciesArgs:
    provider: k8s.Provider
    namespaces: Sequence[pulumi.Resource]


def _ingress_rule(flow: Flow) -> k8s.networking.v1.NetworkPolicyIngressRuleArgs:
    peers = (
        None
        if flow.source == ANYWHERE
        else [
            k8s.networking.v1.NetworkPolicyPeerArgs(
                namespace_selector=k8s.meta.v1.LabelSelectorArgs(match_labels={NAMESPACE_LABEL: flow.source})
            )
        ]
    )
    return k8s.networking.v1.NetworkPolicyIngressRuleArgs(
        from_=peers, ports=[k8s.networking.v1.NetworkPolicyPortArgs(protocol="TCP", port=flow.port)]
    )


class NetworkPolicies(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: NetworkPoliciesArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("eco2:platform:NetworkPolicies", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=list(args.namespaces))

        def policy(
            resource_name: str, namespace: str, spec: k8s.networking.v1.NetworkPolicySpecArgs
        ) -> k8s.networking.v1.NetworkPolicy:
            return k8s.networking.v1.NetworkPolicy(
                resource_name,
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=resource_name.removeprefix(f"{namespace}-"),
                    namespace=namespace,
                    labels={"app.kubernetes.io/part-of": PART_OF},
                ),
                spec=spec,
                opts=child,
            )

        everything = k8s.meta.v1.LabelSelectorArgs()
        policy(
            f"{APP_NAMESPACE}-default-deny",
            APP_NAMESPACE,
            k8s.networking.v1.NetworkPolicySpecArgs(pod_selector=everything, policy_types=["Ingress"]),
        )
        policy(
            f"{DATA_NAMESPACE}-default-deny",
            DATA_NAMESPACE,
            k8s.networking.v1.NetworkPolicySpecArgs(
                pod_selector=everything,
                policy_types=["Ingress", "Egress"],
                egress=[
                    k8s.networking.v1.NetworkPolicyEgressRuleArgs(
                        to=[
                            k8s.networking.v1.NetworkPolicyPeerArgs(
                                namespace_selector=k8s.meta.v1.LabelSelectorArgs(
                                    match_labels={NAMESPACE_LABEL: DNS_NAMESPACE}
                                ),
                                pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels={"k8s-app": DNS_POD}),
                            )
                        ],
                        ports=[
                            k8s.networking.v1.NetworkPolicyPortArgs(protocol=protocol, port=port)
                            for protocol, port in DNS_EGRESS_PORTS
                        ],
                    )
                ],
            ),
        )
        for namespace, pod_name in dict.fromkeys((flow.namespace, flow.pods) for flow in FLOWS):
            flows = [flow for flow in FLOWS if (flow.namespace, flow.pods) == (namespace, pod_name)]
            policy(
                f"{namespace}-allow-{pod_name}",
                namespace,
                k8s.networking.v1.NetworkPolicySpecArgs(
                    pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels={NAME_LABEL: pod_name}),
                    policy_types=["Ingress"],
                    ingress=[_ingress_rule(flow) for flow in flows],
                ),
            )
        self.register_outputs({})
