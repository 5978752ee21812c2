"""The offline coach: answers composed from the knowledge base, adapted to the detected conditions."""

from __future__ import annotations

import pytest

from apps.recycling.rules import rule_for
from apps.recycling.taxonomy import get_situation_tags, get_taxonomy
from apps.recycling.validation import validate_answer
from apps.waste.analysis.coach import HINT_REQUEST, compose_answer, with_copula, with_direction, with_topic
from apps.waste.analysis.hint import classify_hint, merge
from apps.waste.analysis.types import AnalyzerSource, Candidate, Classification
from tests.support.classifications import confident


def test_label_on_gives_a_label_step_and_says_it_is_not_done():
    answer = compose_answer(
        confident("recyclable/clear_pet", "recyclable/clear_pet/water_bottle", ["label_attached"])
    )
    assert answer.category_label == "무색페트병"
    assert any("라벨" in step for step in answer.steps)
    assert answer.insufficiencies == ["라벨이 아직 붙어 있어요."]
    assert answer.reply.startswith("먹는샘물PET병은 무색페트병이에요.")
    assert "라벨이 아직 붙어 있어요." in answer.reply
    assert answer.needs_hint is False


def test_contents_left_means_empty_first_then_rinse():
    answer = compose_answer(confident("recyclable/plastic", None, ["contents_remaining", "food_soiled"]))
    assert "비우" in answer.steps[0]
    assert "헹궈" in answer.steps[2] or "헹궈" in answer.steps[1]
    assert answer.insufficiencies == ["내용물이 조금 남아 있어요.", "음식물이 묻어 있어요."]
    assert "(그 밖에 1가지 더)" in answer.reply


def test_clear_pet_with_cap_on_is_not_told_to_remove_the_cap():
    answer = compose_answer(confident("recyclable/clear_pet", None, ["cap_on"]))
    assert answer.insufficiencies == []
    assert any("뚜껑을 닫으세요" in step for step in answer.steps)
    assert not any("분리" in step and "뚜껑" in step for step in answer.steps)


def test_other_plastic_with_cap_on_is_told_to_separate_it():
    answer = compose_answer(confident("recyclable/plastic", None, ["cap_on"]))
    assert "뚜껑이 아직 달려 있어요." in answer.insufficiencies
    assert any("뚜껑" in step for step in answer.steps)


def test_nothing_left_to_do_gives_the_plain_rule():
    answer = compose_answer(confident("recyclable/paper_pack"))
    assert answer.steps == [step.text for step in rule_for("recyclable/paper_pack").steps]
    assert answer.insufficiencies == []
    assert answer.prepare == list(rule_for("recyclable/paper_pack").prepare)
    assert answer.exceptions == ["일반 종이(신문·상자 등) → 종이: 종이팩과 섞지 말고 종이류로 내놓아요."]
    assert answer.reply == "종이팩으로 배출해요. 아래 순서대로 버리면 돼요."


def test_broken_bottle_goes_to_the_non_combustible_bag():
    answer = compose_answer(confident("recyclable/glass", None, ["broken_glass_bottle"]))
    assert answer.category_label == "불연성종량제폐기물"
    assert "불연성" in answer.steps[0]
    assert answer.reply.startswith(
        "유리병은 불연성종량제폐기물로 버려야 해요. 깨진 유리병은 재활용되지 않아요."
    )


def test_item_that_is_not_food_waste_is_explained():
    answer = compose_answer(confident("food", "food/bone"))
    assert answer.category_label == "일반종량제폐기물"
    assert answer.reply.startswith("뼈는 일반종량제폐기물로 버려야 해요. 뼈는 음식물류폐기물이 아니에요.")


def test_item_note_is_part_of_the_reply():
    answer = compose_answer(confident("recyclable/glass", "recyclable/glass/soju_bottle"))
    assert "보증금" in answer.reply


