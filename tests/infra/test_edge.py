"""ALB, certificate and DNS: listener rules, target groups and NodePorts agree; one validation record."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from infra.components.edge import TLS_POLICY, single_validation_record
from infra.ports import API_ROUTES, GRAFANA, HEALTH_CHECK_PATH, NODE_PORT_RANGE, PUBLIC_ROUTES, route_for
from tools.plan.harness import STACKS, by_name, of_type, run_program

RULE = "aws:lb/listenerRule:ListenerRule"
TARGET_GROUP = "aws:lb/targetGroup:TargetGroup"
ATTACHMENT = "aws:lb/targetGroupAttachment:TargetGroupAttachment"
LISTENER = "aws:lb/listener:Listener"
RECORD = "aws:route53/record:Record"


def test_route_table_is_consistent():
    assert len({route.node_port for route in PUBLIC_ROUTES}) == len(PUBLIC_ROUTES)
    assert len({route.path_prefix for route in PUBLIC_ROUTES}) == len(PUBLIC_ROUTES)
    assert all(route.node_port in NODE_PORT_RANGE for route in PUBLIC_ROUTES)
    assert all(route.health_check_path == HEALTH_CHECK_PATH for route in API_ROUTES)
    # Grafana is served from its sub-path, so its health check goes through it too.
    assert GRAFANA.health_check_path.startswith(f"{GRAFANA.path_prefix}/")
    assert GRAFANA not in API_ROUTES
    assert [route.path_prefix for route in API_ROUTES] == [
        "/api/v1/auth",
        "/api/v1/users",
        "/api/v1/waste",
        "/api/v1/recycling",
        "/api/v1/locations",
    ]
    assert route_for("waste").node_port == 30083
    with pytest.raises(KeyError, match="no API route for service 'billing'"):
        route_for("billing")


@pytest.mark.parametrize("stack", STACKS)
def test_listener_rules_target_groups_and_node_ports_agree(stack):
    resources = run_program(stack)
    groups = {tg.urn: tg for tg in of_type(resources, TARGET_GROUP)}
    https = by_name(resources, LISTENER, "https")
    seen = set()
    for rule in of_type(resources, RULE):
        assert https.urn in rule.property_dependencies["listenerArn"]
        (patterns,) = [c["pathPattern"]["values"] for c in rule.inputs["conditions"]]
        route = next(r for r in PUBLIC_ROUTES if r.path_prefix == patterns[0])
        assert patterns == [route.path_prefix, f"{route.path_prefix}/*"]
        (action,) = rule.inputs["actions"]
        assert action["type"] == "forward"
        (target_urn,) = rule.property_dependencies["actions"]
        target = groups[target_urn]
        assert target.inputs["port"] == route.node_port
        assert target.inputs["targetType"] == "instance"
        assert target.inputs["healthCheck"]["path"] == route.health_check_path
        assert target.inputs["healthCheck"]["port"] == "traffic-port"
        attachments = [a for a in of_type(resources, ATTACHMENT) if target.urn in a.dependencies]
        assert attachments and all(a.inputs["port"] == route.node_port for a in attachments)
        seen.add(route.service)
    assert seen == {route.service for route in PUBLIC_ROUTES}
    priorities = [rule.inputs["priority"] for rule in of_type(resources, RULE)]
    assert len(set(priorities)) == len(priorities)


@pytest.mark.parametrize("stack", STACKS)
def test_api_targets_are_the_api_nodes_and_grafana_the_monitoring_node(stack):
    resources = run_program(stack)
    api_node = by_name(resources, "aws:ec2/instance:Instance", "node-api-1")
    monitoring_node = by_name(resources, "aws:ec2/instance:Instance", "node-monitoring")
    grafana = by_name(resources, TARGET_GROUP, "tg-grafana")
    for attachment in of_type(resources, ATTACHMENT):
        node = monitoring_node if grafana.urn in attachment.dependencies else api_node
        assert attachment.property_dependencies["targetId"] == (node.urn,)
    assert len([a for a in of_type(resources, ATTACHMENT) if grafana.urn in a.dependencies]) == 1


@pytest.mark.parametrize("stack", STACKS)
def test_http_redirects_and_https_uses_tls13(stack):
    resources = run_program(stack)
    http = by_name(resources, LISTENER, "http")
    assert http.inputs["port"] == 80
    assert http.inputs["defaultActions"] == [
        {"type": "redirect", "redirect": {"protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"}}
    ]
    https = by_name(resources, LISTENER, "https")
    assert https.inputs["protocol"] == "HTTPS"
    assert https.inputs["sslPolicy"] == TLS_POLICY == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    assert https.inputs["defaultActions"][0]["fixedResponse"]["statusCode"] == "404"
    validation = by_name(
        resources, "aws:acm/certificateValidation:CertificateValidation", "certificate-validation"
    )
    assert validation.urn in https.property_dependencies["certificateArn"]
    alb = by_name(resources, "aws:lb/loadBalancer:LoadBalancer", "alb")
    assert alb.inputs["dropInvalidHeaderFields"] is True
    assert len(alb.inputs["subnets"]) == 3


@pytest.mark.parametrize("stack", STACKS)
def test_certificate_covers_apex_and_wildcard_with_one_validation_record(stack):
    resources = run_program(stack)
    domain = "dev.eco2.example.com" if stack == "dev" else "eco2.example.com"
    (certificate,) = of_type(resources, "aws:acm/certificate:Certificate")
    assert certificate.inputs["domainName"] == domain
    assert certificate.inputs["subjectAlternativeNames"] == [f"*.{domain}"]
    assert certificate.inputs["validationMethod"] == "DNS"
    validation_records = [r for r in of_type(resources, RECORD) if r.inputs["type"] == "CNAME"]
    assert len(validation_records) == 1
    assert certificate.urn in validation_records[0].dependencies
    validation = by_name(
        resources, "aws:acm/certificateValidation:CertificateValidation", "certificate-validation"
    )
    assert validation_records[0].urn in validation.dependencies


@pytest.mark.parametrize("stack", STACKS)
def test_apex_and_www_alias_the_alb(stack):
    resources = run_program(stack)
    alb = by_name(resources, "aws:lb/loadBalancer:LoadBalancer", "alb")
    domain = "dev.eco2.example.com" if stack == "dev" else "eco2.example.com"
    aliases = {r.inputs["name"]: r for r in of_type(resources, RECORD) if r.inputs.get("aliases")}
    assert set(aliases) == {domain, f"www.{domain}"}
    for record in aliases.values():
        assert record.inputs["type"] == "A"
        assert alb.urn in record.property_dependencies["aliases"]
    endpoint = next(r for r in of_type(resources, RECORD) if r.inputs["name"] == f"k8s.{domain}")
    assert endpoint.inputs["records"] == ["203.0.113.10"]


def option(name: str, value: str = "_v.acm-validations.aws.") -> SimpleNamespace:
    return SimpleNamespace(
        resource_record_name=name, resource_record_type="CNAME", resource_record_value=value
    )


def test_apex_and_wildcard_options_collapse_into_one_record():
    record = single_validation_record([option("_a.example.com."), option("_a.example.com.")])
    assert (record.name, record.type, record.value) == ("_a.example.com.", "CNAME", "_v.acm-validations.aws.")


@pytest.mark.parametrize(
    "options",
    [[], [option("_a.example.com."), option("_b.example.com.")], [option("_a."), option("_a.", "other.")]],
    ids=["none", "two names", "two values"],
)
def test_unexpected_validation_options_are_refused(options):
    with pytest.raises(ValueError, match="share one validation record"):
        single_validation_record(options)
