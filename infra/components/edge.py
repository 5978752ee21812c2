"""Public edge: ACM certificate (apex + wildcard), the ALB with HTTP→HTTPS redirect and TLS 1.3, listener
rules for the API paths (to the API nodes) and ``/grafana`` (to the monitoring node) to instance target groups
on fixed NodePorts, and the Route53 records of the domain.

Calico's VXLAN overlay makes pod IPs unreachable from the ALB, so targets are the API nodes' NodePorts
(instance target groups); infra/ports.py is the one table both this component and the Services use.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from infra.config import StackConfig
from infra.ports import API_ROUTES, GRAFANA, ApiRoute
from infra.tags import common_tags

TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
"""TLS 1.3 preferred, TLS 1.2 floor for older phones; nothing older."""
LISTENER_RULE_BASE_PRIORITY = 100
GRAFANA_RULE_PRIORITY = 200
IDLE_TIMEOUT_SECONDS = 120
"""Long enough for the analysis progress stream (server-sent events) between heartbeats."""
NOT_FOUND_BODY = '{"detail":"Not Found"}'


@dataclass(frozen=True)
class ValidationRecord:
    name: str
    type: str
    value: str


def single_validation_record(options: Iterable[Any]) -> ValidationRecord:
    """The one DNS record that validates both ``domain`` and ``*.domain``.

    ACM returns one validation option per name, but the apex and its wildcard share the same CNAME; creating
    it twice would fail (the record already exists). Any other shape is an error, not something to guess at.
    """
    records = {
        ValidationRecord(
            option.resource_record_name, option.resource_record_type, option.resource_record_value
        )
        for option in options
    }
    if len(records) != 1:
        raise ValueError(
            f"expected the apex and wildcard names to share one validation record, got {len(records)}"
        )
    return records.pop()


@dataclass(frozen=True)
class EdgeArgs:
    config: StackConfig
    vpc_id: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]
    alb_security_group_id: pulumi.Input[str]
    hosted_zone_id: str
    api_instance_ids: Sequence[pulumi.Input[str]]
    """Instances registered in every API target group (the ``api`` role's nodes)."""
    monitoring_instance_ids: Sequence[pulumi.Input[str]]
    """Instances registered in the Grafana target group (the ``monitoring`` role's node)."""


class Edge(pulumi.ComponentResource):
    load_balancer: aws.lb.LoadBalancer
    target_groups: dict[str, aws.lb.TargetGroup]
    """Keyed by service name: every API service and ``grafana``."""

    def __init__(self, name: str, args: EdgeArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("eco2:infra:Edge", name, None, opts)
        config = args.config
        child = pulumi.ResourceOptions(parent=self)

        certificate = aws.acm.Certificate(
            "certificate",
            domain_name=config.domain,
            subject_alternative_names=[f"*.{config.domain}"],
            validation_method="DNS",
            tags=common_tags(config, name="certificate"),
            opts=child,
        )
        record = certificate.domain_validation_options.apply(single_validation_record)
        validation_record = aws.route53.Record(
            "certificate-validation",
            zone_id=args.hosted_zone_id,
            name=record.name,
            type=record.type,
            records=[record.value],
            ttl=60,
            allow_overwrite=True,
            opts=child,
        )
        validation = aws.acm.CertificateValidation(
            "certificate-validation",
            certificate_arn=certificate.arn,
            validation_record_fqdns=[validation_record.fqdn],
            opts=child,
        )

        self.load_balancer = aws.lb.LoadBalancer(
            "alb",
            name=f"{config.name_prefix}-alb",
            load_balancer_type="application",
            internal=False,
            subnets=list(args.subnet_ids),
            security_groups=[args.alb_security_group_id],
            drop_invalid_header_fields=True,
            idle_timeout=IDLE_TIMEOUT_SECONDS,
            tags=common_tags(config, name="alb"),
            opts=child,
        )
        aws.lb.Listener(
            "http",
            load_balancer_arn=self.load_balancer.arn,
            port=80,
            protocol="HTTP",
            default_actions=[
                aws.lb.ListenerDefaultActionArgs(
                    type="redirect",
                    redirect=aws.lb.ListenerDefaultActionRedirectArgs(
                        protocol="HTTPS", port="443", status_code="HTTP_301"
                    ),
                )
            ],
            tags=common_tags(config, name="http"),
            opts=child,
        )
        https = aws.lb.Listener(
            "https",
            load_balancer_arn=self.load_balancer.arn,
            port=443,
            protocol="HTTPS",
            ssl_policy=TLS_POLICY,
            certificate_arn=validation.certificate_arn,
            default_actions=[
                aws.lb.ListenerDefaultActionArgs(
                    type="fixed-response",
                    fixed_response=aws.lb.ListenerDefaultActionFixedResponseArgs(
                        content_type="application/json", message_body=NOT_FOUND_BODY, status_code="404"
                    ),
                )
            ],
            tags=common_tags(config, name="https"),
            opts=child,
        )

        self.target_groups = {}
        routes = [
            *(
                (route, args.api_instance_ids, "api", LISTENER_RULE_BASE_PRIORITY + index)
                for index, route in enumerate(API_ROUTES)
            ),
            (GRAFANA, args.monitoring_instance_ids, "monitoring", GRAFANA_RULE_PRIORITY),
        ]
        for route, instance_ids, role, priority in routes:
            self.target_groups[route.service] = self._forward(
                config, route, https, args.vpc_id, instance_ids, role, priority
            )

        for label, host in (("apex", config.domain), ("www", f"www.{config.domain}")):
            aws.route53.Record(
                f"dns-{label}",
                zone_id=args.hosted_zone_id,
                name=host,
                type="A",
                aliases=[
                    aws.route53.RecordAliasArgs(
                        name=self.load_balancer.dns_name,
                        zone_id=self.load_balancer.zone_id,
                        evaluate_target_health=True,
                    )
                ],
                opts=child,
            )
        self.register_outputs({"albDnsName": self.load_balancer.dns_name})

    def _forward(
        self,
        config: StackConfig,
        route: ApiRoute,
        https: aws.lb.Listener,
        vpc_id: pulumi.Input[str],
        instance_ids: Sequence[pulumi.Input[str]],
        role: str,
        priority: int,
    ) -> aws.lb.TargetGroup:
        """Target group on the route's NodePort, its instances, and the listener rule for its paths."""
        child = pulumi.ResourceOptions(parent=self)
        target_group = aws.lb.TargetGroup(
            f"tg-{route.service}",
            name=f"{config.name_prefix}-{route.service}",
            target_type="instance",
            protocol="HTTP",
            port=route.node_port,
            vpc_id=vpc_id,
            deregistration_delay=30,
            health_check=aws.lb.TargetGroupHealthCheckArgs(
                path=route.health_check_path,
                port="traffic-port",
                protocol="HTTP",
                matcher="200",
                interval=15,
                healthy_threshold=2,
                unhealthy_threshold=3,
            ),
            tags=common_tags(config, name=f"tg-{route.service}"),
            opts=child,
        )
        for position, instance_id in enumerate(instance_ids, start=1):
            aws.lb.TargetGroupAttachment(
                f"tg-{route.service}-{role}-{position}",
                target_group_arn=target_group.arn,
                target_id=instance_id,
                port=route.node_port,
                opts=child,
            )
        aws.lb.ListenerRule(
            f"route-{route.service}",
            listener_arn=https.arn,
            priority=priority,
            conditions=[
                aws.lb.ListenerRuleConditionArgs(
                    path_pattern=aws.lb.ListenerRuleConditionPathPatternArgs(values=list(route.path_patterns))
                )
            ],
            actions=[aws.lb.ListenerRuleActionArgs(type="forward", target_group_arn=target_group.arn)],
            tags=common_tags(config, name=f"route-{route.service}"),
            opts=child,
        )
        return target_group
