"""The head's storage and the decision rule, on a small hand-built head (4-d features, 6 classes)."""

from dataclasses import replace

import numpy as np
import pytest

from apps.waste.analysis.classifier.artifacts import ArtifactError
from apps.waste.analysis.classifier.decision import (
    CORRUGATED_CARDBOARD_ITEM,
    HEAD_CLASSES,
    TRASHNET_CLASSES,
    Abstention,
    category_probabilities,
    judge,
)
from apps.waste.analysis.classifier.head import Head
from apps.waste.analysis.classifier.imagenet_map import EXPERT_CATEGORIES

CARDBOARD, GLASS, PAPER = (TRASHNET_CLASSES.index(name) for name in ("cardboard", "glass", "paper"))


def _head(temperature: float = 1.0) -> Head:
    weights = np.zeros((4, 6))
    weights[0, CARDBOARD] = 4.0
    weights[1, GLASS] = 4.0
    basis = np.zeros((4, 2))
    basis[0, 0] = basis[1, 1] = 1.0  # photos like the training ones live in the first two dimensions
    return Head(
        classes=TRASHNET_CLASSES,
        feature_mean=np.zeros(4),
        feature_scale=np.ones(4),
        weights=weights,
        bias=np.zeros(6),
        temperature=temperature,
        basis=basis,
        residual_ceiling=0.5,
        not_waste_ceiling=0.5,
        expert_categories=EXPERT_CATEGORIES,
        expert_answer=np.full(len(EXPERT_CATEGORIES), 0.8),
        expert_veto=np.full(len(EXPERT_CATEGORIES), 0.2),
        threshold=0.7,
        provenance={"made_by": "test"},
    )


ASHCAN = 412  # an ImageNet class in no group: neutral evidence


def _imagenet(index: int = ASHCAN, logit: float = 12.0) -> np.ndarray:
    """ImageNet logits peaked on ``index`` (a uniform spread would put 40 % on the 398 animal classes)."""
    logits = np.zeros((1, 1000))
    logits[0, index] = logit
    return logits


def test_save_load_round_trip_is_exact_and_byte_reproducible(tmp_path):
    head = _head(temperature=1.7)
    head.save(tmp_path / "a.npz")
    head.save(tmp_path / "b.npz")
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    loaded = Head.load(tmp_path / "a.npz")
    assert loaded.classes == head.classes
    assert loaded.temperature == 1.7
    assert loaded.provenance == {"made_by": "test"}
    assert np.allclose(loaded.weights, head.weights)
    features = np.array([[1.0, 0.2, 0.0, 0.0]])
    assert np.allclose(loaded.probabilities(features), head.probabilities(features))


def test_an_unreadable_head_is_an_artifact_error(tmp_path):
    (tmp_path / "head.npz").write_bytes(b"garbage")
    with pytest.raises(ArtifactError, match="unreadable"):
        Head.load(tmp_path / "head.npz")


def test_temperature_softens_probabilities_without_changing_the_ranking():
    features = np.array([[1.0, 0.0, 0.0, 0.0]])
    sharp, soft = _head(1.0).probabilities(features), _head(3.0).probabilities(features)
    assert sharp.argmax() == soft.argmax() == CARDBOARD
    assert soft.max() < sharp.max()


def test_cardboard_and_paper_add_up_to_one_paper_category():
    probabilities = np.zeros(6)
    probabilities[CARDBOARD], probabilities[PAPER], probabilities[GLASS] = 0.4, 0.35, 0.25
    categories = category_probabilities(_head(), probabilities)
    assert [name for name, _ in categories[:2]] == ["recyclable/paper", "recyclable/glass"]
    assert [probability for _, probability in categories[:2]] == pytest.approx([0.75, 0.25])


def test_a_confident_cardboard_photo_names_the_corrugated_cardboard_item():
    verdict = judge(_head(), _imagenet(), np.array([[2.0, 0.0, 0.0, 0.0]]), threshold=0.7)[0]
    assert verdict.confident
    assert verdict.category == "recyclable/paper"
    assert verdict.item == CORRUGATED_CARDBOARD_ITEM
    assert verdict.confidence > 0.7


