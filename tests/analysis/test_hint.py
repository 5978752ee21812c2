"""Free-text hints → classifications, and merging a hint with the photo's classification."""

from __future__ import annotations

import pytest

from apps.recycling.taxonomy import get_taxonomy
from apps.waste.analysis.hint import MAX_HINT_CONFIDENCE, classify_hint, merge
from apps.waste.analysis.types import AnalyzerSource, Candidate, Classification


def hint(text: str) -> Classification:
    result = classify_hint(text)
    assert result is not None, text
    return result


@pytest.mark.parametrize(
    ("text", "category", "item"),
    [
        ("우유팩", "recyclable/paper_pack", "recyclable/paper_pack/milk_carton"),
        ("우유 팩", "recyclable/paper_pack", "recyclable/paper_pack/milk_carton"),
        ("우유곽", "recyclable/paper_pack", "recyclable/paper_pack/milk_carton"),
        ("깨진 유리", "non_combustible", "non_combustible/broken_glass"),
        ("생수병", "recyclable/clear_pet", "recyclable/clear_pet/water_bottle"),
        ("소주병이요", "recyclable/glass", "recyclable/glass/soju_bottle"),
        ("닭뼈", "food", "food/bone"),
        ("택배 상자", "recyclable/paper", "recyclable/paper/corrugated_cardboard"),
        ("스티로폼", "recyclable/styrofoam", None),
        ("플라스틱", "recyclable/plastic", None),
        ("건전지", "recyclable/battery", None),
        ("CD", "general", "general/cd_dvd"),
        ("알루미늄 캔", "recyclable/metal", "recyclable/metal/aluminum_can"),
    ],
)
def test_clear_hints_are_confident(text: str, category: str, item: str | None):
    result = hint(text)
    assert result.status == "confident"
    assert result.source is AnalyzerSource.HINT
    assert result.category == category
    assert result.item == item
    assert result.confidence == result.candidates[0].probability <= MAX_HINT_CONFIDENCE
    assert result.candidates[0].category == category


def test_condition_words_are_mapped_too():
    broken = hint("깨진 유리")
    assert broken.conditions == ["broken"]
    pet = hint("라벨 있는 페트병")
    assert (pet.status, pet.category, pet.conditions) == (
        "confident",
        "recyclable/clear_pet",
        ["label_attached"],
    )
    assert hint("페트병 라벨 안 뗀 거").conditions == ["label_attached"]
    assert hint("라벨 뗀 페트병").conditions == ["label_removed"]
    carton = hint("우유팩인데 내용물이 조금 남았어요")
    assert carton.item == "recyclable/paper_pack/milk_carton"
    assert carton.conditions == ["contents_remaining"]
    soju = hint("뚜껑 안 뗀 소주병")
    assert soju.conditions == ["cap_on"]
    lamp = hint("깨진 형광등")
    assert lamp.category == "recyclable/lamp"
    assert set(lamp.conditions) == {"broken", "broken_lamp"}
    assert "oil_soiled" in hint("기름 묻은 피자 상자").conditions


def test_not_emptied_is_not_read_as_emptied():
    conditions = hint("안 비운 우유팩").conditions
    assert "contents_remaining" in conditions
    assert "contents_empty" not in conditions


def test_ambiguous_hint_is_uncertain_with_candidates():
    result = hint("페트")
    assert result.status == "uncertain"
    assert result.category is None
    assert {candidate.category for candidate in result.candidates} == {
        "recyclable/clear_pet",
        "recyclable/plastic",
    }
    assert result.confidence < 0.85
    assert sum(candidate.probability for candidate in result.candidates) <= 1.0


def test_typo_next_to_an_exact_word_is_ambiguous_not_wrong():
    # "상자" alone is the corrugated box; "스티로품 상자" is a misspelt 스티로폼 상자. Neither wins outright.
    result = hint("스티로품 상자")
    assert result.status == "uncertain"
    assert {"recyclable/paper", "recyclable/styrofoam"} <= {
        candidate.category for candidate in result.candidates
    }


def test_the_last_noun_names_the_thing():
    toy = hint("배터리가 들어 있는 장난감")
    assert (toy.category, toy.item) == ("general", "general/mixed_material_toy")
    assert toy.conditions == ["battery_included"]
    box = hint("테이프 붙은 스티로폼 박스")
    assert box.category == "recyclable/styrofoam"
    assert box.conditions == ["attachment_present"]
    knife = hint("날카로운 칼")
    assert (knife.item, knife.conditions) == ("general/knife", ["sharp_edges"])


def test_condition_without_a_name_keeps_the_condition():
    result = hint("깨졌어요")
    assert result.status == "uncertain"
    assert result.category is None
    assert result.conditions == ["broken"]
    assert result.candidates == []


@pytest.mark.parametrize("text", ["", "   ", "이거 뭐예요", "zzqx"])
def test_hint_naming_nothing_is_none(text: str):
    assert classify_hint(text) is None


def test_very_long_hint_is_cut_not_rejected():
    result = hint("우유팩 " + "아" * 1000)
    assert result.category == "recyclable/paper_pack"


# --- merge ---------------------------------------------------------------------------------------------


def image(
    status: str = "confident",
    category: str | None = "recyclable/glass",
    confidence: float = 0.9,
    candidates: list[tuple[str, float]] | None = None,
    conditions: list[str] | None = None,
) -> Classification:
    return Classification.model_validate(
        {
            "status": status,
            "category": category,
            "confidence": confidence,
            "candidates": [Candidate(category=key, probability=p) for key, p in (candidates or [])],
            "conditions": conditions or [],
            "source": AnalyzerSource.EMBEDDED,
        }
    )