def test_gas_can_gets_gas_release_first():
    answer = compose_answer(
        confident("recyclable/metal", "recyclable/metal/aerosol_can", ["gas_remaining_suspected"])
    )
    assert "가스" in answer.steps[0]
    assert "가스가 남아 있을 수 있어요." in answer.insufficiencies


def test_uncertain_classification_asks_for_a_hint_and_lists_candidates():
    uncertain = Classification(
        status="uncertain",
        category=None,
        confidence=0.4,
        candidates=[
            Candidate(category="recyclable/paper_pack", probability=0.4),
            Candidate(category="recyclable/paper", probability=0.3),
            Candidate(category="unclassified", probability=0.1),
            Candidate(category="not_a_category", probability=0.1),
        ],
        source=AnalyzerSource.EMBEDDED,
    )
    answer = compose_answer(uncertain)
    assert answer.needs_hint is True
    assert answer.steps == []
    assert answer.category_label is None
    assert HINT_REQUEST in answer.reply
    assert answer.reply.endswith("혹시 종이팩 또는 종이 중 하나인가요?")


def test_uncertain_without_candidates_just_asks():
    answer = compose_answer(
        Classification(status="uncertain", category=None, confidence=0.1, source=AnalyzerSource.EMBEDDED)
    )
    assert answer.needs_hint is True
    assert answer.reply == f"사진만으로는 무엇인지 확실하지 않아요. {HINT_REQUEST}"


def test_confident_but_unknown_category_asks_for_a_hint():
    answer = compose_answer(confident("landfill"))
    assert answer.needs_hint is True
    assert answer.steps == []


def test_unclassified_asks_for_a_hint_but_says_how_to_look_it_up():
    answer = compose_answer(confident("unclassified"))
    assert answer.needs_hint is True
    assert answer.category_label == "미분류"
    assert any("wasteguide.or.kr" in step for step in answer.steps)
    assert HINT_REQUEST in answer.reply


def test_photo_plus_hint_end_to_end():
    photo = Classification(
        status="uncertain",
        category=None,
        confidence=0.35,
        candidates=[Candidate(category="recyclable/paper", probability=0.35)],
        conditions=["contents_remaining"],
        source=AnalyzerSource.EMBEDDED,
    )
    answer = compose_answer(merge(photo, classify_hint("우유팩")))
    assert answer.category_label == "종이팩"
    assert answer.reply.startswith("우유팩은 종이팩이에요.")
    assert "비우" in answer.steps[0]
    assert answer.insufficiencies == ["내용물이 조금 남아 있어요."]


@pytest.mark.parametrize("category", [category.key for category in get_taxonomy().categories()])
def test_every_category_and_condition_gives_a_consistent_answer(category: str):
    """The offline coach never says anything the knowledge base would flag, for any single condition."""
    for tag in [None, *(tag.key for tag in get_situation_tags())]:
        answer = compose_answer(confident(category, None, [tag] if tag else []))
        assert answer.steps, (category, tag)
        assert validate_answer(answer) == [], (category, tag)


@pytest.mark.parametrize(
    ("function", "word", "expected"),
    [
        (with_topic, "우유팩", "우유팩은"),
        (with_topic, "종이", "종이는"),
        (with_topic, "TV", "TV는"),
        (with_copula, "종이팩", "종이팩이에요"),
        (with_copula, "금속류", "금속류예요"),
        (with_direction, "종이팩", "종이팩으로"),
        (with_direction, "금속류", "금속류로"),
        (with_direction, "유리병", "유리병으로"),
        (with_direction, "대형폐기물", "대형폐기물로"),
    ],
)
def test_particles_follow_the_final_consonant(function, word: str, expected: str):
    assert function(word) == expected


def test_a_paper_answer_points_paper_packs_to_their_own_bin() -> None:
    # The embedded classifier cannot tell a milk carton from paper (docs/classifier.md): the answer must.
    answer = compose_answer(confident("recyclable/paper"))
    assert any(line.startswith("우유·주스·두유 같은 종이팩 → 종이팩") for line in answer.exceptions)
