"""Hangul-aware, spelling-tolerant name matching over the taxonomy's labels and aliases.

Names and queries are normalised (NFKC, lower case, no spaces or punctuation, a few common spelling variants
folded: "패트"/"pet" → "페트"). Exact and substring matches score highest; otherwise both sides are
decomposed into jamo (스티로품 → ㅅㅡㅌㅣㄹㅗㅍㅜㅁ) and compared with a similarity ratio against every
same-length window of the name, so a one-letter typo inside a long compound label still matches.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from difflib import SequenceMatcher
from enum import StrEnum
from functools import lru_cache

from apps.recycling.taxonomy import Taxonomy, get_taxonomy

_CHOSEONG = "ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ"
_JUNGSEONG = "ㅏㅐㅑㅒㅓㅔㅕㅖㅗㅘㅙㅚㅛㅜㅝㅞㅟㅠㅡㅢㅣ"
_JONGSEONG: tuple[str, ...] = ("", *"ㄱㄲㄳㄴㄵㄶㄷㄹㄺㄻㄼㄽㄾㄿㅀㅁㅂㅄㅅㅆㅇㅈㅊㅋㅌㅍㅎ")
_HANGUL_FIRST, _HANGUL_LAST = 0xAC00, 0xD7A3

# Spelling variants folded before matching, applied in order to the normalised text.
_VARIANTS: tuple[tuple[str, str], ...] = (
    ("pet", "페트"),
    ("패트", "페트"),
    ("쥬스", "주스"),
    ("스티로폴", "스티로폼"),
    ("스치로폼", "스티로폼"),
    ("스트로폼", "스티로폼"),
    ("밧데리", "배터리"),
    ("빳데리", "배터리"),
)
_NOT_NAME = re.compile(r"[^0-9a-z\uac00-\ud7a3\u3131-\u318e]")

EXACT = 1.0
MIN_SCORE = 0.6
"""Scores below this are not reported as matches."""
_FUZZY_PENALTY = 0.1
"""A typo match scores its jamo similarity minus this, so a near-perfect typo still ranks with substrings."""
_MIN_FUZZY_RATIO = 0.75
_MIN_FUZZY_JAMO = 6
"""Shorter queries (about two syllables) match only exactly or as substrings: fuzzy hits would be noise."""


def normalize(text: str) -> str:
    """Lower-case, drop whitespace and punctuation, fold common spelling variants."""
    folded = _NOT_NAME.sub("", unicodedata.normalize("NFKC", text).lower())
    for variant, canonical in _VARIANTS:
        folded = folded.replace(variant, canonical)
    return folded


def to_jamo(text: str) -> str:
    """Decompose precomposed Hangul syllables into compatibility jamo; other characters pass through."""
    out: list[str] = []
    for char in text:
        code = ord(char)
        if _HANGUL_FIRST <= code <= _HANGUL_LAST:
            offset = code - _HANGUL_FIRST
            out.append(_CHOSEONG[offset // 588])
            out.append(_JUNGSEONG[(offset % 588) // 28])
            out.append(_JONGSEONG[offset % 28])
        else:
            out.append(char)
    return "".join(out)


# How Latin letters and digits end when read in Korean (only those that end in a consonant).
_SPOKEN_FINALS: dict[str, str] = {
    "l": "ㄹ", "m": "ㅁ", "n": "ㄴ", "r": "ㄹ",
    "0": "ㅇ", "1": "ㄹ", "3": "ㅁ", "6": "ㄱ", "7": "ㄹ", "8": "ㄹ",
}  # fmt: skip


def final_consonant(word: str) -> str:
    """The final consonant (받침) the word ends with, as a jamo; "" when it ends in a vowel sound.

    Used to choose particles (은/는, 이에요/예요, 으로/로). Latin letters and digits are read the Korean way:
    L(엘) M(엠) N(엔) R(알) and 0(영) 1(일) 3(삼) 6(육) 7(칠) 8(팔) end in a consonant.
    """
    for char in reversed(word):
        code = ord(char)
        if _HANGUL_FIRST <= code <= _HANGUL_LAST:
            return _JONGSEONG[(code - _HANGUL_FIRST) % 28]
        if char.isalnum():
            return _SPOKEN_FINALS.get(char.lower(), "")
    return ""


class NameKind(StrEnum):
    ITEM = "item"
    CATEGORY = "category"


@dataclass(frozen=True)
class _Name:
    key: str
    kind: NameKind
    text: str
    normalized: str
    jamo: str


@dataclass(frozen=True)
class NameHit:
    key: str
    kind: NameKind
    name: str
    """The label or alias that matched."""
    score: float


def score(query: str, query_jamo: str, name: str, name_jamo: str) -> float:
    """Similarity of a normalised query to a normalised name, in [0, 1]."""
    if not query or not name:
        return 0.0
    if query == name:
        return EXACT
    if query in name:
        prefix_bonus = 0.03 if name.startswith(query) else 0.0
        return 0.85 + 0.1 * len(query) / len(name) + prefix_bonus
    if len(name) >= 2 and name in query:
        return 0.65 + 0.2 * len(name) / len(query)
    if len(query_jamo) < _MIN_FUZZY_JAMO or not _may_be_similar(query_jamo, name_jamo):
        return 0.0
    ratio = _partial_ratio(query_jamo, name_jamo)
    return ratio - _FUZZY_PENALTY if ratio >= _MIN_FUZZY_RATIO else 0.0


def _may_be_similar(query_jamo: str, name_jamo: str) -> bool:
    """Cheap prefilter: most of the query's distinct jamo must occur in the name."""
    letters = set(query_jamo)
    return len(letters & set(name_jamo)) >= _MIN_FUZZY_RATIO * len(letters)


