"""A person's free-text hint ("우유팩", "깨진 유리", "라벨 있는 페트병") as a classification, and merging it
with what the photo said.

Reading a hint:
1. Condition words are found with each situation tag's ``hint_patterns`` ("라벨 있는" → ``label_attached``).
2. The hint is cut into spans: the whole text, the text without the condition words, and every run of
   consecutive words. Each span is matched against category and item names (exact, substring, typo-tolerant).
3. The longest span that is exactly a name decides ("깨진 유리" names the item 깨진유리, even though "유리"
   alone names the glass-bottle category); then the longest with a strong partial or misspelt match; then
   the best match over all spans. One-letter spans count only as exact names. See :func:`_decide`.
4. The hint is *confident* when the best match is strong (≥ 0.85) and no match in an unrelated category comes
   within 0.1 of it; otherwise it is *uncertain* and lists the candidates.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from apps.core.settings import get_settings
from apps.recycling.matching import EXACT, NameHit, NameKind, get_name_index
from apps.recycling.taxonomy import Taxonomy, get_situation_tags, get_taxonomy
from apps.waste.analysis.types import AnalyzerSource, Candidate, Classification

CONFIDENT_SCORE = 0.85
"""A name match at least this strong can make the hint confident."""
AMBIGUITY_MARGIN = 0.1
"""A match in an unrelated category this close to the best one makes the hint uncertain."""
MAX_HINT_CONFIDENCE = 0.95
"""People misname things too: a hint never claims certainty."""
STRONG_SCORE = 0.82
"""A span with a match this strong (exact, substring or a one-letter typo) is taken as the name."""
UNCERTAIN_CAP = CONFIDENT_SCORE - 0.05
"""An uncertain hint's top probability stays below the confidence bar."""
# fmt: off
_PARTICLES = (
    "인데요", "인데", "이에요", "입니다", "이요", "예요", "이랑", "이나", "에서", "으로",
    "은", "는", "이", "가", "을", "를", "도", "만", "요", "로",
)
# fmt: on
"""Particles and endings cut from the end of a word ("우유팩인데" → "우유팩") if two syllables remain."""
MIN_PARTIAL_SPAN = 2
"""A one-letter span ("어" left over from "깨졌어요") counts only when it is a whole name ("캔")."""
MAX_CANDIDATES = 3
MAX_HINT_LENGTH = 200
"""Longer texts are cut: a hint is a word or a short phrase."""
MAX_HINT_WORDS = 12
"""Only the first words are read, which bounds the work per hint."""
MAX_RUN_WORDS = 4
"""Names span at most this many words ("바퀴 달린 가방 캐리어"), so longer word runs are not tried."""
_SPACE = re.compile(r"\s+")


def classify_hint(text: str) -> Classification | None:
    """Read a free-text hint. None when it names nothing we know and mentions no condition."""
    cleaned = unicodedata.normalize("NFKC", text)[:MAX_HINT_LENGTH].strip()
    if not cleaned:
        return None
    words = _SPACE.split(cleaned)[:MAX_HINT_WORDS]
    compact = "".join(words)
    conditions, condition_spans = _conditions(compact)
    decision = _decide(_spans(words, compact, condition_spans), get_taxonomy())
    if decision is None:
        if not conditions:
            return None
        return Classification(
            status="uncertain",
            category=None,
            confidence=0.0,
            conditions=conditions,
            source=AnalyzerSource.HINT,
            notes="the hint describes a condition but names no item",
        )
    candidates = decision.candidates
    if decision.confident:
        return Classification(
            status="confident",
            category=candidates[0].category,
            item=decision.item,
            confidence=candidates[0].probability,
            candidates=candidates,
            conditions=conditions,
            source=AnalyzerSource.HINT,
            notes=f"hint matched {decision.matched!r}",
        )
    return Classification(
        status="uncertain",
        category=None,
        confidence=candidates[0].probability,
        candidates=candidates,
        conditions=conditions,
        source=AnalyzerSource.HINT,
        notes=f"hint is ambiguous: best match {decision.matched!r}",
    )


def _strip_particle(word: str) -> str:
    for particle in _PARTICLES:
        if word.endswith(particle) and len(word) - len(particle) >= 2:
            return word[: -len(particle)]
    return word


# --- conditions ---------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _condition_patterns() -> tuple[tuple[str, re.Pattern[str]], ...]:
    return tuple(
        (tag.key, re.compile(pattern, re.IGNORECASE))
        for tag in get_situation_tags()
        for pattern in tag.hint_patterns
    )


