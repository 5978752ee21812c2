"""Mapping KECO accepted-item text (``clctItemCn``) to taxonomy category keys (``apps.recycling.taxonomy``).

KECO lists what a point takes back as free text, one item per line, with typos and group headers
(``(캔류)``, ``투명페트명``, ``(플리스틱류)``). Each line is normalised (lower-cased, whitespace removed) and
matched against ordered keyword rules; the first rule that matches decides the category. Order matters:
colourless PET before other PET, any PET before glass bottles (``페트병`` contains ``병``), vinyl before
the bare ``pe`` plastic code.
"""

from __future__ import annotations

import re

from apps.recycling.taxonomy import get_taxonomy

RECYCLABLE = "recyclable"


class UnknownCategoryError(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(f"unknown category {key!r}; valid keys: {', '.join(category_keys())}")
        self.key = key


def category_keys() -> list[str]:
    """Every taxonomy category key (대분류 and 재활용 중분류), in taxonomy order."""
    return [category.key for category in get_taxonomy().categories()]


def validate_category(key: str) -> str:
    """Return ``key`` if it is a taxonomy category key, else raise UnknownCategoryError."""
    if not get_taxonomy().has_category(key):
        raise UnknownCategoryError(key)
    return key


def category_matches(requested: str, accepted: frozenset[str]) -> bool:
    """Whether a point accepting ``accepted`` serves ``requested``; a 대분류 key matches any of its 중분류."""
    return requested in accepted or any(key.startswith(f"{requested}/") for key in accepted)


def _rule(sub: str, *keywords: str) -> tuple[str, tuple[str, ...]]:
    return f"{RECYCLABLE}/{sub}", keywords


# (category, keywords): an item belongs to the first category with a keyword contained in it.
_ITEM_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    _rule("battery", "건전지", "전지"),
    _rule("lamp", "형광등", "조명"),
    _rule("paper_pack", "종이팩", "우유팩", "멸균팩", "살균팩"),
    _rule("vinyl", "비닐"),
    _rule("styrofoam", "스티로폼", "발포"),
    _rule("plastic", "유색"),  # 유색페트병 / 유색 PET go with plastics, not with clear PET
    _rule("clear_pet", "투명페트", "투명패트", "투명pet", "무색페트", "무색패트", "무색pet"),
    _rule("plastic", "페트", "패트", "pet"),
    _rule("glass", "병", "유리"),
    _rule("metal", "캔", "알루미늄", "철", "금속", "스테인리스"),
    _rule("textile", "의류", "헌옷", "섬유", "원단", "가방", "신발"),
    _rule("paper", "종이", "서적", "신문", "책", "박스"),
    _rule("electronics", "가전", "전자", "휴대폰"),
    _rule(
        "plastic",
        "플라스틱",
        "플리스틱",
        "pp",
        "pe",
        "ps",
        "other",
        "햇반",
        "즉석밥",
        "장난감",
        "완구",
        "블럭",
        "빨대",
    ),
)


def category_for_item(item: str) -> str | None:
    """The category key of one accepted-item line, or None when no rule recognises it."""
    normalised = re.sub(r"\s+", "", item).lower()
    for category, keywords in _ITEM_RULES:
        if any(keyword in normalised for keyword in keywords):
            return category
    return None
