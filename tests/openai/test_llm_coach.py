"""The LLM coach against the fake OpenAI server: grounded rewrites pass, anything else falls back offline."""

from __future__ import annotations

from typing import Any

import pytest

from apps.core.settings import Settings
from apps.recycling.rules import get_knowledge_base, rule_for
from apps.waste.analysis.coach import compose_answer
from apps.waste.analysis.llm_coach import CoachDraft, DraftRejected, LLMCoach, check_draft, places_in
from apps.waste.analysis.openai_vision import OpenAICaller
from apps.waste.analysis.types import AnalyzerSource, Answer, Classification
from tests.fakes.openai_server import Completion, FakeOpenAIServer, HTTPError, Refusal, Slow
from tests.support.classifications import confident

WATER_BOTTLE = "recyclable/clear_pet/water_bottle"


def classified(category: str, item: str | None = None, conditions: list[str] | None = None) -> Classification:
    return confident(
        category, item, conditions, source=AnalyzerSource.OPENAI, notes="라벨이 붙은 투명한 생수병이에요."
    )


BOTTLE = classified("recyclable/clear_pet", WATER_BOTTLE, ["label_attached", "cap_on"])


BOTTLE_REPLY = "생수병은 무색페트병으로 버려요. 라벨부터 떼어 주세요."


def draft(steps: list[str], reply: str = BOTTLE_REPLY) -> Completion:
    return Completion.of({"steps": steps, "reply": reply})


def personalised(answer: Answer) -> list[str]:
    """A faithful rewrite: every offline step, made specific to the bottle."""
    return [f"생수병은 {step}" for step in answer.steps]


@pytest.fixture
def coach(settings: Settings, caller: OpenAICaller) -> LLMCoach:
    return LLMCoach(settings, caller=caller)


def test_grounded_rewrite_is_used(coach: LLMCoach, fake_openai: FakeOpenAIServer) -> None:
    offline = compose_answer(BOTTLE)
    fake_openai.script(draft(personalised(offline)))

    outcome = coach.compose_with_outcome(BOTTLE)

    assert outcome.written_by == "llm"
    assert outcome.fallback_reason is None
    assert outcome.answer.steps == personalised(offline)
    assert outcome.answer.reply == BOTTLE_REPLY
    # Facts that are data, not prose, come from the knowledge base unchanged.
    assert outcome.answer.prepare == offline.prepare
    assert outcome.answer.insufficiencies == offline.insufficiencies
    assert outcome.answer.exceptions == offline.exceptions
    assert outcome.answer.category_label == "무색페트병"
    assert outcome.answer.classification == BOTTLE


def test_prompt_is_grounded_in_the_rule_and_the_offline_steps(
    coach: LLMCoach, fake_openai: FakeOpenAIServer
) -> None:
    offline = compose_answer(BOTTLE)
    fake_openai.script(draft(personalised(offline)))

    coach.compose(BOTTLE)

    (request,) = fake_openai.requests
    assert request.body["response_format"]["json_schema"]["name"] == "CoachDraft"
    assert request.image_urls == []
    assert rule_for("recyclable/clear_pet").where in request.text
    for number, step in enumerate(offline.steps, start=1):
        assert f"{number}. {step}" in request.text
    assert "라벨이 붙은 투명한 생수병이에요." in request.text


def test_compose_returns_the_outcome_answer(coach: LLMCoach, fake_openai: FakeOpenAIServer) -> None:
    fake_openai.script(draft(personalised(compose_answer(BOTTLE))))

    answer = coach.compose(BOTTLE)

    assert answer.steps[0].startswith("생수병은 ")


def test_recycling_bin_for_general_waste_falls_back(coach: LLMCoach, fake_openai: FakeOpenAIServer) -> None:
    general = classified("general")
    offline = compose_answer(general)
    steps = [*offline.steps[:-1], "깨끗하게 정리해서 분리수거함에 넣으세요."]
    fake_openai.script(draft(steps, reply="일반쓰레기예요. 분리수거함에 넣으면 돼요."))

    outcome = coach.compose_with_outcome(general)

    assert outcome.written_by == "offline"
    assert outcome.fallback_reason == "contradiction"
    assert outcome.answer == offline
    assert any("분리수거함에 넣으면 안 돼요" in problem for problem in outcome.problems)
    assert "the steps name a disposal place the knowledge base does not: 수거함" in outcome.problems


def test_dropping_the_mandatory_label_step_falls_back(coach: LLMCoach, fake_openai: FakeOpenAIServer) -> None:
    offline = compose_answer(BOTTLE)
    steps = [step if "라벨" not in step else "겉면을 한 번 살펴보세요." for step in offline.steps]
    fake_openai.script(draft(steps, reply="생수병은 무색페트병이에요."))

    outcome = coach.compose_with_outcome(BOTTLE)

    assert (outcome.written_by, outcome.fallback_reason) == ("offline", "contradiction")
    assert outcome.answer == offline
    assert any("'label_attached'" in problem for problem in outcome.problems)


def test_a_missing_step_falls_back(coach: LLMCoach, fake_openai: FakeOpenAIServer) -> None:
    offline = compose_answer(BOTTLE)
    fake_openai.script(draft(personalised(offline)[:-1]))

    outcome = coach.compose_with_outcome(BOTTLE)

    assert outcome.fallback_reason == "contradiction"
    assert f"{len(offline.steps) - 1} steps instead of the knowledge base's {len(offline.steps)}" in (
        outcome.problems
    )


