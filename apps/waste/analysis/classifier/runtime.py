"""The runtime model: checksum-verified artifacts, lazy ONNX session, one photo in → one ``Verdict`` out."""

from __future__ import annotations

import json
import threading
import weakref
from functools import lru_cache
from pathlib import Path

from PIL import Image

from apps.waste.analysis.classifier.artifacts import (
    HEAD_FILE,
    LABELS_FILE,
    ArtifactError,
    verified_for_backbone,
    verified_path,
)
from apps.waste.analysis.classifier.backbone import Backbone, BackboneOutputs
from apps.waste.analysis.classifier.decision import Verdict, judge
from apps.waste.analysis.classifier.feature_table import (
    FEATURES_FILE,
    IMAGENET_FC_FILE,
    FeatureTable,
    ImageNetLayer,
)
from apps.waste.analysis.classifier.head import Head
from apps.waste.analysis.classifier.imagenet_map import IMAGENET_CLASSES
from apps.waste.analysis.classifier.preprocessing import preprocess


@lru_cache(maxsize=4)
def load_head(artifacts_dir: Path, name: str = HEAD_FILE) -> Head:
    """The head artifact ``name`` (``head.npz`` or a retrained ``head-<version>.npz``), checksum-verified and
    fitted for the backbone beside it."""
    return Head.load(verified_for_backbone(artifacts_dir, name))


@lru_cache(maxsize=2)
def load_imagenet_layer(artifacts_dir: Path) -> ImageNetLayer:
    return ImageNetLayer.load(verified_path(artifacts_dir, IMAGENET_FC_FILE))


def load_feature_table(artifacts_dir: Path) -> FeatureTable:
    return FeatureTable.load(verified_for_backbone(artifacts_dir, FEATURES_FILE))


@lru_cache(maxsize=4)
def load_imagenet_labels(artifacts_dir: Path) -> tuple[str, ...]:
    labels = json.loads(verified_path(artifacts_dir, LABELS_FILE).read_text(encoding="utf-8"))
    if not isinstance(labels, list) or len(labels) != IMAGENET_CLASSES:
        raise ArtifactError(f"{artifacts_dir / LABELS_FILE} must list {IMAGENET_CLASSES} class names")
    return tuple(str(label) for label in labels)


class EmbeddedModel:
    """Loads nothing until first used (or ``load``); afterwards every call reuses the per-process session.

    The backbone outputs of the last photo seen by each thread are kept (keyed by the image object), so the
    worker can store a scan's pooled features after its analysis without running the network twice.
    """

    def __init__(self, artifacts_dir: Path, intra_op_threads: int = 1, head_name: str = HEAD_FILE) -> None:
        self.artifacts_dir = artifacts_dir.resolve()
        self.head_name = head_name
        self._backbone = Backbone(self.artifacts_dir, intra_op_threads)
        self._lock = threading.Lock()
        self._head: Head | None = None
        self._last = threading.local()

    @property
    def head(self) -> Head:
        if self._head is None:
            with self._lock:
                if self._head is None:
                    self._head = load_head(self.artifacts_dir, self.head_name)
        return self._head

    def load(self) -> None:
        """Verify every artifact and create the inference session."""
        _ = self.head
        load_imagenet_labels(self.artifacts_dir)
        self._backbone.load()

    def imagenet_label(self, index: int) -> str:
        return load_imagenet_labels(self.artifacts_dir)[index]

    def outputs(self, image: Image.Image) -> BackboneOutputs:
        """The backbone's outputs for one photo (batch of 1)."""
        last: tuple[weakref.ref[Image.Image], BackboneOutputs] | None = getattr(self._last, "entry", None)
        if last is not None and last[0]() is image:
            return last[1]
        result = self._backbone.run(preprocess(image))
        self._last.entry = (weakref.ref(image), result)
        return result

    def verdict(self, image: Image.Image, threshold: float | None = None) -> Verdict:
        outputs = self.outputs(image)
        return judge(self.head, outputs.logits, outputs.features, threshold)[0]
