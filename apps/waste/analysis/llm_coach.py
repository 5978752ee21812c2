"""The LLM coach: an OpenAI model rewrites the offline coach's answer for the exact item in the photo.

The knowledge base stays the only source of facts. The model sees the offline answer and the rule it came
from, and may only rephrase: it returns exactly one step per offline step, in order, plus a short reply.
Prepare items, insufficiencies and exceptions are copied from the offline answer unchanged. The result is then
checked against the knowledge base (`apps.recycling.validation.validate_answer` plus the rewrite's own
invariants) — a contradiction, a missing mandatory mention (say, the label step for a bottle with its
label on), a disposal place the rule does not name, a step that lost its place — and on any problem, as on
any OpenAI failure, the person gets the offline answer and the reason is recorded.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from openai.types.chat import ChatCompletionMessageParam
from pydantic import BaseModel, ConfigDict, Field

from apps.core.settings import Settings
from apps.recycling.rules import grounding_text, plan_disposal
from apps.recycling.validation import validate_answer
from apps.waste.analysis.coach import compose_answer
from apps.waste.analysis.errors import AnalyzerError
from apps.waste.analysis.metrics import COACH_ANSWERS
from apps.waste.analysis.openai_vision import OpenAICaller
from apps.waste.analysis.types import Answer, Classification

logger = logging.getLogger(__name__)

MAX_REPLY_CHARS = 400
MAX_STEP_CHARS = 200

# Where things go, as the knowledge base words it, most specific first: a match is cut out of the text before
# the next place is looked for, so "음식물 전용 수거함" is the food bin and not also a collection bin.
# A rewritten step must keep the places its offline step names and may name no place the offline steps do not;
# the reply may name only places in the grounding text (where, steps, exceptions). The knowledge base's own
# contradiction patterns catch finer mistakes (validate_answer).
DISPOSAL_PLACES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("음식물 수거", re.compile(r"음식물\s*(전용\s*)?(수거\s*용기|수거함|종량제\s*봉투|봉투)")),
    ("불연성 마대", re.compile(r"불연성(\s*종량제)?(\s*마대)?|종량제\s*마대")),
    ("무상방문수거", re.compile(r"무상\s*(방문\s*)?수거|1599-0903")),
    ("대형폐기물 신고", re.compile(r"대형\s*폐기물|스티커")),
    ("종량제봉투", re.compile(r"(일반\s*)?종량제\s*봉투")),
    ("수거함", re.compile(r"수거함")),
)


def places_in(text: str) -> set[str]:
    """The disposal places `text` names (names from DISPOSAL_PLACES)."""
    found: set[str] = set()
    for place, pattern in DISPOSAL_PLACES:
        text, count = pattern.subn(" ", text)
        if count:
            found.add(place)
    return found


class CoachDraft(BaseModel):
    """What the model writes: the offline steps rephrased one-to-one, and a reply."""

    model_config = ConfigDict(extra="forbid")

    steps: list[str] = Field(description="the numbered steps rewritten for this item: same count, same order")
    reply: str = Field(description="2–3 short, friendly Korean sentences")


@dataclass(frozen=True)
class CoachOutcome:
    """The answer shown to the person, who wrote it, and why the LLM's version was not used, if it was not."""

    answer: Answer
    written_by: Literal["llm", "offline"]
    fallback_reason: str | None = None
    """`AnalyzerError.reason` of the failed call, or "contradiction"; None when the LLM answer was used or the
    LLM was not asked (an answer that asks for a hint has nothing to rephrase)."""
    problems: tuple[str, ...] = ()
    """Human-readable findings of the knowledge-base check, for logs."""


