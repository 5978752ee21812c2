"""The disposal-rule knowledge base and the one place that turns (category, item, conditions) into a plan.

``rules.yaml`` holds one rule per taxonomy category; it is validated against the taxonomy and the situation
tags at load, so a category without a rule, a dangling ``goes_to`` or an unknown tag fails loudly.
:func:`plan_disposal` is shared by the offline coach (which phrases the plan) and by
:mod:`apps.recycling.validation` (which checks an LLM-written answer against the same plan).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pydantic import Field

from apps.recycling.loading import DATA_DIR, FileModel, entry_error, load_file
from apps.recycling.taxonomy import (
    SITUATION_TAGS_FILE,
    TAXONOMY_FILE,
    SituationTags,
    Taxonomy,
    UnknownKeyError,
    get_situation_tags,
    get_taxonomy,
    load_situation_tags,
    load_taxonomy,
)

RULES_FILE = "rules.yaml"


# --- models (the file schema is the runtime schema, frozen) ------------------------------------------------


class RuleStep(FileModel):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    text: str = Field(min_length=1)
    skip_if: tuple[str, ...] = Field(default=(), description="situation tags that make this step unnecessary")


class RuleException(FileModel):
    """A look-alike that is discharged somewhere else."""

    what: str = Field(min_length=1)
    goes_to: str | None = Field(
        default=None, description="category key; None for a place outside the taxonomy"
    )
    how: str = Field(min_length=1)


class ConditionAdjustment(FileModel):
    """How one situation tag changes a rule."""

    step: str | None = None
    at: str | None = Field(default=None, description="base step id the extra step is placed before")
    replaces: bool = Field(default=False, description="the extra step supersedes the base step at `at`")
    insufficiency: str | None = None
    goes_to: str | None = Field(default=None, description="category the thing must go to instead")
    mentions: tuple[str, ...] = Field(default=(), description="regexes a grounded answer must contain")


class Contradiction(FileModel):
    pattern: str
    reason: str


class DisposalRule(FileModel):
    """The rule for one taxonomy category, with shared adjustment sets already merged in."""

    category: str = ""
    summary: str = Field(min_length=1)
    where: str = Field(min_length=1)
    steps: tuple[RuleStep, ...] = Field(min_length=1)
    prepare: tuple[str, ...] = ()
    exceptions: tuple[RuleException, ...] = ()
    adjustment_sets: tuple[str, ...] = ()
    adjustments: dict[str, ConditionAdjustment] = Field(default_factory=dict)
    contradictions: tuple[Contradiction, ...] = ()


class _RulesFile(FileModel):
    sources: tuple[str, ...] = Field(min_length=1)
    adjustment_sets: dict[str, dict[str, ConditionAdjustment]] = Field(default_factory=dict)
    rules: dict[str, DisposalRule] = Field(min_length=1)


class KnowledgeBase:
    """Every category's disposal rule, plus the taxonomy and situation tags they were validated against."""

    def __init__(
        self,
        rules: Mapping[str, DisposalRule],
        sources: tuple[str, ...],
        taxonomy: Taxonomy,
        tags: SituationTags,
    ) -> None:
        self._rules = dict(rules)
        self.sources = sources
        self.taxonomy = taxonomy
        self.tags = tags

    def rule_for(self, category_key: str) -> DisposalRule:
        try:
            return self._rules[category_key]
        except KeyError:
            raise UnknownKeyError("category", category_key) from None

    def rules(self) -> list[DisposalRule]:
        return list(self._rules.values())


# --- loading ------------------------------------------------------------------------------------------------


def load_knowledge_base(
    data_dir: Path, taxonomy: Taxonomy | None = None, tags: SituationTags | None = None
) -> KnowledgeBase:
    """Load ``rules.yaml`` (and, unless given, the taxonomy and tag files) from ``data_dir``.

    Cross-validates the files; uncached (production code uses :func:`get_knowledge_base`).
    """
    taxonomy = taxonomy or load_taxonomy(data_dir / TAXONOMY_FILE)
    tags = tags or load_situation_tags(data_dir / SITUATION_TAGS_FILE)
    path = data_dir / RULES_FILE
    parsed = load_file(path, _RulesFile)

    for set_name, adjustments in parsed.adjustment_sets.items():
        _check_adjustments(path.name, f"adjustment_sets.{set_name}", adjustments, taxonomy, tags)

    rules: dict[str, DisposalRule] = {}
    for key, rule in parsed.rules.items():
        if not taxonomy.has_category(key):
            raise entry_error(path.name, key, "rule for a category that is not in the taxonomy")
        merged: dict[str, ConditionAdjustment] = {}
        for set_name in rule.adjustment_sets:
            if set_name not in parsed.adjustment_sets:
                raise entry_error(path.name, key, f"unknown adjustment set {set_name!r}")
            merged.update(parsed.adjustment_sets[set_name])
        merged.update(rule.adjustments)
        resolved = rule.model_copy(update={"category": key, "adjustments": merged})
        _check_rule(path.name, resolved, taxonomy, tags)
        rules[key] = resolved

    missing = [category.key for category in taxonomy.categories() if category.key not in rules]
    if missing:
        raise entry_error(path.name, ", ".join(missing), "taxonomy categories without a disposal rule")
    ordered = {category.key: rules[category.key] for category in taxonomy.categories()}
    return KnowledgeBase(ordered, parsed.sources, taxonomy, tags)


