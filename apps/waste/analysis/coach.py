"""The offline coach: the answer composed from the knowledge base alone, no network.

Everything factual comes from :func:`apps.recycling.rules.plan_disposal` (the rule, adapted to the detected
conditions); this module only phrases the short reply. Steps are plain sentences in order (the list position
is the step number). An uncertain classification gets no steps: the reply asks for a one-word hint and names
the likeliest categories.
"""

from __future__ import annotations

import re

from apps.recycling.matching import final_consonant
from apps.recycling.rules import DisposalPlan, plan_disposal
from apps.recycling.taxonomy import Taxonomy, get_taxonomy
from apps.waste.analysis.types import Answer, Classification

HINT_REQUEST = "무엇인지 한 단어로 알려주세요."
UNSURE_OPENING = "사진만으로는 무엇인지 확실하지 않아요."
MAX_LISTED_CANDIDATES = 3
UNCLASSIFIED = "unclassified"
_FIRST_SENTENCE = re.compile(r"^.*?[.!?](?=\s|$)")


def compose_answer(classification: Classification) -> Answer:
    """The person-facing answer for a classification, built only from the knowledge base."""
    taxonomy = get_taxonomy()
    category = classification.category
    if classification.status != "confident" or category is None or not taxonomy.has_category(category):
        return _ask_for_hint(classification, taxonomy)
    plan = plan_disposal(category, classification.item, classification.conditions)
    destination_label = taxonomy.label(plan.destination)
    if plan.destination == UNCLASSIFIED:
        return Answer(
            classification=classification,
            category_label=destination_label,
            steps=list(plan.steps),
            reply=f"어디에 버려야 할지 정해진 물건이 아니에요. {HINT_REQUEST}",
            needs_hint=True,
        )
    return Answer(
        classification=classification,
        category_label=destination_label,
        steps=list(plan.steps),
        prepare=list(plan.prepare),
        insufficiencies=list(plan.insufficiencies),
        exceptions=list(plan.exceptions),
        reply=_reply(plan, taxonomy, destination_label),
    )


def _reply(plan: DisposalPlan, taxonomy: Taxonomy, destination_label: str) -> str:
    """Two or three short sentences: what it is, why it goes elsewhere (if it does), what is left to do."""
    subject = taxonomy.label(plan.item) if plan.item else taxonomy.label(plan.category)
    if plan.redirected:
        sentences = [f"{with_topic(subject)} {with_direction(destination_label)} 버려야 해요."]
    elif plan.item:
        sentences = [f"{with_topic(subject)} {with_copula(destination_label)}."]
    else:
        sentences = [f"{with_direction(destination_label)} 배출해요."]
    if plan.redirect_reason:
        sentences.append(_first_sentence(plan.redirect_reason))
    elif plan.item_note:
        sentences.append(plan.item_note)
    if plan.insufficiencies:
        more = len(plan.insufficiencies) - 1
        lead = plan.insufficiencies[0] + (f" (그 밖에 {more}가지 더)" if more else "")
        sentences.append(f"{lead} 아래 순서대로 정리해 주세요.")
    else:
        sentences.append("아래 순서대로 버리면 돼요.")
    return " ".join(sentences)


def _ask_for_hint(classification: Classification, taxonomy: Taxonomy) -> Answer:
    labels = list(
        dict.fromkeys(
            taxonomy.label(candidate.category)
            for candidate in classification.candidates
            if taxonomy.has_category(candidate.category) and candidate.category != UNCLASSIFIED
        )
    )[:MAX_LISTED_CANDIDATES]
    reply = f"{UNSURE_OPENING} {HINT_REQUEST}"
    if labels:
        reply += f" 혹시 {_or_list(labels)} 중 하나인가요?"
    return Answer(classification=classification, category_label=None, reply=reply, needs_hint=True)


def with_topic(word: str) -> str:
    """Attach the topic particle: 우유팩 → 우유팩은, 종이 → 종이는."""
    return f"{word}{'은' if final_consonant(word) else '는'}"


def with_copula(word: str) -> str:
    """Attach the polite copula: 종이팩 → 종이팩이에요, 종이 → 종이예요."""
    return f"{word}{'이에요' if final_consonant(word) else '예요'}"


def with_direction(word: str) -> str:
    """Attach the direction particle: 종이팩 → 종이팩으로, 종이 → 종이로, 금속류 → 금속류로."""
    return f"{word}{'로' if final_consonant(word) in ('', 'ㄹ') else '으로'}"


def _or_list(labels: list[str]) -> str:
    return labels[0] if len(labels) == 1 else f"{', '.join(labels[:-1])} 또는 {labels[-1]}"


def _first_sentence(text: str) -> str:
    found = _FIRST_SENTENCE.match(text)
    return found.group(0) if found else text
