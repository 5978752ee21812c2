from __future__ import annotations

import pytest

from apps.locations.categories import (
    UnknownCategoryError,
    category_for_item,
    category_keys,
    category_matches,
    validate_category,
)
from apps.locations.dataset import load_dataset
from apps.locations.kakao import keyword_for_category


@pytest.mark.parametrize(
    ("item", "category"),
    [
        ("투명페트병", "recyclable/clear_pet"),
        ("투명페트명", "recyclable/clear_pet"),  # typo in the source
        ("투명패트병", "recyclable/clear_pet"),
        ("투명pet", "recyclable/clear_pet"),
        ("무색페트병(투명페트병", "recyclable/clear_pet"),
        ("유색페트병", "recyclable/plastic"),
        ("PET(유색)", "recyclable/plastic"),
        ("판PET", "recyclable/plastic"),
        ("기타플라스틱류(OTHER, PE, PS, 판PET)", "recyclable/plastic"),
        ("PP(햇반용기)", "recyclable/plastic"),
        ("(플리스틱류)", "recyclable/plastic"),
        ("블럭류 장난감", "recyclable/plastic"),
        ("PE비닐", "recyclable/vinyl"),
        ("(비닐류)", "recyclable/vinyl"),
        ("종이팩(멸균팩포함)", "recyclable/paper_pack"),
        ("우유팩", "recyclable/paper_pack"),
        ("종이박스", "recyclable/paper"),
        ("서적 및 신문지류", "recyclable/paper"),
        ("알루미늄 캔", "recyclable/metal"),
        ("(캔류((음료))", "recyclable/metal"),
        ("고철", "recyclable/metal"),
        ("투명, 갈색,녹색병", "recyclable/glass"),
        ("소주병", "recyclable/glass"),
        ("외류 외(가방, 신발)", "recyclable/textile"),
        ("(중고의류)", "recyclable/textile"),
        ("(폐건전지 교환) 폐건전지 20개<->새건전지 2개", "recyclable/battery"),
        ("폐형광등", "recyclable/lamp"),
    ],
)
def test_item_text_maps_to_category(item, category):
    assert category_for_item(item) == category


def test_unrecognised_item_maps_to_nothing():
    assert category_for_item("음식물") is None


def test_every_item_in_the_embedded_data_is_mapped():
    assert load_dataset().unmapped_items == frozenset()


def test_every_mapped_category_and_kakao_keyword_key_is_a_taxonomy_key():
    keys = set(category_keys())
    mapped = {c for p in load_dataset().points for c in p.accepted_categories}
    assert mapped <= keys
    assert all(keyword_for_category(k) is None or k in keys for k in keys)


def test_validate_category_names_valid_keys():
    assert validate_category("recyclable/paper_pack") == "recyclable/paper_pack"
    with pytest.raises(UnknownCategoryError) as excinfo:
        validate_category("recyclable/paperpack")
    assert "recyclable/paper_pack" in str(excinfo.value)
    assert "general" in str(excinfo.value)


def test_item_keys_are_not_category_keys():
    with pytest.raises(UnknownCategoryError):
        validate_category("recyclable/paper_pack/milk_carton")


def test_major_category_matches_its_subcategories():
    accepted = frozenset({"recyclable/metal"})
    assert category_matches("recyclable", accepted)
    assert category_matches("recyclable/metal", accepted)
    assert not category_matches("recyclable/paper", accepted)
    assert not category_matches("general", accepted)
    assert not category_matches("recyclable", frozenset())


@pytest.mark.parametrize(
    ("category", "keyword"),
    [
        (None, "자원순환가게"),
        ("recyclable/metal", "고물상"),
        ("recyclable/battery", "주민센터"),
        ("hazardous", "주민센터"),
        ("bulky", "재활용센터"),
        ("general", None),
        ("food", None),
    ],
)
def test_kakao_keyword_per_category(category, keyword):
    assert keyword_for_category(category) == keyword
