"""A stack's ``eco2:`` configuration as the program reads it, raw and parsed."""

from __future__ import annotations

from infra.config import StackConfig, parse_config
from tools.plan.stack_runner import stack_config


def raw_config(stack: str) -> dict[str, str]:
    return {
        key.split(":", 1)[1]: value for key, value in stack_config(stack).items() if key.startswith("eco2:")
    }


def parsed(raw: dict[str, str], stack: str) -> StackConfig:
    return parse_config(raw, project="eco2", stack=stack, region="ap-northeast-2")
