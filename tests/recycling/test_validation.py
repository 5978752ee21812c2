"""validate_answer: an answer that disagrees with the knowledge base is caught, one problem per finding."""

from __future__ import annotations

import pytest

from apps.recycling.validation import validate_answer
from apps.waste.analysis.coach import compose_answer
from apps.waste.analysis.types import AnalyzerSource, Answer, Candidate, Classification
from tests.support.classifications import confident


@pytest.fixture
def pet_with_label() -> Answer:
    return compose_answer(
        confident("recyclable/clear_pet", "recyclable/clear_pet/water_bottle", ["label_attached"])
    )


def test_offline_answers_are_consistent(pet_with_label: Answer):
    assert validate_answer(pet_with_label) == []
    assert validate_answer(compose_answer(confident("recyclable/glass", None, ["broken_glass_bottle"]))) == []
    assert validate_answer(compose_answer(confident("food", "food/bone"))) == []


def test_wrong_destination_label_is_reported(pet_with_label: Answer):
    wrong = pet_with_label.model_copy(update={"category_label": "플라스틱류"})
    problems = validate_answer(wrong)
    assert problems == [
        "category_label is '플라스틱류', but the knowledge base sends this to "
        "'무색페트병' (recyclable/clear_pet)"
    ]


def test_bone_labelled_as_food_waste_is_reported():
    answer = compose_answer(confident("food", "food/bone")).model_copy(
        update={"category_label": "음식물류폐기물"}
    )
    assert any("sends this to '일반종량제폐기물'" in problem for problem in validate_answer(answer))


def test_ignoring_a_detected_condition_is_reported(pet_with_label: Answer):
    no_label_step = [step for step in pet_with_label.steps if "라벨" not in step]
    answer = pet_with_label.model_copy(update={"steps": no_label_step, "insufficiencies": []})
    problems = validate_answer(answer)
    assert "condition 'label_attached' is not addressed (expected a mention matching /라벨/)" in problems
    assert "the detected conditions leave things undone, but insufficiencies is empty" in problems


def test_contradicting_statement_is_reported(pet_with_label: Answer):
    steps = [*pet_with_label.steps[:-1], "뚜껑은 분리해서 따로 버리세요.", pet_with_label.steps[-1]]
    problems = validate_answer(pet_with_label.model_copy(update={"steps": steps}))
    assert problems == [
        "contradicts the recyclable/clear_pet rule: 무색페트병은 찌그러뜨린 뒤 뚜껑을 닫아서 배출해요."
    ]


def test_battery_in_the_general_bag_is_reported():
    answer = compose_answer(confident("recyclable/battery"))
    wrong = answer.model_copy(update={"reply": "다 쓴 건전지는 종량제봉투에 넣으세요."})
    assert any("화재 위험" in problem for problem in validate_answer(wrong))


def test_unknown_keys_are_reported(pet_with_label: Answer):
    classification = pet_with_label.classification.model_copy(
        update={
            "item": "recyclable/clear_pet/nope",
            "conditions": ["label_attached", "sparkly"],
            "candidates": [Candidate(category="compost", probability=0.1)],
        }
    )
    problems = validate_answer(pet_with_label.model_copy(update={"classification": classification}))
    assert "unknown condition 'sparkly'" in problems
    assert "unknown candidate category 'compost'" in problems
    assert "unknown item 'recyclable/clear_pet/nope'" in problems


def test_unknown_category_and_item_outside_category_are_reported(pet_with_label: Answer):
    unknown = pet_with_label.classification.model_copy(update={"category": "landfill", "item": None})
    assert validate_answer(pet_with_label.model_copy(update={"classification": unknown})) == [
        "unknown category 'landfill'"
    ]
    outside = pet_with_label.classification.model_copy(update={"item": "food/bone"})
    problems = validate_answer(pet_with_label.model_copy(update={"classification": outside}))
    assert "item 'food/bone' is not in category 'recyclable/clear_pet'" in problems


def test_uncertain_answer_must_ask_and_not_instruct():
    uncertain = Classification(
        status="uncertain", category=None, confidence=0.3, source=AnalyzerSource.EMBEDDED, candidates=[]
    )
    assert validate_answer(compose_answer(uncertain)) == []
    guessing = Answer(
        classification=uncertain,
        category_label="종이",
        steps=["종이류 수거함에 넣으세요."],
        reply="종이예요.",
    )
    assert validate_answer(guessing) == [
        "an uncertain classification must ask for a hint (needs_hint)",
        "an uncertain classification must not give disposal steps",
    ]


def test_confident_answer_without_steps_is_reported(pet_with_label: Answer):
    problems = validate_answer(pet_with_label.model_copy(update={"steps": []}))
    assert "a confident answer needs disposal steps" in problems


def test_unclassified_must_ask_for_a_hint():
    answer = compose_answer(confident("unclassified"))
    assert validate_answer(answer) == []
    assert validate_answer(answer.model_copy(update={"needs_hint": False})) == [
        "an unclassified thing must ask for a hint (needs_hint)"
    ]