def test_changing_where_a_step_sends_the_item_falls_back(
    coach: LLMCoach, fake_openai: FakeOpenAIServer
) -> None:
    paper = classified("recyclable/paper")
    offline = compose_answer(paper)
    steps = [*offline.steps[:-1], "젖지 않게 말려서 일반종량제봉투에 담아 내놓으세요."]
    fake_openai.script(draft(steps, reply="종이는 말려서 버려요."))

    outcome = coach.compose_with_outcome(paper)

    assert outcome.fallback_reason == "contradiction"
    assert f"step {len(steps)} no longer says where: 수거함" in outcome.problems
    assert "the steps name a disposal place the knowledge base does not: 종량제봉투" in outcome.problems


def test_reply_inventing_a_place_falls_back(coach: LLMCoach, fake_openai: FakeOpenAIServer) -> None:
    offline = compose_answer(BOTTLE)
    fake_openai.script(draft(personalised(offline), reply="생수병은 음식물 종량제봉투에 넣어도 돼요."))

    outcome = coach.compose_with_outcome(BOTTLE)

    assert outcome.fallback_reason == "contradiction"
    assert "the reply names a disposal place the knowledge base does not: 음식물 수거" in outcome.problems


def test_overlong_reply_falls_back(coach: LLMCoach, fake_openai: FakeOpenAIServer) -> None:
    fake_openai.script(draft(personalised(compose_answer(BOTTLE)), reply="좋아요. " * 200))

    outcome = coach.compose_with_outcome(BOTTLE)

    assert outcome.fallback_reason == "contradiction"
    assert any("reply" in problem for problem in outcome.problems)


@pytest.mark.parametrize(
    ("behaviour", "reason"),
    [
        (Refusal("I can't help with that."), "refusal"),
        (HTTPError(500), "server_error"),
        (HTTPError(429, retry_after=3), "rate_limited"),
        (Slow(5.0, Refusal()), "timeout"),
        (Completion("not json at all"), "invalid_output"),
        (Completion.of({"steps": ["a"], "reply": "b", "extra": 1}), "invalid_output"),
    ],
    ids=["refusal", "500", "429", "timeout", "not-json", "schema-invalid"],
)
def test_openai_failures_fall_back_to_the_offline_answer(
    coach: LLMCoach, fake_openai: FakeOpenAIServer, behaviour: Any, reason: str
) -> None:
    fake_openai.script(behaviour)

    outcome = coach.compose_with_outcome(BOTTLE)

    assert (outcome.written_by, outcome.fallback_reason) == ("offline", reason)
    assert outcome.answer == compose_answer(BOTTLE)
    assert len(fake_openai.requests) == 1  # one attempt: the offline answer is always ready


def test_without_a_key_the_offline_answer_is_used_and_nothing_is_sent(
    fake_openai: FakeOpenAIServer, settings: Settings
) -> None:
    unconfigured = settings.model_copy(update={"openai_api_key": None})
    coach = LLMCoach(unconfigured, caller=OpenAICaller(unconfigured))

    outcome = coach.compose_with_outcome(BOTTLE)

    assert (outcome.written_by, outcome.fallback_reason) == ("offline", "not_configured")
    assert outcome.answer == compose_answer(BOTTLE)
    assert fake_openai.requests == []


def test_uncertain_classification_is_not_sent_to_the_llm(
    coach: LLMCoach, fake_openai: FakeOpenAIServer
) -> None:
    uncertain = Classification(
        status="uncertain", category=None, confidence=0.3, source=AnalyzerSource.OPENAI
    )

    outcome = coach.compose_with_outcome(uncertain)

    assert (outcome.written_by, outcome.fallback_reason) == ("offline", None)
    assert outcome.answer.needs_hint is True
    assert fake_openai.requests == []


def test_every_offline_answer_passes_the_check_unchanged() -> None:
    """The check never rejects the knowledge base's own answer: every category, item and adjustment."""
    kb = get_knowledge_base()
    cases: list[Classification] = []
    for rule in kb.rules():
        cases.append(classified(rule.category))
        cases.extend(classified(rule.category, conditions=[tag]) for tag in rule.adjustments)
        cases.extend(classified(rule.category, item.key) for item in kb.taxonomy.items_of(rule.category))
    checked = 0
    for classification in cases:
        offline = compose_answer(classification)
        if offline.needs_hint:
            continue
        assert check_draft(CoachDraft(steps=offline.steps, reply=offline.reply), offline) == offline
        checked += 1

    assert checked > 300


def test_check_lists_every_problem_at_once() -> None:
    offline = compose_answer(classified("general"))

    with pytest.raises(DraftRejected) as rejected:
        check_draft(CoachDraft(steps=["분리수거함에 넣으세요."], reply=""), offline)

    problems = rejected.value.problems
    assert any(problem.startswith("1 steps instead of") for problem in problems)
    assert any(problem.startswith("the reply is empty") for problem in problems)
    assert any("contradicts the general rule" in problem for problem in problems)


@pytest.mark.parametrize(
    ("text", "places"),
    [
        ("일반종량제봉투에 담으세요.", {"종량제봉투"}),
        ("음식물 종량제봉투에 넣으세요.", {"음식물 수거"}),
        ("음식물 전용 수거함에 넣으세요.", {"음식물 수거"}),
        ("무색페트병 전용 수거함에 넣으세요.", {"수거함"}),
        ("종이류 분리수거함에 내놓으세요.", {"수거함"}),
        ("불연성 종량제 마대에 넣어요.", {"불연성 마대"}),
        ("폐가전 무상방문수거(1599-0903)를 신청하세요.", {"무상방문수거"}),
        ("스티커를 붙여 내놓으세요.", {"대형폐기물 신고"}),
        ("물로 가볍게 헹구세요.", set()),
    ],
)
def test_places_in_recognises_the_knowledge_base_wording(text: str, places: set[str]) -> None:
    assert places_in(text) == places
