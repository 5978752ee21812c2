"""Scenes mixing categories (tooling, no TrashNet): which objects are piled together, how answers count."""

import numpy as np
import pytest

from apps.waste.analysis.classifier.decision import Abstention, Verdict
from tools.classifier.mixed_piles import category_of, pile_plan, report, score_mixed

KEYS = [
    f"{name}/{index}.jpg"
    for name in ("cardboard", "paper", "glass", "metal", "plastic")
    for index in range(4)
]


def verdict(category: str, confidence: float, refused: bool = False) -> Verdict:
    return Verdict(
        class_probabilities=np.zeros(8),
        categories=[(category, confidence)],
        item=None,
        abstention=Abstention.LOW_CONFIDENCE if refused else None,
        imagenet_top=(0, 0.0),
        unseen=None,
        residual=0.0,
        threshold=0.7,
    )


def test_each_pile_starts_with_its_photo_and_mixes_two_or_three_distinct_categories():
    plan = pile_plan(KEYS)
    assert [pile[0] for pile in plan] == KEYS
    for pile in plan:
        categories = [category_of(key) for key in pile]
        assert 2 <= len(pile) <= 3
        assert len(set(categories)) == len(pile)  # cardboard and paper never share a pile: both are 종이
    assert {len(pile) for pile in plan} == {2, 3}
    assert pile_plan(KEYS) == plan  # seeded by the photos' keys


def test_a_pile_is_never_padded_with_its_own_category_when_no_other_is_left():
    assert pile_plan(["paper/a.jpg", "cardboard/b.jpg"]) == [("paper/a.jpg",), ("cardboard/b.jpg",)]


def test_answers_count_as_in_the_scene_not_in_it_or_refused():
    present = [{"recyclable/glass", "recyclable/metal"}] * 4
    verdicts = [
        verdict("recyclable/glass", 0.95),  # in the scene
        verdict("recyclable/paper", 0.95),  # not in it, confidently
        verdict("recyclable/paper", 0.80),  # not in it
        verdict("recyclable/paper", 0.99, refused=True),
    ]
    score = score_mixed(verdicts, present)
    assert (score.scenes, score.answered, score.present, score.absent, score.confident_absent) == (
        4,
        3,
        1,
        2,
        1,
    )
    assert score.row("x") == "| x | 4 | 25.0% | 25.0% | 50.0% | 1 |"


def test_the_report_splits_scenes_by_how_many_categories_they_hold():
    present = [{"a", "b"}, {"a", "b", "c"}, {"a", "c"}]
    lines = report([verdict("a", 0.95), verdict("d", 0.95), verdict("a", 0.5, refused=True)], present)
    assert lines[2] == "| **mixed piles** | 3 | 33.3% | 33.3% | 33.3% | 1 |"
    assert lines[3:] == [
        "|   2 categories | 2 | 50.0% | 50.0% | 0.0% | 0 |",
        "|   3 categories | 1 | 0.0% | 0.0% | 100.0% | 1 |",
    ]


def test_verdicts_and_scenes_must_pair_up():
    with pytest.raises(ValueError, match="one set"):
        score_mixed([verdict("a", 0.9)], [])
