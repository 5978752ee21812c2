"""The tag set every taggable AWS resource carries (applied explicitly: no stack transform needed)."""

from __future__ import annotations

from infra.config import StackConfig


def common_tags(config: StackConfig, *, name: str | None = None, role: str | None = None) -> dict[str, str]:
    """Project/Stack/ManagedBy on everything, plus ``Name`` and ``Role`` where they apply."""
    tags = {"Project": config.project, "Stack": config.stack, "ManagedBy": "pulumi"}
    if name is not None:
        tags["Name"] = f"{config.name_prefix}-{name}"
    if role is not None:
        tags["Role"] = role
    return tags