def _partial_ratio(query: str, name: str) -> float:
    """Best similarity of the query against any window of the name with the query's length."""
    matcher = SequenceMatcher(None, autojunk=False)
    matcher.set_seq2(query)
    if len(query) >= len(name):
        matcher.set_seq1(name)
        return matcher.ratio()
    best = 0.0
    for start in range(len(name) - len(query) + 1):
        matcher.set_seq1(name[start : start + len(query)])
        best = max(best, matcher.ratio())
    return best


class NameIndex:
    """Every label and alias of every category and item, precomputed for matching."""

    def __init__(self, taxonomy: Taxonomy) -> None:
        names: list[_Name] = []
        for category in taxonomy.categories():
            names.extend(self._names(category.key, NameKind.CATEGORY, (category.label, *category.aliases)))
        for item in taxonomy.items():
            names.extend(self._names(item.key, NameKind.ITEM, (item.label, *item.aliases)))
        self._names_list = names

    @staticmethod
    def _names(key: str, kind: NameKind, texts: tuple[str, ...]) -> list[_Name]:
        out = []
        for text in dict.fromkeys(texts):
            normalized = normalize(text)
            if normalized:
                out.append(_Name(key, kind, text, normalized, to_jamo(normalized)))
        return out

    def match(self, query: str) -> list[NameHit]:
        """Best hit per key (score ≥ MIN_SCORE), best first."""
        normalized = normalize(query)
        if not normalized:
            return []
        query_jamo = to_jamo(normalized)
        best: dict[str, NameHit] = {}
        for name in self._names_list:
            value = score(normalized, query_jamo, name.normalized, name.jamo)
            if value >= MIN_SCORE and (name.key not in best or value > best[name.key].score):
                best[name.key] = NameHit(name.key, name.kind, name.text, min(value, EXACT))
        return sorted(best.values(), key=lambda hit: -hit.score)


@lru_cache(maxsize=1)
def get_name_index() -> NameIndex:
    return NameIndex(get_taxonomy())
