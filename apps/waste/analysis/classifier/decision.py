"""From backbone outputs to a verdict: answer, or abstain and say why.

Shared by the runtime analyzer, fitting and the evaluation, so the figures in docs/classifier.md measure
exactly the rule the API applies. The checks run in order; the first that fires decides:

1. ``NOT_WASTE``: ImageNet puts more than ``not_waste_ceiling`` on animals, people, plants, scenery,
   vehicles or buildings.
2. **expert answer**: ImageNet puts at least ``expert_answer`` on one category the head was never trained on
   (clothes and textiles, food, electronics, furniture, lamps …): that category is the answer.
3. ``UNSEEN_CATEGORY``: some such category has more than its ``expert_veto`` (a level few in-domain photos
   reach) and is not the head's best category: the photo may be a shirt or food, so the head, which would
   force it into one of its classes (a folded shirt looks like paper to it), must not answer. When the only
   such category is the head's own (the head says 의류 and ImageNet sees clothes), the checks go on.
4. ``UNFAMILIAR``: the photo's features lie too far outside the subspace of the training photos.
5. ``LOW_CONFIDENCE``: the calibrated probability of the best category is below the threshold.

A head with a board head (``Head.board``) first routes each photo: board-like photos (one object on a plain
board, as TrashNet shoots them) go through these checks with the board head's own limits and threshold.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from apps.waste.analysis.classifier.calibration import Array, FloatInput, softmax
from apps.waste.analysis.classifier.head import Head
from apps.waste.analysis.classifier.imagenet_map import expert_masses, not_waste_mass

CORRUGATED_CARDBOARD_ITEM = "recyclable/paper/corrugated_cardboard"
TRASHNET_CLASSES = ("cardboard", "glass", "metal", "paper", "plastic", "trash")
# Classes learned from drawn stand-ins (tools/classifier/renders.py) and from users' corrections: TrashNet
# has no clothes and no paper packs, and without a class of their own the head calls both 종이.
RENDERED_CLASSES = ("textile", "paper_pack")
HEAD_CLASSES = TRASHNET_CLASSES + RENDERED_CLASSES

# Head class → taxonomy category key.
CLASS_CATEGORY: dict[str, str] = {
    "textile": "recyclable/textile",
    "paper_pack": "recyclable/paper_pack",
    "cardboard": "recyclable/paper",
    "paper": "recyclable/paper",
    "glass": "recyclable/glass",
    "metal": "recyclable/metal",
    "plastic": "recyclable/plastic",
    "trash": "general",
}


class Abstention(StrEnum):
    NOT_WASTE = "not_waste"
    UNSEEN_CATEGORY = "unseen_category"
    UNFAMILIAR = "unfamiliar"
    LOW_CONFIDENCE = "low_confidence"


@dataclass(frozen=True)
class Verdict:
    """One photo's outcome. ``categories`` are calibrated category probabilities, best first (for an
    expert answer: the expert's category and its ImageNet mass)."""

    class_probabilities: Array
    categories: list[tuple[str, float]]
    item: str | None
    abstention: Abstention | None
    imagenet_top: tuple[int, float]
    unseen: tuple[str, float] | None
    residual: float
    threshold: float  # the threshold this photo was judged against
    expert: bool = False

    @property
    def confident(self) -> bool:
        return self.abstention is None

    @property
    def category(self) -> str:
        """The best category, whether or not it is confident enough to be answered."""
        return self.categories[0][0]

    @property
    def confidence(self) -> float:
        return self.categories[0][1]


def category_probabilities(head: Head, class_probabilities: Array) -> list[tuple[str, float]]:
    """Sum class probabilities per taxonomy category (cardboard + paper are both 종이), best first."""
    totals: dict[str, float] = {}
    for name, probability in zip(head.classes, class_probabilities, strict=True):
        category = CLASS_CATEGORY[name]
        totals[category] = totals.get(category, 0.0) + float(probability)
    return sorted(totals.items(), key=lambda entry: (-entry[1], entry[0]))