def _check_rule(file_name: str, rule: DisposalRule, taxonomy: Taxonomy, tags: SituationTags) -> None:
    step_ids = [step.id for step in rule.steps]
    if len(set(step_ids)) != len(step_ids):
        raise entry_error(file_name, rule.category, "duplicate step id")
    for step in rule.steps:
        for tag in step.skip_if:
            if tag not in tags:
                raise entry_error(
                    file_name, rule.category, f"step {step.id!r}: unknown situation tag {tag!r}"
                )
    for exception in rule.exceptions:
        if exception.goes_to is not None and not taxonomy.has_category(exception.goes_to):
            raise entry_error(
                file_name,
                rule.category,
                f"exception {exception.what!r}: unknown category {exception.goes_to!r}",
            )
    _check_adjustments(file_name, rule.category, rule.adjustments, taxonomy, tags)
    for tag, adjustment in rule.adjustments.items():
        if adjustment.at is not None and adjustment.at not in step_ids:
            raise entry_error(
                file_name, rule.category, f"adjustment {tag!r}: no step with id {adjustment.at!r}"
            )
        if adjustment.goes_to == rule.category:
            raise entry_error(file_name, rule.category, f"adjustment {tag!r}: goes_to its own category")
    for contradiction in rule.contradictions:
        _check_pattern(file_name, rule.category, contradiction.pattern)


def _check_adjustments(
    file_name: str,
    entry: str,
    adjustments: Mapping[str, ConditionAdjustment],
    taxonomy: Taxonomy,
    tags: SituationTags,
) -> None:
    for tag, adjustment in adjustments.items():
        if tag not in tags:
            raise entry_error(file_name, entry, f"adjustment for unknown situation tag {tag!r}")
        if adjustment.replaces and adjustment.at is None:
            raise entry_error(file_name, entry, f"adjustment {tag!r}: `replaces` needs `at`")
        if adjustment.goes_to is not None and not taxonomy.has_category(adjustment.goes_to):
            raise entry_error(
                file_name, entry, f"adjustment {tag!r}: unknown category {adjustment.goes_to!r}"
            )
        if adjustment.goes_to is not None and adjustment.step is None:
            raise entry_error(
                file_name, entry, f"adjustment {tag!r}: a redirect needs a `step` explaining it"
            )
        for pattern in adjustment.mentions:
            _check_pattern(file_name, entry, pattern)


def _check_pattern(file_name: str, entry: str, pattern: str) -> None:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise entry_error(file_name, entry, f"invalid regular expression {pattern!r}: {exc}") from exc


@lru_cache(maxsize=1)
def get_knowledge_base() -> KnowledgeBase:
    return load_knowledge_base(DATA_DIR, get_taxonomy(), get_situation_tags())


def rule_for(category_key: str) -> DisposalRule:
    """The disposal rule for a category key (a 대분류 or 재활용 중분류)."""
    return get_knowledge_base().rule_for(category_key)


# --- planning -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DisposalPlan:
    """What the knowledge base says for one classified thing, before any phrasing."""

    category: str
    item: str | None
    conditions: tuple[str, ...]
    destination: str
    redirect_reason: str | None
    steps: tuple[str, ...]
    prepare: tuple[str, ...]
    insufficiencies: tuple[str, ...]
    exceptions: tuple[str, ...]
    item_note: str | None
    required_mentions: tuple[tuple[str, str], ...]
    """(situation tag, regex) pairs: an answer for this plan must mention each."""

    @property
    def redirected(self) -> bool:
        return self.destination != self.category


def normalize_conditions(
    conditions: Iterable[str], tags: SituationTags | None = None
) -> tuple[list[str], list[str]]:
    """Split condition names into known tag keys (deduplicated, source names resolved) and unknown names."""
    tags = tags or get_situation_tags()
    known: list[str] = []
    unknown: list[str] = []
    for name in conditions:
        key = tags.resolve(name.strip())
        if key is None:
            unknown.append(name)
        elif key not in known:
            known.append(key)
    return known, unknown


def item_in_category(taxonomy: Taxonomy, category_key: str, item_key: str) -> bool:
    """True when the item is listed under the category or under one of its 중분류."""
    item_category = taxonomy.item(item_key).category
    return item_category == category_key or taxonomy.category(item_category).parent == category_key


