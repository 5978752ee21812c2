"""The whole stack, wired together; ``__main__.py`` only calls :func:`deploy`."""

from __future__ import annotations

import pulumi

from infra.components.network import Network, NetworkArgs
from infra.config import load_config


def deploy() -> None:
    config = load_config()
    network = Network("network", NetworkArgs(config))

    pulumi.export("vpcId", network.vpc.id)