def judge(
    head: Head, imagenet_logits: FloatInput, features: FloatInput, threshold: float | None = None
) -> list[Verdict]:
    """Verdicts for a batch: ``imagenet_logits [N, 1000]`` and the features the head reads ``[N, d]``, both
    from the backbone.

    ``threshold`` None applies each head's calibrated threshold; a number overrides both."""
    logits_rows = np.atleast_2d(np.asarray(imagenet_logits))
    feature_rows = np.atleast_2d(np.asarray(features))
    board_like = head.board_like(feature_rows)
    verdicts: list[Verdict | None] = [None] * len(feature_rows)
    for judged_by, rows in ((head, ~board_like), (head.board, board_like)):
        if judged_by is None or not rows.any():
            continue
        level = judged_by.threshold if threshold is None else threshold
        for index, verdict in zip(
            np.flatnonzero(rows),
            _judge_rows(judged_by, logits_rows[rows], feature_rows[rows], level),
            strict=True,
        ):
            verdicts[index] = verdict
    return [verdict for verdict in verdicts if verdict is not None]


def _vetoing(head: Head, masses: Array, head_category: str) -> int | None:
    """The expert category furthest above its veto level that is not what the head answers, if any: a
    shirt the head calls 의류 while ImageNet sees clothes is no reason to refuse (the rest of the checks
    still apply), a shirt the head calls 종이 is."""
    agrees = np.array([category == head_category for category in head.expert_categories])
    ratios = np.where(agrees, 0.0, masses / head.expert_veto)
    strongest = int(np.argmax(ratios))
    return strongest if ratios[strongest] > 1.0 else None


def _judge_rows(
    head: Head, imagenet_logits: FloatInput, features: FloatInput, threshold: float
) -> list[Verdict]:
    class_probabilities = head.probabilities(features)
    imagenet_probabilities = softmax(imagenet_logits)
    not_waste = not_waste_mass(imagenet_probabilities)
    experts = expert_masses(imagenet_probabilities)
    residuals = head.residual(features)
    cardboard = head.classes.index("cardboard")
    verdicts = []
    for row, probabilities in enumerate(class_probabilities):
        categories = category_probabilities(head, probabilities)
        strongest = int(np.argmax(experts[row] / head.expert_answer))
        unseen = (head.expert_categories[strongest], float(experts[row, strongest]))
        expert = False
        if not_waste[row] > head.not_waste_ceiling:
            abstention: Abstention | None = Abstention.NOT_WASTE
        elif unseen[1] >= head.expert_answer[strongest]:
            abstention, expert, categories = None, True, [unseen]
        elif (vetoing := _vetoing(head, experts[row], categories[0][0])) is not None:
            abstention = Abstention.UNSEEN_CATEGORY
            unseen = (head.expert_categories[vetoing], float(experts[row, vetoing]))
        elif residuals[row] > head.residual_ceiling:
            abstention = Abstention.UNFAMILIAR
        elif categories[0][1] < threshold:
            abstention = Abstention.LOW_CONFIDENCE
        else:
            abstention = None
        item = (
            CORRUGATED_CARDBOARD_ITEM
            if abstention is None
            and not expert
            and int(np.argmax(probabilities)) == cardboard
            and probabilities[cardboard] >= threshold
            else None
        )
        top_imagenet = int(np.argmax(imagenet_probabilities[row]))
        verdicts.append(
            Verdict(
                class_probabilities=probabilities,
                categories=categories,
                item=item,
                abstention=abstention,
                imagenet_top=(top_imagenet, float(imagenet_probabilities[row, top_imagenet])),
                unseen=unseen if abstention is Abstention.UNSEEN_CATEGORY or expert else None,
                residual=float(residuals[row]),
                threshold=threshold,
                expert=expert,
            )
        )
    return verdicts
