"""Turns the master's admin.conf into the kubeconfig Pulumi and admins use from outside the VPC."""

from __future__ import annotations

from typing import Any

import yaml

from infra.render import yaml_text


def public_kubeconfig(admin_conf: str, server_url: str) -> str:
    """admin.conf with every cluster's ``server`` pointed at the stable public endpoint.

    kubeadm writes the private ``controlPlaneEndpoint`` there, which is unreachable from the Pulumi runner.
    Errors describe the document's shape only, never its content (it holds a client key).
    """
    try:
        document: Any = yaml.safe_load(admin_conf)
    except yaml.YAMLError:
        raise ValueError("admin.conf is not valid YAML") from None
    if not isinstance(document, dict) or document.get("kind") != "Config":
        raise ValueError("admin.conf is not a kubeconfig (kind: Config)")
    clusters = document.get("clusters")
    if not isinstance(clusters, list) or not clusters:
        raise ValueError("admin.conf lists no clusters")
    for entry in clusters:
        cluster = entry.get("cluster") if isinstance(entry, dict) else None
        if not isinstance(cluster, dict) or "server" not in cluster:
            raise ValueError("admin.conf has a cluster entry without a server")
        cluster["server"] = server_url
    return yaml_text.dump(document)
