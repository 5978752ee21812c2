"""The learned part of the embedded classifier: a temperature-scaled softmax head and its abstention limits.

Stored in ``artifacts/head.npz`` (a few tens of kB, loaded without pickle). Produced by
``python -m tools.classifier train`` or ``ecoeco classifier retrain``; every number in it is learned or
chosen from the TrashNet
train / calibration splits, never from the test split.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from apps.waste.analysis.classifier.artifacts import ArtifactError, write_npz
from apps.waste.analysis.classifier.calibration import Array, FloatInput, principal_residual, softmax

_FLOAT_FIELDS = ("feature_mean", "feature_scale", "weights", "bias", "basis", "expert_answer", "expert_veto")
_SCALAR_FIELDS = ("temperature", "residual_ceiling", "not_waste_ceiling", "threshold")
BOARD_PREFIX = "board."


@dataclass(frozen=True)
class Head:
    """Softmax regression on standardised pooled features, plus the limits that make it abstain.

    - ``temperature`` divides the logits (fitted on the calibration split) so probabilities are calibrated.
    - ``basis`` spans the principal subspace of the standardised training features. The share of a photo's
      feature vector outside it (``residual``) above ``residual_ceiling`` means the photo looks like nothing
      the head was trained on; its probabilities would then be meaningless, however high.
    - ``not_waste_ceiling`` caps the ImageNet probability mass allowed on not-waste classes.
    - ``expert_categories`` are the waste categories the head was never trained on, judged by ImageNet's
      classes instead (``imagenet_map.EXPERT_CLASSES``): a mass of at least ``expert_answer[i]`` answers
      category ``i``; a mass above ``expert_veto[i]`` refuses the photo (the head must not answer it).
    - ``board`` (optional) is a second head fitted and calibrated on TrashNet photos as shot only (one
      object on a plain board), and ``router_weights`` / ``router_bias`` a logistic classifier on this
      head's standardised features that tells such photos from scenes: a photo it calls board-like
      (probability > 0.5) is judged by ``board`` with its own limits, every other photo by this head.
    - ``threshold`` is the calibrated probability from which an answer is given (chosen on calibration).
    """

    classes: tuple[str, ...]
    feature_mean: Array
    feature_scale: Array
    weights: Array
    bias: Array
    temperature: float
    basis: Array
    residual_ceiling: float
    not_waste_ceiling: float
    expert_categories: tuple[str, ...]
    expert_answer: Array
    expert_veto: Array
    threshold: float
    provenance: dict[str, Any] = field(default_factory=dict)
    board: Head | None = None
    router_weights: Array | None = None
    router_bias: float = 0.0

    def standardise(self, features: FloatInput) -> Array:
        return np.asarray((np.asarray(features, np.float64) - self.feature_mean) / self.feature_scale)

    def logits(self, features: FloatInput) -> Array:
        return np.asarray(self.standardise(features) @ self.weights + self.bias)

    def probabilities(self, features: FloatInput) -> Array:
        """Calibrated class probabilities ``[N, k]`` for the pooled features it reads ``[N, d]``."""
        return softmax(self.logits(features) / self.temperature)

    def residual(self, features: FloatInput) -> Array:
        """Share (0–1) of each standardised feature vector's norm lying outside the training subspace."""
        return principal_residual(self.standardise(features), self.basis)

    def board_like(self, features: FloatInput) -> npt.NDArray[np.bool_]:
        """Which photos the board head judges (all False without one)."""
        rows = np.atleast_2d(np.asarray(features, np.float64))
        if self.board is None or self.router_weights is None:
            return np.zeros(len(rows), bool)
        return np.asarray(self.standardise(rows) @ self.router_weights + self.router_bias > 0.0)

    def save(self, path: Path) -> None:
        arrays = self._arrays()
        if self.board is not None and self.router_weights is not None:
            arrays |= {f"{BOARD_PREFIX}{name}": value for name, value in self.board._arrays().items()}
            arrays["router_weights"] = np.asarray(self.router_weights, np.float32)
            arrays["router_bias"] = np.float64(self.router_bias)
        write_npz(path, arrays)

    def _arrays(self) -> dict[str, Any]:
        arrays: dict[str, Any] = {name: np.asarray(getattr(self, name), np.float32) for name in _FLOAT_FIELDS}
        arrays |= {name: np.float64(getattr(self, name)) for name in _SCALAR_FIELDS}
        arrays["classes"] = np.array(self.classes)
        arrays["expert_categories"] = np.array(self.expert_categories)
        arrays["provenance"] = np.array(json.dumps(self.provenance, sort_keys=True))
        return arrays

    @classmethod
    def load(cls, path: Path) -> Head:
        try:
            with np.load(path, allow_pickle=False) as stored:
                arrays = {name: stored[name] for name in stored.files}
            head = cls._of(arrays)
            board = {
                name.removeprefix(BOARD_PREFIX): value
                for name, value in arrays.items()
                if name.startswith(BOARD_PREFIX)
            }
            if not board:
                return head
            return replace(
                head,
                board=cls._of(board),
                router_weights=arrays["router_weights"].astype(np.float64),
                router_bias=float(arrays["router_bias"]),
            )
        except (KeyError, ValueError, OSError) as exc:
            raise ArtifactError(f"classifier head {path} is unreadable: {exc}") from exc

    @classmethod
    def _of(cls, stored: dict[str, Any]) -> Head:
        return cls(
            classes=tuple(str(name) for name in stored["classes"]),
            feature_mean=stored["feature_mean"].astype(np.float64),
            feature_scale=stored["feature_scale"].astype(np.float64),
            weights=stored["weights"].astype(np.float64),
            bias=stored["bias"].astype(np.float64),
            basis=stored["basis"].astype(np.float64),
            temperature=float(stored["temperature"]),
            residual_ceiling=float(stored["residual_ceiling"]),
            not_waste_ceiling=float(stored["not_waste_ceiling"]),
            expert_categories=tuple(str(name) for name in stored["expert_categories"]),
            expert_answer=stored["expert_answer"].astype(np.float64),
            expert_veto=stored["expert_veto"].astype(np.float64),
            threshold=float(stored["threshold"]),
            provenance=json.loads(str(stored["provenance"])),
        )