def test_no_hint_keeps_the_image():
    photo = image()
    assert merge(photo, None) is photo


def test_confident_hint_wins_over_uncertain_image():
    photo = image(
        "uncertain", None, 0.4, [("recyclable/paper", 0.4), ("recyclable/plastic", 0.3)], ["dented"]
    )
    merged = merge(photo, hint("라벨 있는 페트병"))
    assert merged.status == "confident"
    assert merged.category == "recyclable/clear_pet"
    assert merged.source is AnalyzerSource.HINT
    assert merged.conditions == ["dented", "label_attached"]
    assert [candidate.category for candidate in merged.candidates][:1] == ["recyclable/clear_pet"]
    assert "recyclable/paper" in {candidate.category for candidate in merged.candidates}


def test_confident_hint_overrides_a_conflicting_confident_image():
    photo = image("confident", "recyclable/glass", 0.8, [("recyclable/glass", 0.8)])
    merged = merge(photo, hint("생수병"))
    assert merged.category == "recyclable/clear_pet"
    assert merged.item == "recyclable/clear_pet/water_bottle"
    assert merged.source is AnalyzerSource.HINT
    assert merged.notes is not None and "'recyclable/glass'" in merged.notes


def test_agreeing_hint_raises_confidence_and_adds_the_item():
    photo = image("confident", "recyclable/glass", 0.7, [("recyclable/glass", 0.7)], ["label_attached"])
    merged = merge(photo, hint("깨지지 않은 소주병"))
    assert merged.category == "recyclable/glass"
    assert merged.item == "recyclable/glass/soju_bottle"
    assert merged.source is AnalyzerSource.EMBEDDED
    assert merged.confidence > 0.7


def test_agreeing_hint_makes_a_major_category_specific():
    photo = image("confident", "recyclable", 0.7, [("recyclable", 0.7)])
    merged = merge(photo, hint("우유팩"))
    assert merged.category == "recyclable/paper_pack"
    assert merged.item == "recyclable/paper_pack/milk_carton"


def test_uncertain_hint_does_not_override_a_confident_image():
    photo = image("confident", "recyclable/plastic", 0.8, [("recyclable/plastic", 0.8)])
    merged = merge(photo, hint("페트"))
    assert merged.category == "recyclable/plastic"
    assert merged.status == "confident"


def test_condition_only_hint_adds_conditions_to_the_image():
    photo = image("confident", "recyclable/glass", 0.8, conditions=["label_attached"])
    merged = merge(photo, hint("깨졌어요"))
    assert merged.category == "recyclable/glass"
    assert merged.conditions == ["label_attached", "broken"]


def test_two_unsure_sources_that_agree_become_confident():
    photo = image("uncertain", None, 0.45, [("recyclable/clear_pet", 0.45), ("recyclable/glass", 0.35)])
    merged = merge(photo, hint("페트"), threshold=0.6)
    assert merged.status == "confident"
    assert merged.category == "recyclable/clear_pet"
    assert merged.confidence >= 0.6


def test_two_unsure_sources_that_disagree_stay_uncertain():
    photo = image("uncertain", None, 0.4, [("recyclable/paper", 0.4), ("recyclable/glass", 0.3)])
    merged = merge(photo, hint("페트"), threshold=0.6)
    assert merged.status == "uncertain"
    assert merged.category is None
    assert {"recyclable/paper", "recyclable/clear_pet"} <= {
        candidate.category for candidate in merged.candidates
    }


def test_every_item_name_as_a_hint_names_its_own_category():
    """Each label and alias, typed alone, confidently names the item's category; only names the taxonomy
    deliberately shares between categories (식품용기) stay uncertain, listing both."""
    taxonomy = get_taxonomy()
    shared = {"식품용기"}
    for item in taxonomy.items():
        for name in (item.label, *item.aliases):
            result = hint(name)
            if name in shared:
                assert result.status == "uncertain", name
                assert item.category in {candidate.category for candidate in result.candidates}
                continue
            assert result.status == "confident", name
            assert result.category in {item.category, taxonomy.category(item.category).parent}, name


def test_merged_candidates_never_sum_above_one():
    photo = image(
        "confident", "recyclable/glass", 0.8, [("recyclable/glass", 0.8), ("recyclable/clear_pet", 0.15)]
    )
    for merged in (
        merge(photo, hint("생수병")),
        merge(photo, hint("소주병")),
        merge(
            image("uncertain", None, 0.5, [("recyclable/clear_pet", 0.5), ("recyclable/plastic", 0.4)]),
            hint("페트"),
        ),
    ):
        probabilities = [candidate.probability for candidate in merged.candidates]
        assert sum(probabilities) <= 1.0 + 1e-6
        assert probabilities == sorted(probabilities, reverse=True)
        assert len({candidate.category for candidate in merged.candidates}) == len(merged.candidates)


def test_image_with_an_unknown_category_does_not_break_the_merge():
    photo = image("confident", "recyclable/made_up", 0.9, [("recyclable/made_up", 0.9)])
    merged = merge(photo, hint("우유팩"))
    assert merged.category == "recyclable/paper_pack"
    assert merge(photo, hint("깨졌어요")).conditions == ["broken"]
