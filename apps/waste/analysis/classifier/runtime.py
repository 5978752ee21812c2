"""The runtime model: checksum-verified artifacts, lazy ONNX session, one photo in → one ``Verdict`` out."""

from __future__ import annotations

import json
import threading
from functools import lru_cache
from pathlib import Path

from PIL import Image

from apps.waste.analysis.classifier.artifacts import HEAD_FILE, LABELS_FILE, ArtifactError, verified_path
from apps.waste.analysis.classifier.backbone import Backbone
from apps.waste.analysis.classifier.decision import Verdict, judge
from apps.waste.analysis.classifier.head import Head
from apps.waste.analysis.classifier.imagenet_map import IMAGENET_CLASSES
from apps.waste.analysis.classifier.preprocessing import preprocess


@lru_cache(maxsize=4)
def load_head(artifacts_dir: Path) -> Head:
    return Head.load(verified_path(artifacts_dir, HEAD_FILE))


@lru_cache(maxsize=4)
def load_imagenet_labels(artifacts_dir: Path) -> tuple[str, ...]:
    labels = json.loads(verified_path(artifacts_dir, LABELS_FILE).read_text(encoding="utf-8"))
    if not isinstance(labels, list) or len(labels) != IMAGENET_CLASSES:
        raise ArtifactError(f"{artifacts_dir / LABELS_FILE} must list {IMAGENET_CLASSES} class names")
    return tuple(str(label) for label in labels)


class EmbeddedModel:
    """Loads nothing until first used (or ``load``); afterwards every call reuses the per-process session."""

    def __init__(self, artifacts_dir: Path, intra_op_threads: int = 1) -> None:
        self.artifacts_dir = artifacts_dir.resolve()
        self._backbone = Backbone(self.artifacts_dir, intra_op_threads)
        self._lock = threading.Lock()
        self._head: Head | None = None

    @property
    def head(self) -> Head:
        if self._head is None:
            with self._lock:
                if self._head is None:
                    self._head = load_head(self.artifacts_dir)
        return self._head

    def load(self) -> None:
        """Verify every artifact and create the inference session."""
        _ = self.head
        load_imagenet_labels(self.artifacts_dir)
        self._backbone.load()

    def imagenet_label(self, index: int) -> str:
        return load_imagenet_labels(self.artifacts_dir)[index]

    def verdict(self, image: Image.Image, threshold: float) -> Verdict:
        head = self.head
        logits, features = self._backbone.run(preprocess(image))
        return judge(head, logits, features, threshold)[0]
