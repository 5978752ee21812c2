"""Read-only recycling knowledge service: the category tree, one category's rule and items, item search."""

from __future__ import annotations

from functools import lru_cache

from apps.recycling.matching import MIN_SCORE, NameKind, get_name_index, normalize
from apps.recycling.rules import get_knowledge_base
from apps.recycling.schemas import (
    AdjustmentOut,
    CategoryDetail,
    CategoryRef,
    CategorySummary,
    CategoryTree,
    ExceptionOut,
    ItemMatch,
    ItemOut,
    RuleOut,
    SituationTagList,
    SituationTagOut,
)
from apps.recycling.taxonomy import Category, Taxonomy, get_situation_tags, get_taxonomy

MAX_QUERY_LENGTH = 50
MAX_LIMIT = 50

CATEGORY_MATCH_WEIGHT = 0.75
"""A query that names a category ("스티로폼") also finds that category's items, ranked below direct hits."""


def search_items(query: str, limit: int = 10) -> list[ItemMatch]:
    """Items whose label or alias matches ``query`` (Korean, partial, spelling-tolerant), best first.

    ``limit`` is clamped to 1..MAX_LIMIT; an empty or punctuation-only query finds nothing; the normalised
    query is cut at MAX_QUERY_LENGTH characters.
    """
    limit = max(1, min(limit, MAX_LIMIT))
    taxonomy = get_taxonomy()
    ranked = _ranked(normalize(query)[:MAX_QUERY_LENGTH])
    return [_item_match(taxonomy, key, value, name) for key, value, name in ranked[:limit]]


@lru_cache(maxsize=2048)
def _ranked(normalized_query: str) -> tuple[tuple[str, float, str], ...]:
    """(item key, score, matched name) for every matching item, best first; cached per normalised query."""
    taxonomy = get_taxonomy()
    order = {item.key: position for position, item in enumerate(taxonomy.items())}
    best: dict[str, tuple[float, str]] = {}

    def offer(item_key: str, value: float, name: str) -> None:
        if value >= MIN_SCORE and (item_key not in best or value > best[item_key][0]):
            best[item_key] = (value, name)

    for hit in get_name_index().match(normalized_query):
        if hit.kind is NameKind.ITEM:
            offer(hit.key, hit.score, hit.name)
        else:
            for item in taxonomy.items_of(hit.key):
                offer(item.key, hit.score * CATEGORY_MATCH_WEIGHT, hit.name)

    ranked = sorted(best.items(), key=lambda entry: (-entry[1][0], order[entry[0]]))
    return tuple((key, value, name) for key, (value, name) in ranked)


def _item_match(taxonomy: Taxonomy, key: str, value: float, name: str) -> ItemMatch:
    item = taxonomy.item(key)
    return ItemMatch(
        key=item.key,
        label=item.label,
        category=item.category,
        category_label=taxonomy.label(item.category),
        disposal_category=item.disposal_category,
        matched_name=name,
        score=round(value, 3),
    )


@lru_cache(maxsize=1)
def category_tree() -> CategoryTree:
    kb = get_knowledge_base()
    return CategoryTree(
        categories=[_summary(kb.taxonomy, category) for category in kb.taxonomy.major_categories()],
        sources=list(kb.sources),
    )


def _summary(taxonomy: Taxonomy, category: Category) -> CategorySummary:
    return CategorySummary(
        key=category.key,
        label=category.label,
        item_count=len(taxonomy.items_of(category.key)),
        children=[_summary(taxonomy, taxonomy.category(child)) for child in category.children],
    )


@lru_cache(maxsize=64)
def category_detail(key: str) -> CategoryDetail:
    """The category's rule and items. Raises :class:`UnknownKeyError` for an unknown key."""
    kb = get_knowledge_base()
    taxonomy = kb.taxonomy
    category = taxonomy.category(key)
    rule = kb.rule_for(key)
    tags = kb.tags
    return CategoryDetail(
        key=category.key,
        label=category.label,
        parent=_ref(taxonomy, category.parent),
        children=[CategoryRef(key=child, label=taxonomy.label(child)) for child in category.children],
        rule=RuleOut(
            summary=rule.summary,
            where=rule.where,
            steps=[step.text for step in rule.steps],
            prepare=list(rule.prepare),
            exceptions=[
                ExceptionOut(
                    what=exception.what, goes_to=_ref(taxonomy, exception.goes_to), how=exception.how
                )
                for exception in rule.exceptions
            ],
            adjustments=[
                AdjustmentOut(
                    condition=tag,
                    condition_label=tags.get(tag).label,
                    step=adjustment.step,
                    insufficiency=adjustment.insufficiency,
                    goes_to=_ref(taxonomy, adjustment.goes_to),
                )
                for tag, adjustment in rule.adjustments.items()
                if adjustment.step or adjustment.insufficiency or adjustment.goes_to
            ],
        ),
        items=[
            ItemOut(
                key=item.key,
                label=item.label,
                aliases=list(item.aliases),
                note=item.note,
                goes_to=_ref(taxonomy, item.goes_to),
            )
            for item in taxonomy.items_of(key)
        ],
    )


def _ref(taxonomy: Taxonomy, key: str | None) -> CategoryRef | None:
    return None if key is None else CategoryRef(key=key, label=taxonomy.label(key))


@lru_cache(maxsize=1)
def situation_tags() -> SituationTagList:
    return SituationTagList(
        tags=[SituationTagOut(key=tag.key, label=tag.label, group=tag.group) for tag in get_situation_tags()]
    )
