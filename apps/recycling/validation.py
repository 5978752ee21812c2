"""Is an answer consistent with the knowledge base? For answers not composed offline (an LLM's, a cached one).

:func:`validate_answer` recomputes the knowledge base's plan for the answer's classification and lists every
disagreement: unknown keys, a category label that is not where the rule sends the thing, a condition the
steps ignore (label on, but no word about the label), a statement the rule marks as a contradiction, missing
insufficiencies, and hint/uncertainty mismatches. An empty list means consistent.
"""

from __future__ import annotations

import re

from apps.recycling.rules import (
    KnowledgeBase,
    get_knowledge_base,
    item_in_category,
    normalize_conditions,
    plan_disposal,
)
from apps.waste.analysis.types import Answer

UNCLASSIFIED = "unclassified"


def validate_answer(answer: Answer, kb: KnowledgeBase | None = None) -> list[str]:
    """Problems that make ``answer`` inconsistent with the knowledge base (empty when consistent)."""
    kb = kb or get_knowledge_base()
    classification = answer.classification
    taxonomy = kb.taxonomy
    problems: list[str] = []

    _, unknown_conditions = normalize_conditions(classification.conditions, kb.tags)
    problems.extend(f"unknown condition {name!r}" for name in unknown_conditions)
    problems.extend(
        f"unknown candidate category {candidate.category!r}"
        for candidate in classification.candidates
        if not taxonomy.has_category(candidate.category)
    )

    if classification.status != "confident" or classification.category is None:
        if not answer.needs_hint:
            problems.append("an uncertain classification must ask for a hint (needs_hint)")
        if answer.steps:
            problems.append("an uncertain classification must not give disposal steps")
        return problems

    category = classification.category
    if not taxonomy.has_category(category):
        return [*problems, f"unknown category {category!r}"]
    item = classification.item
    if item is not None and not taxonomy.has_item(item):
        problems.append(f"unknown item {item!r}")
    elif item is not None and not item_in_category(taxonomy, category, item):
        problems.append(f"item {item!r} is not in category {category!r}")

    plan = plan_disposal(category, item, classification.conditions, kb)
    expected_label = taxonomy.label(plan.destination)
    if answer.category_label != expected_label:
        problems.append(
            f"category_label is {answer.category_label!r}, but the knowledge base sends this to "
            f"{expected_label!r} ({plan.destination})"
        )
    if plan.destination == UNCLASSIFIED and not answer.needs_hint:
        problems.append("an unclassified thing must ask for a hint (needs_hint)")
    if not answer.steps:
        problems.append("a confident answer needs disposal steps")

    guidance = "\n".join([*answer.steps, *answer.insufficiencies])
    for tag, pattern in plan.required_mentions:
        if not re.search(pattern, guidance):
            problems.append(f"condition {tag!r} is not addressed (expected a mention matching /{pattern}/)")
    if plan.insufficiencies and not answer.insufficiencies:
        problems.append("the detected conditions leave things undone, but insufficiencies is empty")

    statements = "\n".join([*answer.steps, answer.reply])
    rule = kb.rule_for(plan.destination)
    problems.extend(
        f"contradicts the {plan.destination} rule: {contradiction.reason}"
        for contradiction in rule.contradictions
        if re.search(contradiction.pattern, statements)
    )
    return problems
