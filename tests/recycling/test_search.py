"""Item search: Korean, partial, spacing- and spelling-tolerant, ranked."""

from __future__ import annotations

import pytest

from apps.recycling.matching import final_consonant, normalize, to_jamo
from apps.recycling.service import MAX_LIMIT, search_items


def keys(query: str, limit: int = 10) -> list[str]:
    return [match.key for match in search_items(query, limit)]


def test_normalize_folds_spacing_case_and_spelling_variants():
    assert normalize(" 우유  팩 ") == "우유팩"
    assert normalize("PET병") == normalize("패트병") == "페트병"
    assert normalize("CD · DVD") == "cddvd"
    assert normalize("!!") == ""


def test_to_jamo_decomposes_syllables():
    assert to_jamo("폼") == "ㅍㅗㅁ"
    assert to_jamo("스티로품") == "ㅅㅡㅌㅣㄹㅗㅍㅜㅁ"
    assert to_jamo("a1") == "a1"


@pytest.mark.parametrize(
    ("word", "final"),
    [
        ("우유팩", "ㄱ"),
        ("종이", ""),
        ("금속류", ""),
        ("물", "ㄹ"),
        ("TV", ""),
        ("LED평판형", "ㅇ"),
        ("CDROM", "ㅁ"),
    ],
)
def test_final_consonant(word: str, final: str):
    assert final_consonant(word) == final


def test_spacing_does_not_matter():
    results = search_items("우유 팩")
    assert results[0].key == "recyclable/paper_pack/milk_carton"
    assert results[0].score == 1.0
    assert results[0].category_label == "종이팩"


def test_partial_name_finds_the_pet_items():
    found = keys("페트")
    assert {
        "recyclable/clear_pet/water_bottle",
        "recyclable/clear_pet/beverage_bottle",
        "recyclable/clear_pet/juice_bottle",
        "recyclable/plastic/pet_container",
    } <= set(found[:4])


def test_category_name_finds_all_its_items_direct_hits_first():
    found = keys("스티로폼")
    assert set(found) == {
        "recyclable/styrofoam/foam_food_container",
        "recyclable/styrofoam/fruit_tray",
        "recyclable/styrofoam/electronics_packaging",
        "recyclable/styrofoam/insulation",
    }
    results = search_items("배터리")
    assert {match.category for match in results} == {"recyclable/battery"}
    assert len(results) == 7
    # 보조배터리 and 자동차 배터리 contain the word; the other batteries are found through their category.
    assert {match.key for match in results[:2]} == {
        "recyclable/battery/lithium_ion_battery",
        "recyclable/battery/lead_acid_battery",
    }
    assert all(match.matched_name == "배터리" for match in results[2:])
    assert results[2].score < results[1].score


def test_a_typo_still_finds_the_item():
    assert set(keys("스티로품")[:3]) >= {
        "recyclable/styrofoam/foam_food_container",
        "recyclable/styrofoam/electronics_packaging",
    }
    assert keys("알루미늄 켄")[0] == "recyclable/metal/aluminum_can"
    assert keys("형관등")[0].startswith("recyclable/lamp/")
    assert keys("플라스틱 뚜겅")[0] == "recyclable/plastic/plastic_cap"


def test_aliases_and_merged_spellings_are_searchable():
    assert keys("우유곽")[0] == "recyclable/paper_pack/milk_carton"
    assert keys("CD · DVD")[0] == "general/cd_dvd"
    assert keys("택배 상자")[0] == "recyclable/paper/corrugated_cardboard"
    match = search_items("생수병")[0]
    assert match.key == "recyclable/clear_pet/water_bottle"
    assert match.matched_name == "생수병"


def test_exact_match_ranks_above_partial_matches():
    results = search_items("소주병")
    assert results[0].key == "recyclable/glass/soju_bottle"
    assert all(result.score < 1.0 for result in results[1:])
    scores = [result.score for result in search_items("유리")]
    assert scores == sorted(scores, reverse=True)


def test_items_that_go_elsewhere_report_their_disposal_category():
    match = search_items("닭뼈")[0]
    assert match.key == "food/bone"
    assert match.disposal_category == "general"


def test_short_queries_do_not_produce_fuzzy_noise():
    # "벨트" is one jamo edit away from "페트" but must not match a two-syllable query.
    assert "recyclable/textile/belt" not in keys("페트", MAX_LIMIT)


def test_nothing_matches_nonsense_or_empty_queries():
    assert search_items("zzqx") == []
    assert search_items("") == []
    assert search_items("   ") == []


def test_limit_is_respected_and_clamped():
    assert len(search_items("유리", limit=2)) == 2
    assert len(search_items("재활용", limit=1000)) == MAX_LIMIT
    assert len(search_items("유리", limit=0)) == 1