def test_below_the_threshold_the_verdict_is_low_confidence_without_item():
    features = np.array([[0.3, 0.2, 0.0, 0.0]])  # leans cardboard, but weakly
    verdict = judge(_head(), _imagenet(), features, threshold=0.7)[0]
    assert verdict.abstention is Abstention.LOW_CONFIDENCE
    assert verdict.item is None
    assert verdict.confidence < 0.7
    assert verdict.categories[0][0] == "recyclable/paper"  # the candidates are still there


def test_features_outside_the_training_subspace_are_unfamiliar_however_confident():
    features = np.array([[2.0, 0.0, 0.0, 3.0]])  # strongly cardboard, but mostly off the subspace
    verdict = judge(_head(), _imagenet(), features, threshold=0.7)[0]
    assert verdict.class_probabilities.max() > 0.9
    assert verdict.abstention is Abstention.UNFAMILIAR
    assert verdict.residual > 0.5


def test_an_animal_on_imagenet_is_not_waste_even_when_the_head_is_sure():
    verdict = judge(_head(), _imagenet(index=281), np.array([[2.0, 0.0, 0.0, 0.0]]), threshold=0.7)[0]
    assert verdict.abstention is Abstention.NOT_WASTE
    assert verdict.imagenet_top[0] == 281


def test_a_sure_expert_answers_its_own_category_whatever_the_head_says():
    verdict = judge(_head(), _imagenet(index=963), np.array([[2.0, 0.0, 0.0, 0.0]]), threshold=0.7)[0]
    assert verdict.confident
    assert verdict.expert
    assert verdict.category == "food"
    assert verdict.confidence > 0.8
    assert verdict.item is None  # the head's cardboard is not named


def test_some_evidence_of_an_unseen_category_vetoes_the_head():
    imagenet = _imagenet(index=610, logit=7.0)  # a third of the mass on jersey: a shirt, perhaps
    imagenet[0, ASHCAN] = 7.0
    verdict = judge(_head(), imagenet, np.array([[2.0, 0.0, 0.0, 0.0]]), threshold=0.7)[0]
    assert verdict.class_probabilities.argmax() == CARDBOARD  # the head would say 종이 …
    assert verdict.abstention is Abstention.UNSEEN_CATEGORY  # … but a shirt must never be answered 종이
    assert verdict.unseen is not None
    assert verdict.unseen[0] == "recyclable/textile"
    assert 0.2 < verdict.unseen[1] < 0.8


def _clothes_head() -> Head:
    """``_head`` with the drawn classes: the 2nd feature now means 의류 instead of glass."""
    weights = np.zeros((4, len(HEAD_CLASSES)))
    weights[0, HEAD_CLASSES.index("cardboard")] = 4.0
    weights[1, HEAD_CLASSES.index("textile")] = 4.0
    return replace(_head(), classes=HEAD_CLASSES, weights=weights, bias=np.zeros(len(HEAD_CLASSES)))


JERSEY, PIZZA = 610, 963


def _partly(index: int) -> np.ndarray:
    """About a third of ImageNet's mass on ``index``, the rest on a neutral class."""
    imagenet = _imagenet(logit=7.0)
    imagenet[0, index] = 7.0
    return imagenet


def test_the_head_answering_the_vetoing_category_is_not_vetoed():
    verdict = judge(_clothes_head(), _partly(JERSEY), np.array([[0.0, 2.0, 0.0, 0.0]]), threshold=0.7)[0]
    assert verdict.confident  # the head says 의류 and ImageNet sees a jersey: both agree
    assert not verdict.expert
    assert verdict.category == "recyclable/textile"
    assert verdict.confidence > 0.7
    # The same evidence with the head saying 종이 is refused, as before.
    paper = judge(_clothes_head(), _partly(JERSEY), np.array([[2.0, 0.0, 0.0, 0.0]]), threshold=0.7)[0]
    assert paper.abstention is Abstention.UNSEEN_CATEGORY


