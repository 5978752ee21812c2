"""Each situation tag with hint patterns is recognised in a natural phrase; negations are respected."""

from __future__ import annotations

import pytest

from apps.recycling.taxonomy import get_situation_tags
from apps.waste.analysis.hint import classify_hint

EXAMPLES = {
    "contents_present": "우유가 그대로 들어 있는 팩",
    "contents_empty": "다 비운 페트병",
    "contents_remaining": "음료가 조금 남은 캔",
    "soiled_light": "살짝 더러운 플라스틱 용기",
    "soiled_moderate": "더러운 비닐",
    "soiled_heavy": "너무 더러운 배달용기",
    "food_soiled": "양념이 묻은 반찬통",
    "oil_soiled": "기름 묻은 종이",
    "chemical_soiled": "세제가 묻은 통",
    "dried_soiling": "소스가 말라붙은 용기",
    "food_residue_heavy": "음식이 많이 남은 도시락 용기",
    "needs_rinse": "안 씻은 우유팩",
    "unrinseable_structure": "치약 튜브",
    "needs_drying": "젖은 신문지",
    "odor_or_rot": "냄새 나는 음식물",
    "label_attached": "라벨이 붙은 페트병",
    "label_partly_removed": "라벨이 반만 남은 페트병",
    "label_removed": "라벨을 다 뗀 페트병",
    "cap_on": "뚜껑 닫힌 병",
    "cap_off": "뚜껑 없는 병",
    "pump_container": "펌프 달린 샴푸통",
    "attachment_present": "빨대가 꽂힌 두유팩",
    "foreign_matter_attached": "이물질 묻은 스티로폼",
    "mixed_material_confirmed": "여러 재질로 된 장난감",
    "mixed_material_fixed": "분리가 안 되는 용기",
    "broken": "부서진 의자",
    "broken_glass_bottle": "깨진 맥주병",
    "damaged": "고장난 선풍기",
    "dented": "찌그러진 캔",
    "torn": "찢어진 비닐봉지",
    "heat_deformed": "녹은 플라스틱",
    "delivery_container": "배달 용기",
    "soiled_delivery_container": "기름 묻은 배달 용기",
    "heavy_grease": "기름기가 많은 용기",
    "mixed_with_food": "음식물과 섞인 비닐",
    "chemical_container_suspected": "페인트 통",
    "gas_remaining_suspected": "가스가 남은 부탄가스",
    "battery_included": "배터리가 들어 있는 장난감",
    "power_cord": "전선이 달린 오디오",
    "heat_or_char_marks": "부풀어 오른 보조배터리",
    "sharp_edges": "날카로운 캔 뚜껑",
    "led_module": "평판 LED 조명",
    "broken_lamp": "깨진 형광등",
    "paired_item": "운동화 한 켤레",
    "bulky_suspected": "커다란 쿠션",
}


def test_every_tag_with_hint_patterns_has_an_example():
    assert set(EXAMPLES) == {tag.key for tag in get_situation_tags() if tag.hint_patterns}


@pytest.mark.parametrize(("tag", "phrase"), sorted(EXAMPLES.items()))
def test_hint_phrase_maps_to_its_tag(tag: str, phrase: str):
    result = classify_hint(phrase)
    assert result is not None
    assert tag in result.conditions, (phrase, result.conditions)


@pytest.mark.parametrize(
    ("phrase", "absent"),
    [
        ("안 비운 우유팩", "contents_empty"),
        ("라벨 안 뗀 페트병", "label_removed"),
        ("라벨 뗀 페트병", "label_attached"),
        ("조금 더러운 용기", "soiled_moderate"),
        ("많이 더러운 용기", "soiled_moderate"),
        ("큰 스크래치 난 용기", "bulky_suspected"),
    ],
)
def test_negated_or_graded_phrases_do_not_add_the_opposite_tag(phrase: str, absent: str):
    result = classify_hint(phrase)
    assert result is not None
    assert absent not in result.conditions
