"""The pack under the real Pulumi CLI: ``pulumi preview --policy-pack policy`` on an ephemeral stack.

Same prerequisites and ephemeral stack as tests/infra/test_integration.py (the CLI, AWS credentials,
ECO2_IT_* variables); run with ``pytest -m integration tests/policy``. The CLI creates ``policy/venv``
from ``policy/requirements.txt``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import eco2_policies as pack
import pytest

from tests.infra.test_integration import (  # noqa: F401 - ephemeral_stack is a pytest fixture
    ephemeral_stack,
    missing_prerequisites,
)
from tools.plan.policy import POLICY_DIR

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        bool(missing_prerequisites()),
        reason=f"needs real AWS via the pulumi CLI; missing: {', '.join(missing_prerequisites())}",
    ),
]


def test_preview_with_the_pack_passes(ephemeral_stack: Any) -> None:  # noqa: F811 - the fixture
    result = ephemeral_stack.preview(policy_packs=[str(POLICY_DIR)], on_output=print)
    assert pack.PACK_NAME in result.stdout


def test_a_mandatory_violation_fails_the_preview(ephemeral_stack: Any, tmp_path: Path) -> None:  # noqa: F811
    """Nothing in the program carries a CostCenter tag: made mandatory, the tag rule must block."""
    from pulumi import automation as auto

    config = tmp_path / "policy-config.json"
    required = [*pack.DEFAULT_REQUIRED_TAGS, "CostCenter"]
    config.write_text(
        json.dumps({pack.REQUIRED_TAGS.name: {"enforcementLevel": "mandatory", "requiredTags": required}})
    )
    with pytest.raises(auto.CommandError, match="missing required tag\\(s\\) CostCenter"):
        ephemeral_stack.preview(policy_packs=[str(POLICY_DIR)], policy_pack_configs=[str(config)])