def _conditions(compact: str) -> tuple[list[str], list[tuple[int, int]]]:
    """Tag keys whose hint patterns match the whitespace-free hint, and the matched character spans."""
    keys: list[str] = []
    spans: list[tuple[int, int]] = []
    for key, pattern in _condition_patterns():
        for found in pattern.finditer(compact):
            if key not in keys:
                keys.append(key)
            spans.append(found.span())
    return keys, spans


# --- naming -------------------------------------------------------------------------------------------------


def _spans(words: list[str], compact: str, condition_spans: list[tuple[int, int]]) -> list[str]:
    """Candidate name spans, longest first and, at equal length, later first (Korean puts the head noun last:
    in "배터리가 들어 있는 장난감" the thing is the 장난감).

    The spans are the whole text, the text without the words that carry a condition ("테이프 붙은 스티로폼
    박스" → "스티로폼박스"), and every run of up to MAX_RUN_WORDS words, as written and with a trailing
    particle cut ("우유팩인데" → "우유팩").
    """
    offsets = [0]
    for word in words:
        offsets.append(offsets[-1] + len(word))
    touched = {
        index
        for index in range(len(words))
        for start, end in condition_spans
        if start < offsets[index + 1] and offsets[index] < end
    }
    without_conditions = "".join(word for index, word in enumerate(words) if index not in touched)
    stripped = [_strip_particle(word) for word in words]
    runs = [
        ("".join(source[start:end]), end)
        for source in (words, stripped)
        for start in range(len(words))
        for end in range(start + 1, min(start + MAX_RUN_WORDS, len(words)) + 1)
    ]
    ordered = sorted(
        [(compact, len(words)), (without_conditions, len(words)), *runs],
        key=lambda run: (-len(run[0]), -run[1]),
    )
    return [span for span in dict.fromkeys(text for text, _ in ordered) if span]


@dataclass(frozen=True)
class _Decision:
    confident: bool
    candidates: list[Candidate]
    item: str | None
    matched: str


def _span_hits(span: str) -> list[NameHit]:
    hits = get_name_index().match(span)
    if len(span) < MIN_PARTIAL_SPAN:
        return [hit for hit in hits if hit.score >= EXACT]
    return hits


def _decide(spans: list[str], taxonomy: Taxonomy) -> _Decision | None:
    """Pick the name the hint gives, and whether it is unambiguous.

    The longest span that is exactly a name decides ("깨진 유리" is the item 깨진유리, not 유리병). If a
    longer span holds a strong partial or misspelt name of an unrelated category while the exact one covers
    less than half of the hint ("스티로품 상자": 스티로폼 상자 or 상자?), the hint is ambiguous. With no exact
    name, the longest span with a strong match decides; with none, the best match over all spans.
    """
    exact: tuple[str, list[NameHit]] | None = None
    strong: tuple[str, list[NameHit]] | None = None
    every_hit: list[NameHit] = []
    for span in spans:  # longest first; stop at the first exact name
        span_hits = _span_hits(span)
        every_hit.extend(span_hits)
        if span_hits and span_hits[0].score >= EXACT:
            exact = (span, [hit for hit in span_hits if hit.score >= EXACT])
            break
        if strong is None and span_hits and span_hits[0].score >= STRONG_SCORE:
            strong = (span, [hit for hit in span_hits if hit.score >= STRONG_SCORE])
    conflict = False
    if exact is not None:
        hits = exact[1]
        if strong is not None and 2 * len(exact[0]) < len(spans[0]):
            named = {_category_of(taxonomy, hit) for hit in hits}
            rivals = [
                hit
                for hit in strong[1]
                if not any(_related(taxonomy, _category_of(taxonomy, hit), key) for key in named)
            ]
            conflict = bool(rivals)
            hits = hits + rivals
    elif strong is not None:
        hits = strong[1]
    else:
        hits = every_hit
    if not hits:
        return None

    best_per_key: dict[str, NameHit] = {}
    for hit in hits:
        if hit.key not in best_per_key or hit.score > best_per_key[hit.key].score:
            best_per_key[hit.key] = hit
    ranked = sorted(best_per_key.values(), key=lambda hit: -hit.score)

    # Best score per category (an item votes for the category that lists it).
    category_scores: dict[str, float] = {}
    for hit in ranked:
        category_scores.setdefault(_category_of(taxonomy, hit), hit.score)
    top_hit = ranked[0]
    top_category = _category_of(taxonomy, top_hit)
    top_score = top_hit.score
    rivals_scores = [
        (category, value)
        for category, value in category_scores.items()
        if not _related(taxonomy, category, top_category)
    ]
    runner_up = max((value for _, value in rivals_scores), default=0.0)
    confident = not conflict and top_score >= CONFIDENT_SCORE and top_score - runner_up >= AMBIGUITY_MARGIN
    if confident:
        top_category = _most_specific(taxonomy, top_category, category_scores, top_score)
    item = _item(taxonomy, ranked, top_category, top_score) if confident else None
    candidates = _candidates(top_category, top_score, rivals_scores, confident)
    return _Decision(confident, candidates, item, top_hit.name)