def plan_disposal(
    category: str, item: str | None = None, conditions: Iterable[str] = (), kb: KnowledgeBase | None = None
) -> DisposalPlan:
    """Resolve where a classified thing goes and which steps apply, from the knowledge base only.

    An item listed under a category but discharged elsewhere (``goes_to``) follows that other rule; an item
    that is unknown or not under ``category`` (or one of its 중분류) is ignored, because the category is what
    an analyzer commits to. A condition whose adjustment has ``goes_to`` (a broken glass bottle) redirects to
    that rule; its explanation becomes the first step. Unknown condition names are ignored. Raises
    :class:`UnknownKeyError` for an unknown category.
    """
    kb = kb or get_knowledge_base()
    taxonomy = kb.taxonomy
    taxonomy.category(category)
    item_note: str | None = None
    origin = category
    if item is not None and not (taxonomy.has_item(item) and item_in_category(taxonomy, category, item)):
        item = None
    if item is not None:
        item_entry = taxonomy.item(item)
        origin = item_entry.disposal_category
        item_note = item_entry.note
    known, _ = normalize_conditions(conditions, kb.tags)
    condition_set = set(known)

    destination = origin
    redirect_reason = item_note if origin != category else None
    lead_steps: list[str] = []
    mentions: list[tuple[str, str]] = []
    for tag, adjustment in kb.rule_for(origin).adjustments.items():
        if tag in condition_set and adjustment.goes_to is not None and adjustment.step is not None:
            destination, redirect_reason = adjustment.goes_to, adjustment.step
            lead_steps.append(adjustment.step)
            mentions.extend((tag, pattern) for pattern in adjustment.mentions)
            break

    rule = kb.rule_for(destination)
    steps, insufficiencies, adapted_mentions = _adapt(rule, condition_set)
    mentions.extend(adapted_mentions)
    return DisposalPlan(
        category=category,
        item=item,
        conditions=tuple(known),
        destination=destination,
        redirect_reason=redirect_reason,
        steps=tuple(_unique(lead_steps + steps)),
        prepare=rule.prepare,
        insufficiencies=tuple(_unique(insufficiencies)),
        exceptions=tuple(describe_exception(exception, taxonomy) for exception in rule.exceptions),
        item_note=item_note if redirect_reason != item_note else None,
        required_mentions=tuple(mentions),
    )


def _adapt(rule: DisposalRule, conditions: set[str]) -> tuple[list[str], list[str], list[tuple[str, str]]]:
    """Steps, insufficiencies and required mentions of one rule under the given conditions.

    Adjustments are applied in the rule's own order (so the output does not depend on the order an analyzer
    listed its tags); an adjustment's step goes before its anchor step, or first when it has no anchor.
    """
    first: list[str] = []
    before: dict[str, list[str]] = {}
    replaced: set[str] = set()
    insufficiencies: list[str] = []
    mentions: list[tuple[str, str]] = []
    for tag, adjustment in rule.adjustments.items():
        if tag not in conditions or adjustment.goes_to is not None:
            continue
        if adjustment.step:
            (before.setdefault(adjustment.at, []) if adjustment.at else first).append(adjustment.step)
        if adjustment.replaces and adjustment.at:
            replaced.add(adjustment.at)
        if adjustment.insufficiency:
            insufficiencies.append(adjustment.insufficiency)
        mentions.extend((tag, pattern) for pattern in adjustment.mentions)
    steps = list(first)
    for step in rule.steps:
        steps.extend(before.get(step.id, []))
        if step.id not in replaced and not conditions.intersection(step.skip_if):
            steps.append(step.text)
    return steps, insufficiencies, mentions


def describe_exception(exception: RuleException, taxonomy: Taxonomy) -> str:
    """One line such as "깨진 유리 → 불연성종량제폐기물: 신문지로 감싸 ..."."""
    if exception.goes_to is None:
        return f"{exception.what}: {exception.how}"
    return f"{exception.what} → {taxonomy.label(exception.goes_to)}: {exception.how}"


def grounding_text(category: str, item: str | None = None, conditions: Iterable[str] = ()) -> str:
    """The knowledge-base facts for one classification as plain Korean text, for grounding an LLM prompt."""
    kb = get_knowledge_base()
    plan = plan_disposal(category, item, conditions, kb)
    rule = kb.rule_for(plan.destination)
    lines = [
        f"분류: {kb.taxonomy.label(plan.destination)} ({plan.destination})",
        f"요약: {rule.summary}",
        f"배출 장소: {rule.where}",
    ]
    if plan.item is not None:
        lines.append(f"품목: {kb.taxonomy.label(plan.item)}")
    if plan.redirect_reason:
        lines.append(f"다른 곳으로 보내는 이유: {plan.redirect_reason}")
    lines.append("배출 순서:")
    lines.extend(f"{number}. {text}" for number, text in enumerate(plan.steps, start=1))
    for title, entries in (
        ("미리 할 일", plan.prepare),
        ("아직 하지 않은 것", plan.insufficiencies),
        ("예외", plan.exceptions),
    ):
        if entries:
            lines.append(f"{title}:")
            lines.extend(f"- {entry}" for entry in entries)
    if plan.item_note:
        lines.append(f"참고: {plan.item_note}")
    return "\n".join(lines)


def _unique(texts: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(texts))


__all__ = [
    "ConditionAdjustment",
    "Contradiction",
    "DisposalPlan",
    "DisposalRule",
    "KnowledgeBase",
    "RuleException",
    "RuleStep",
    "describe_exception",
    "get_knowledge_base",
    "grounding_text",
    "item_in_category",
    "load_knowledge_base",
    "normalize_conditions",
    "plan_disposal",
    "rule_for",
]