def test_another_vetoing_category_still_refuses_the_heads_agreeing_answer():
    imagenet = _partly(JERSEY)
    imagenet[0, PIZZA] = 6.9  # less food than clothes (0.24 against 0.26), above food's veto level
    clothes = np.array([[0.0, 2.0, 0.0, 0.0]])
    verdict = judge(_clothes_head(), imagenet, clothes, threshold=0.7)[0]
    assert verdict.abstention is Abstention.UNSEEN_CATEGORY
    assert verdict.unseen is not None
    assert verdict.unseen[0] == "food"  # what refused it, not the clothes the head agrees with


@pytest.mark.parametrize(
    ("features", "abstention"),
    [
        ([0.0, 2.0, 0.0, 3.0], Abstention.UNFAMILIAR),  # off the training subspace
        ([0.0, 0.3, 0.0, 0.0], Abstention.LOW_CONFIDENCE),  # leans 의류, but weakly
    ],
)
def test_an_agreeing_answer_still_passes_the_remaining_checks(features, abstention):
    verdict = judge(_clothes_head(), _partly(JERSEY), np.array([features]), threshold=0.7)[0]
    assert verdict.abstention is abstention


def test_weak_imagenet_evidence_does_not_block_an_answer():
    imagenet = _imagenet(index=963, logit=4.0)
    imagenet[0, ASHCAN] = 6.0
    verdict = judge(_head(), imagenet, np.array([[0.0, 2.0, 0.0, 0.0]]), threshold=0.7)[0]
    assert verdict.confident
    assert not verdict.expert
    assert verdict.category == "recyclable/glass"
    assert verdict.unseen is None


def _routed_head() -> Head:
    """``_head`` for scenes; photos with a positive 3rd feature go to a board head that calls them glass."""
    board_weights = np.zeros((4, 6))
    board_weights[2, GLASS] = 4.0
    board = replace(_head(), weights=board_weights, basis=np.eye(4)[:, :3], threshold=0.6)
    return replace(_head(), board=board, router_weights=np.array([0.0, 0.0, 1.0, 0.0]), router_bias=-0.5)


def test_a_board_like_photo_is_judged_by_the_board_head_with_its_own_threshold():
    head = _routed_head()
    features = np.array([[0.0, 0.0, 2.0, 0.0], [2.0, 0.0, 0.0, 0.0]])
    assert list(head.board_like(features)) == [True, False]
    board_verdict, scene_verdict = judge(head, np.vstack([_imagenet(), _imagenet()]), features)
    assert board_verdict.confident
    assert board_verdict.category == "recyclable/glass"
    assert board_verdict.threshold == 0.6
    assert scene_verdict.category == "recyclable/paper"  # the scene head's cardboard
    assert scene_verdict.threshold == 0.7
    # An explicit threshold overrides both heads' own.
    assert {verdict.threshold for verdict in judge(head, np.vstack([_imagenet()] * 2), features, 0.9)} == {
        0.9
    }


def test_a_routed_head_survives_a_save_and_load(tmp_path):
    head = _routed_head()
    head.save(tmp_path / "head.npz")
    loaded = Head.load(tmp_path / "head.npz")
    assert loaded.board is not None
    assert loaded.board.threshold == 0.6
    assert loaded.router_bias == -0.5
    features = np.array([[0.0, 0.0, 2.0, 0.0], [2.0, 0.0, 0.0, 0.0]])
    assert list(loaded.board_like(features)) == [True, False]
    assert np.allclose(loaded.board.probabilities(features), head.board.probabilities(features))  # type: ignore[union-attr]


def test_a_board_head_without_its_router_is_an_artifact_error(tmp_path):
    _routed_head().save(tmp_path / "head.npz")
    with np.load(tmp_path / "head.npz") as stored:
        arrays = {name: stored[name] for name in stored.files if not name.startswith("router")}
    np.savez(tmp_path / "broken.npz", **arrays)
    with pytest.raises(ArtifactError, match="router_weights"):
        Head.load(tmp_path / "broken.npz")