def _category_of(taxonomy: Taxonomy, hit: NameHit) -> str:
    """The category a hit names: itself, or the category that lists the item."""
    return hit.key if hit.kind is NameKind.CATEGORY else taxonomy.item(hit.key).category


def _related(taxonomy: Taxonomy, first: str, second: str) -> bool:
    """Same category, or a 대분류 and one of its 중분류 (so "재활용" and "종이팩" do not compete).

    A key the taxonomy does not know (an analyzer's mistake) is related to nothing but itself.
    """
    if first == second:
        return True
    if not (taxonomy.has_category(first) and taxonomy.has_category(second)):
        return False
    return taxonomy.category(first).parent == second or taxonomy.category(second).parent == first


def _most_specific(taxonomy: Taxonomy, category: str, scores: dict[str, float], top_score: float) -> str:
    """Prefer a 중분류 over its 대분류 when both matched about equally well."""
    children = [
        key
        for key in taxonomy.category(category).children
        if scores.get(key, 0.0) >= top_score - AMBIGUITY_MARGIN
    ]
    return children[0] if len(children) == 1 else category


def _item(taxonomy: Taxonomy, ranked: list[NameHit], category: str, top_score: float) -> str | None:
    """The one item of the chosen category that matched about as well as the best hit, if exactly one did."""
    close = [
        hit.key
        for hit in ranked
        if hit.kind is NameKind.ITEM
        and hit.score >= top_score - 0.05
        and taxonomy.item(hit.key).category == category
    ]
    return close[0] if len(close) == 1 else None


def _candidates(
    top_category: str, top_score: float, rivals: list[tuple[str, float]], confident: bool
) -> list[Candidate]:
    """Top categories with probabilities that sum to at most 1.

    Confident: the top category gets its match score (capped) and the rest is shared by the rivals.
    Uncertain: the scores of the top few categories are normalised, scaled below the confidence bar.
    """
    others = sorted(rivals, key=lambda entry: -entry[1])[: MAX_CANDIDATES - 1]
    if confident:
        top_probability = min(MAX_HINT_CONFIDENCE, top_score)
        rest = 1.0 - top_probability
        total = sum(value for _, value in others) or 1.0
        return [
            Candidate(category=top_category, probability=round(top_probability, 3)),
            *(Candidate(category=key, probability=round(rest * value / total, 3)) for key, value in others),
        ]
    entries = [(top_category, top_score), *others]
    total = sum(value for _, value in entries)
    scale = min(top_score, UNCERTAIN_CAP)
    return [Candidate(category=key, probability=round(scale * value / total, 3)) for key, value in entries]


# --- merging ------------------------------------------------------------------------------------------------


def merge(
    image: Classification, hint: Classification | None, threshold: float | None = None
) -> Classification:
    """Combine the photo's classification with the hint's.

    - No hint: the image's classification.
    - Confident hint: the hint names the thing, whatever the photo said. The person is holding the object and
      looked at it; vision confuses look-alike materials (clear PET and glass, paper packs and paper) far more
      often than people misname what they hold, and the answer shows the category, so a wrong hint is visible
      to the person who gave it. When the photo agreed, the confidence rises (noisy-OR of both); when it
      disagreed, the note records what the photo said.
    - Uncertain hint and confident image: the image's classification.
    - Both uncertain: categories both sources list are combined (noisy-OR); one that reaches ``threshold``
      (default: the classifier threshold setting) makes the result confident, else it stays uncertain with
      the combined candidates.
    - Conditions are always the union (image first): a hint adds what a photo cannot show ("내용물 남음").
    """
    if hint is None:
        return image
    conditions = _union(image.conditions, hint.conditions)
    taxonomy = get_taxonomy()
    if hint.status == "confident" and hint.category is not None:
        return _with_confident_hint(image, hint, conditions, taxonomy)
    if image.status == "confident" and image.category is not None:
        return image.model_copy(update={"conditions": conditions})
    return _combine_uncertain(image, hint, conditions, threshold)


