"""How a head does on labelled rows, through the same decision rule the API applies.

A row's truth is a taxonomy category key, or None for a photo that should be refused (not waste). "Right"
means answered with the true category; a confident mistake is a wrong answer at confidence ≥ 0.9.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from apps.waste.analysis.classifier.calibration import FloatInput, expected_calibration_error
from apps.waste.analysis.classifier.decision import Verdict, judge
from apps.waste.analysis.classifier.feature_table import ImageNetLayer
from apps.waste.analysis.classifier.head import Head

CONFIDENT_MISTAKE = 0.9
ECE_BINS = 15


@dataclass(frozen=True)
class Score:
    photos: int
    answered: int
    right: int
    confident_mistakes: int
    ece: float  # confidence of the best category vs its correctness, every photo

    @property
    def coverage(self) -> float:
        return self.answered / self.photos if self.photos else 0.0

    @property
    def answered_accuracy(self) -> float:
        return self.right / self.answered if self.answered else float("nan")

    @property
    def right_overall(self) -> float:
        return self.right / self.photos if self.photos else 0.0

    def summary(self) -> str:
        return (
            f"{self.photos} photos: answered {self.coverage:.1%}, right when answered "
            f"{self.answered_accuracy:.1%}, right overall {self.right_overall:.1%}, "
            f"confident mistakes {self.confident_mistakes}, ECE {self.ece:.3f}"
        )


def score_verdicts(verdicts: Sequence[Verdict], truth: Sequence[str | None]) -> Score:
    if len(verdicts) != len(truth):
        raise ValueError("one truth per verdict")
    if not verdicts:
        return Score(0, 0, 0, 0, float("nan"))
    answered = np.array([verdict.confident for verdict in verdicts])
    hits = np.array([verdict.category == expected for verdict, expected in zip(verdicts, truth, strict=True)])
    confidence = np.array([verdict.confidence for verdict in verdicts])
    return Score(
        photos=len(verdicts),
        answered=int(answered.sum()),
        right=int((answered & hits).sum()),
        confident_mistakes=int((answered & ~hits & (confidence >= CONFIDENT_MISTAKE)).sum()),
        ece=expected_calibration_error(confidence, hits, ECE_BINS),
    )


def verdicts_for(
    head: Head, layer: ImageNetLayer, features: FloatInput, imagenet_features: FloatInput
) -> list[Verdict]:
    """Verdicts for stored features: ``features`` for the head, ``imagenet_features`` for the backbone's last
    layer (ImageNet logits recomputed without running the network)."""
    return judge(head, layer.logits(imagenet_features), features)
