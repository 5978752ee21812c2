"""Metrics of the analyzers: how long each takes to read a photo, and how the OpenAI calls end."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

from apps.core.observability.metrics import REQUEST_BUCKETS
from apps.waste.analysis.types import Classification

CLASSIFIER_DURATION = Histogram(
    "eco2_classifier_duration_seconds",
    "Time one analyzer took to read one photo, by analyzer (embedded, openai, fallback).",
    ["analyzer"],
    buckets=REQUEST_BUCKETS,
)
OPENAI_REQUESTS = Counter(
    "eco2_openai_requests",
    "OpenAI calls by purpose (vision, coach) and outcome (ok, or the failure reason: timeout, rate_limited, "
    "throttled and not_configured included, though those two never reach OpenAI).",
    ["purpose", "outcome"],
)
OPENAI_DURATION = Histogram(
    "eco2_openai_request_duration_seconds",
    "Duration of the OpenAI calls actually sent, by purpose.",
    ["purpose"],
    buckets=(0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0),
)
COACH_ANSWERS = Counter(
    "eco2_coach_answers",
    "Answers of the LLM coach by who wrote them (llm, offline) and why the offline answer was used.",
    ["written_by", "fallback_reason"],
)


def analyzer_label(classification: Classification) -> str:
    """embedded, openai or hint; "fallback" when the embedded analyzer answered for a failed primary."""
    return "fallback" if classification.fallback_reason else str(classification.source)
