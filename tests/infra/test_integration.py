"""Real-cloud checks through the Automation API: an ephemeral stack is previewed, brought up twice (the second
``up`` must change nothing: every remote step is idempotent) and destroyed.

Needs the pulumi CLI, AWS credentials and a Route53 zone you own. Set ECO2_IT_DOMAIN (a name inside the zone),
ECO2_IT_ADMIN_CIDR (your address/32) and ECO2_IT_SSH_KEY (private key path; the public key is ``<path>.pub``);
optionally ECO2_IT_HOSTED_ZONE. Run with ``pytest -m integration tests/infra``.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tools.plan.stack_runner import REPO_ROOT, stack_config

REQUIRED_ENV = ("ECO2_IT_DOMAIN", "ECO2_IT_ADMIN_CIDR", "ECO2_IT_SSH_KEY")


def missing_prerequisites() -> list[str]:
    missing = []
    if shutil.which("pulumi") is None:
        missing.append("the pulumi CLI")
    if not (os.environ.get("AWS_ACCESS_KEY_ID") or os.environ.get("AWS_PROFILE")):
        missing.append("AWS credentials (AWS_ACCESS_KEY_ID or AWS_PROFILE)")
    missing += [name for name in REQUIRED_ENV if not os.environ.get(name)]
    return missing


pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        bool(missing_prerequisites()),
        reason=f"needs real AWS via the pulumi CLI; missing: {', '.join(missing_prerequisites())}",
    ),
]


@pytest.fixture(scope="module")
def ephemeral_stack() -> Iterator[Any]:
    from pulumi import automation as auto

    name = f"it-{uuid.uuid4().hex[:8]}"
    stack = auto.create_stack(stack_name=name, work_dir=str(REPO_ROOT))
    key_path = Path(os.environ["ECO2_IT_SSH_KEY"])
    config = {key: auto.ConfigValue(value=value) for key, value in stack_config("dev").items()}
    config.update(
        {
            "eco2:domain": auto.ConfigValue(value=os.environ["ECO2_IT_DOMAIN"]),
            "eco2:hostedZone": auto.ConfigValue(value=os.environ.get("ECO2_IT_HOSTED_ZONE", "")),
            "eco2:adminCidrs": auto.ConfigValue(value=json.dumps([os.environ["ECO2_IT_ADMIN_CIDR"]])),
            "eco2:sshPublicKey": auto.ConfigValue(value=key_path.with_suffix(".pub").read_text().strip()),
            "eco2:sshPrivateKey": auto.ConfigValue(value=key_path.read_text(), secret=True),
            "eco2:bucketForceDestroy": auto.ConfigValue(value="true"),
        }
    )
    stack.set_all_config(config)
    try:
        yield stack
    finally:
        stack.destroy(on_output=print)
        stack.workspace.remove_stack(name)


def test_preview_plans_the_whole_stack(ephemeral_stack):
    result = ephemeral_stack.preview(on_output=print)
    assert result.change_summary.get("create", 0) > 100


def test_up_then_up_again_changes_nothing(ephemeral_stack):
    first = ephemeral_stack.up(on_output=print)
    assert first.outputs["kubeconfig"].secret
    assert first.outputs["albDnsName"].value.endswith(".elb.amazonaws.com")
    second = ephemeral_stack.up(on_output=print)
    changes = second.summary.resource_changes or {}
    assert set(changes) <= {"same"}, changes