def _with_confident_hint(
    image: Classification, hint: Classification, conditions: list[str], taxonomy: Taxonomy
) -> Classification:
    assert hint.category is not None
    if (
        image.status == "confident"
        and image.category is not None
        and _related(taxonomy, image.category, hint.category)
    ):
        category = _deeper(taxonomy, image.category, hint.category)
        item = hint.item or image.item
        if item is not None and not taxonomy.has_item(item):
            item = None
        if item is not None and taxonomy.item(item).category != category:
            item = None
        confidence = round(1.0 - (1.0 - image.confidence) * (1.0 - hint.confidence), 3)
        return image.model_copy(
            update={
                "category": category,
                "item": item,
                "confidence": confidence,
                "candidates": _blend(
                    [Candidate(category=category, probability=confidence)],
                    [*image.candidates, *hint.candidates],
                ),
                "conditions": conditions,
                "notes": _note(image.notes, "the hint agreed with the photo"),
            }
        )
    if image.status == "confident":
        note = f"the hint overrode the photo, which read {image.category!r} ({image.confidence:.2f})"
    else:
        note = "the photo was uncertain; the hint decided"
    return hint.model_copy(
        update={
            "candidates": _blend(hint.candidates, image.candidates),
            "conditions": conditions,
            "fallback_reason": image.fallback_reason,
            "notes": _note(hint.notes, note),
        }
    )


def _combine_uncertain(
    image: Classification, hint: Classification, conditions: list[str], threshold: float | None
) -> Classification:
    limit = get_settings().classifier_threshold if threshold is None else threshold
    image_probabilities = {candidate.category: candidate.probability for candidate in image.candidates}
    hint_probabilities = {candidate.category: candidate.probability for candidate in hint.candidates}
    agreed = {
        category: 1.0 - (1.0 - image_probabilities[category]) * (1.0 - hint_probabilities[category])
        for category in image_probabilities.keys() & hint_probabilities.keys()
    }
    candidates = _blend(
        [Candidate(category=key, probability=round(value, 3)) for key, value in agreed.items()],
        [*hint.candidates, *image.candidates],
    )
    best = max(agreed.items(), key=lambda entry: entry[1], default=None)
    if best is not None and best[1] >= limit:
        return image.model_copy(
            update={
                "status": "confident",
                "category": best[0],
                "item": None,
                "confidence": round(best[1], 3),
                "candidates": candidates,
                "conditions": conditions,
                "notes": _note(image.notes, "photo and hint were each unsure but agreed"),
            }
        )
    return image.model_copy(
        update={
            "candidates": candidates,
            "conditions": conditions,
            "confidence": candidates[0].probability if candidates else image.confidence,
        }
    )


def _blend(primary: list[Candidate], secondary: list[Candidate]) -> list[Candidate]:
    """Candidates led by ``primary``; categories only ``secondary`` lists share the probability mass that
    ``primary`` leaves. Each part is normalised if it sums above 1, so the result never does. Best first."""
    first = _normalised(primary)
    seen = {candidate.category for candidate in first}
    rest = _normalised(
        _first_per_category(candidate for candidate in secondary if candidate.category not in seen)
    )
    remaining = max(0.0, 1.0 - sum(candidate.probability for candidate in first))
    blended = first + [
        Candidate(category=candidate.category, probability=round(candidate.probability * remaining, 3))
        for candidate in rest
    ]
    return sorted(blended, key=lambda candidate: -candidate.probability)[: MAX_CANDIDATES + 2]


def _first_per_category(candidates: Iterable[Candidate]) -> list[Candidate]:
    seen: dict[str, Candidate] = {}
    for candidate in candidates:
        seen.setdefault(candidate.category, candidate)
    return list(seen.values())


def _normalised(candidates: list[Candidate]) -> list[Candidate]:
    total = sum(candidate.probability for candidate in candidates)
    if total <= 1.0:
        return candidates
    return [
        Candidate(category=candidate.category, probability=round(candidate.probability / total, 3))
        for candidate in candidates
    ]


def _deeper(taxonomy: Taxonomy, first: str, second: str) -> str:
    """The more specific of two related (known) categories."""
    return first if first != second and taxonomy.category(first).parent == second else second


def _union(first: list[str], second: list[str]) -> list[str]:
    return list(dict.fromkeys([*first, *second]))


def _note(existing: str | None, addition: str) -> str:
    return f"{existing}; {addition}" if existing else addition
