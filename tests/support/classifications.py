"""Builders for analyzer results used across the coach, validation and LLM-coach tests."""

from __future__ import annotations

from apps.waste.analysis.types import AnalyzerSource, Classification


def confident(
    category: str,
    item: str | None = None,
    conditions: list[str] | None = None,
    *,
    source: AnalyzerSource = AnalyzerSource.EMBEDDED,
    notes: str | None = None,
) -> Classification:
    """A confident classification (0.9) of `category`, as an analyzer would return it."""
    return Classification(
        status="confident",
        category=category,
        item=item,
        confidence=0.9,
        conditions=conditions or [],
        source=source,
        notes=notes,
    )
