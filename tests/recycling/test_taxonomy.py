"""The taxonomy and situation tags as shipped: complete, deduplicated, keyed as the contract says."""

from __future__ import annotations

import re

import pytest

from apps.recycling.taxonomy import TagGroup, UnknownKeyError, get_situation_tags, get_taxonomy, label

MAJOR_KEYS = {
    "recyclable": "재활용폐기물",
    "general": "일반종량제폐기물",
    "non_combustible": "불연성종량제폐기물",
    "food": "음식물류폐기물",
    "bulky": "대형폐기물",
    "construction": "공사장생활폐기물",
    "hazardous": "생활계유해폐기물",
    "unclassified": "미분류",
}
RECYCLABLE_KEYS = {
    "paper": "종이",
    "paper_pack": "종이팩",
    "clear_pet": "무색페트병",
    "plastic": "플라스틱류",
    "vinyl": "비닐류",
    "styrofoam": "발포합성수지",
    "glass": "유리병",
    "metal": "금속류",
    "textile": "의류및원단",
    "battery": "전지",
    "lamp": "조명제품",
    "electronics": "전기전자제품",
}


def test_major_categories_have_the_contract_keys_and_labels():
    taxonomy = get_taxonomy()
    assert {category.key: category.label for category in taxonomy.major_categories()} == MAJOR_KEYS


def test_recyclable_subcategories_have_the_contract_keys_and_labels():
    taxonomy = get_taxonomy()
    children = taxonomy.category("recyclable").children
    assert {key: taxonomy.label(key) for key in children} == {
        f"recyclable/{key}": value for key, value in RECYCLABLE_KEYS.items()
    }


def test_item_keys_extend_their_category_key():
    taxonomy = get_taxonomy()
    for item in taxonomy.items():
        assert item.key.startswith(item.category + "/")
        assert re.fullmatch(r"[a-z][a-z0-9_]*", item.key.rsplit("/", 1)[1])
        assert item.key in taxonomy.category(item.category).items


def test_source_duplicates_are_merged_into_one_item_with_aliases():
    taxonomy = get_taxonomy()
    labels = [item.label for item in taxonomy.items()]
    assert len(labels) == len(set(labels))
    by_name: dict[str, set[str]] = {}
    for item in taxonomy.items():
        for name in (item.label, *item.aliases):
            by_name.setdefault(name, set()).add(item.key)
    # CD/DVD was spelled three ways in the source; 오염배달용기 twice; 내열유리/도자기 twice.
    assert by_name["CD/DVD"] == by_name["CD · DVD"] == {"general/cd_dvd"}
    assert by_name["오염배달용기"] == by_name["오염된 배달용기"] == {"general/soiled_delivery_container"}
    assert by_name["혼합재질 플라스틱"] == {"general/mixed_material_plastic"}
    assert by_name["내열유리"] == {"non_combustible/heat_resistant_glass"}
    assert by_name["도자기"] == {"non_combustible/ceramics"}
    # 식품용기 was listed under two 중분류: it stays findable under both, as one item each.
    assert by_name["식품용기"] == {
        "recyclable/plastic/food_container",
        "recyclable/styrofoam/foam_food_container",
    }


def test_hazardous_and_unclassified_exist():
    taxonomy = get_taxonomy()
    hazardous = {item.key for item in taxonomy.items_of("hazardous")}
    assert {
        "hazardous/pesticide",
        "hazardous/paint",
        "hazardous/adhesive",
        "hazardous/unused_medicine",
    } <= hazardous
    assert taxonomy.category("unclassified").label == "미분류"


def test_items_that_are_not_food_waste_point_to_the_general_bag():
    taxonomy = get_taxonomy()
    for key in ("food/bone", "food/fruit_stone", "food/shellfish_shell", "food/eggshell", "food/tea_leaves"):
        assert taxonomy.item(key).disposal_category == "general"
    assert taxonomy.item("food/leftover_food").disposal_category == "food"


def test_items_of_a_major_category_include_its_subcategories():
    taxonomy = get_taxonomy()
    recyclable = taxonomy.items_of("recyclable")
    assert len(recyclable) == sum(
        len(taxonomy.items_of(child)) for child in taxonomy.category("recyclable").children
    )
    assert taxonomy.item("recyclable/paper_pack/milk_carton") in recyclable


def test_lookups_of_unknown_keys_name_the_key():
    taxonomy = get_taxonomy()
    with pytest.raises(UnknownKeyError, match="unknown category key: 'recyclable/nope'"):
        taxonomy.category("recyclable/nope")
    with pytest.raises(UnknownKeyError, match="unknown item key"):
        taxonomy.item("general/nope")
    with pytest.raises(KeyError):
        label("nope")


def test_label_covers_categories_items_and_tags():
    assert label("recyclable/paper_pack") == "종이팩"
    assert label("recyclable/paper_pack/milk_carton") == "우유팩"
    assert label("label_attached") == "라벨이 붙어 있음"


def test_situation_tags_cover_every_group_and_resolve_source_names():
    tags = get_situation_tags()
    assert {tag.group for tag in tags} == set(TagGroup)
    assert len(tags) >= 70
    assert tags.resolve("라벨_부착") == "label_attached"
    assert tags.resolve("내용물_일부_남음") == "contents_remaining"
    assert tags.resolve("깨짐") == "broken"
    assert tags.resolve("label_attached") == "label_attached"
    assert tags.resolve("없는_태그") is None
    assert {tag.key for tag in tags if tag.group is TagGroup.STYROFOAM} == {
        "styrofoam_attachment",
        "styrofoam_tape",
        "styrofoam_attachment_removal_needed",
    }


def test_loaded_data_is_frozen():
    item = get_taxonomy().item("recyclable/paper_pack/milk_carton")
    with pytest.raises(ValueError, match="frozen"):
        item.label = "changed"  # type: ignore[misc]