class DraftRejected(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


SYSTEM_PROMPT = """\
당신은 이코에코(Eco²)의 분리배출 코치입니다. 사진 속 물건을 어떻게 버리는지 한국어로 안내합니다.
You rewrite a disposal answer that was composed from the knowledge base (환경부 분리배출 기준).

규칙 / Rules:
- 근거는 아래 '지식 베이스'와 '기본 답변'뿐입니다. Use no other knowledge; add no places, bins, fees,
  phone numbers, dates or rules that are not written there. Local rules differ, so never be more specific.
- steps: rewrite each numbered step of the base answer for this exact item, keeping exactly the same number of
  steps in the same order. Keep every action and every disposal place a step names; you may make it more
  concrete (name the item, the label, the cap) and friendlier. Do not number them.
- reply: two or three short, warm Korean sentences (존댓말): what it is, where it goes, and the one thing to
  do first. It must agree with the steps.
- Never tell the person to put the item anywhere the knowledge base does not say.
"""


class LLMCoach:
    """`compose(classification) -> Answer`, written by an LLM within the knowledge base's rules."""

    def __init__(
        self,
        settings: Settings,
        *,
        caller: OpenAICaller | None = None,
        offline: Callable[[Classification], Answer] | None = None,
    ) -> None:
        self._caller = caller if caller is not None else OpenAICaller(settings)
        self._offline = offline if offline is not None else compose_answer

    def compose(self, classification: Classification) -> Answer:
        outcome = self.compose_with_outcome(classification)
        COACH_ANSWERS.labels(outcome.written_by, outcome.fallback_reason or "").inc()
        return outcome.answer

    def compose_with_outcome(self, classification: Classification) -> CoachOutcome:
        offline = self._offline(classification)
        if classification.status != "confident" or classification.category is None or offline.needs_hint:
            return CoachOutcome(offline, "offline")
        try:
            draft = self._caller.parse(
                self._messages(classification, offline),
                CoachDraft,
                max_completion_tokens=800,
                purpose="coach",
            )
            answer = check_draft(draft, offline)
        except AnalyzerError as error:
            logger.warning("LLM coach fell back to the offline answer: %s", error)
            return CoachOutcome(offline, "offline", error.reason)
        except DraftRejected as rejected:
            logger.warning("LLM coach draft contradicts the knowledge base: %s", rejected)
            return CoachOutcome(offline, "offline", "contradiction", tuple(rejected.problems))
        return CoachOutcome(answer, "llm")

    def _messages(self, classification: Classification, offline: Answer) -> list[ChatCompletionMessageParam]:
        assert classification.category is not None
        knowledge = grounding_text(classification.category, classification.item, classification.conditions)
        sections = [
            f"지식 베이스:\n{knowledge}",
            "기본 답변 (base answer):\n" + "\n".join(f"{n}. {s}" for n, s in enumerate(offline.steps, 1)),
        ]
        if classification.notes:
            sections.append(f"사진 설명 (what the photo shows): {classification.notes}")
        return [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": "\n\n".join(sections)},
        ]


def check_draft(draft: CoachDraft, offline: Answer) -> Answer:
    """The answer with the draft's wording; `DraftRejected` lists what the knowledge base does not support.

    `validate_answer` (apps.recycling.validation) checks the whole answer against the rule; on top of it the
    draft must keep the offline answer's shape: one step per offline step, each still naming the disposal
    place its offline step names, the condition-specific mentions in the steps themselves (not only in the
    copied insufficiencies), no disposal place the offline steps do not name, and a reply that names only
    places the knowledge-base text names.
    """
    classification = offline.classification
    assert classification.category is not None
    steps = [step.strip() for step in draft.steps]
    candidate = offline.model_copy(update={"steps": steps, "reply": draft.reply.strip()})
    problems = validate_answer(candidate)

    if len(steps) != len(offline.steps):
        problems.append(f"{len(steps)} steps instead of the knowledge base's {len(offline.steps)}")
    if any(not step or len(step) > MAX_STEP_CHARS for step in steps):
        problems.append(f"a step is empty or longer than {MAX_STEP_CHARS} characters")
    if not candidate.reply or len(candidate.reply) > MAX_REPLY_CHARS:
        problems.append(f"the reply is empty or longer than {MAX_REPLY_CHARS} characters")

    plan = plan_disposal(classification.category, classification.item, classification.conditions)
    steps_text = "\n".join(steps)
    for tag, pattern in plan.required_mentions:
        if not re.search(pattern, steps_text):
            problems.append(f"no step addresses {tag!r} (expected /{pattern}/)")

    for number, (base, rewritten) in enumerate(zip(offline.steps, steps, strict=False), start=1):
        for place in sorted(places_in(base) - places_in(rewritten)):
            problems.append(f"step {number} no longer says where: {place}")
    for place in sorted(places_in(steps_text) - places_in("\n".join(offline.steps))):
        problems.append(f"the steps name a disposal place the knowledge base does not: {place}")
    grounding = grounding_text(plan.category, plan.item, plan.conditions)
    for place in sorted(places_in(candidate.reply) - places_in(grounding)):
        problems.append(f"the reply names a disposal place the knowledge base does not: {place}")
    if problems:
        raise DraftRejected(problems)
    return candidate
