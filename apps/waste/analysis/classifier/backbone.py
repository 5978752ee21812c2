"""The ONNX EfficientNet-Lite2 backbone: one onnxruntime run → ImageNet logits and pooled features.

The graph may carry a second, fine-tuned tail on the shared trunk (output ``waste_features``: the original
tail's pooled features followed by the fine-tuned tail's, ``[N, 2560]``): then the learned head reads those,
while the ImageNet logits and the ImageNet-layer features (``features``) come from the original tail, as the
experts and the not-waste gate need. A graph without it gives the head the ImageNet-tail features.

Sessions are created lazily and cached per process, keyed by model path and thread count, so a Celery worker
or API process pays the load cost once, and only when the first photo arrives (or at ``warm_up``). The cache
is also keyed by process id: an onnxruntime session's thread pool does not survive ``fork()``, so a prefork
child that inherited its parent's session builds its own instead of using the copy.
"""

from __future__ import annotations

import os
from functools import cached_property, lru_cache
from pathlib import Path
from typing import NamedTuple

import numpy as np
import onnxruntime as ort

from apps.waste.analysis.classifier.artifacts import MODEL_FILE, verified_path
from apps.waste.analysis.classifier.preprocessing import FloatArray

INPUT_NAME = "image"
OUTPUT_NAMES = ("imagenet_logits", "features")
WASTE_OUTPUT = "waste_features"


class BackboneOutputs(NamedTuple):
    """One batch's outputs: ImageNet logits ``[N, 1000]``, the ImageNet tail's pooled features
    ``[N, 1280]`` (the ImageNet layer's input) and the pooled features the head reads (``[N, 2560]`` with a
    fine-tuned tail, else the ImageNet tail's)."""

    logits: FloatArray
    imagenet_features: FloatArray
    features: FloatArray


@lru_cache(maxsize=4)
def _session(model_path: str, intra_op_threads: int, process_id: int) -> ort.InferenceSession:
    """A new session; ``process_id`` is unused here but keys the cache (one session per process)."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = intra_op_threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(model_path, sess_options=options, providers=["CPUExecutionProvider"])


class Backbone:
    """Checksum-verified, lazily loaded ONNX session for the committed EfficientNet-Lite2 export."""

    def __init__(self, artifacts_dir: Path, intra_op_threads: int = 1) -> None:
        if intra_op_threads < 1:
            raise ValueError(f"intra_op_threads must be >= 1, got {intra_op_threads}")
        self._artifacts_dir = artifacts_dir
        self._threads = intra_op_threads
        self._model_path: Path | None = None

    def _get_session(self) -> ort.InferenceSession:
        if self._model_path is None:
            self._model_path = verified_path(self._artifacts_dir, MODEL_FILE)
        return _session(str(self._model_path), self._threads, os.getpid())

    def load(self) -> None:
        """Verify the model file and create the session now rather than on the first photo."""
        self._get_session()

    @cached_property
    def _output_names(self) -> list[str]:
        """The outputs each run asks for, read from the graph once (not on every photo)."""
        graph_outputs = {output.name for output in self._get_session().get_outputs()}
        return [*OUTPUT_NAMES, WASTE_OUTPUT] if WASTE_OUTPUT in graph_outputs else list(OUTPUT_NAMES)

    @property
    def fine_tuned(self) -> bool:
        """Whether the graph has a fine-tuned tail for the head (``waste_features``)."""
        return WASTE_OUTPUT in self._output_names

    def run(self, batch: FloatArray) -> BackboneOutputs:
        """The outputs of a preprocessed ``[N, 3, 260, 260]`` batch."""
        outputs = [
            np.asarray(output, dtype=np.float32)
            for output in self._get_session().run(self._output_names, {INPUT_NAME: batch})
        ]
        return BackboneOutputs(outputs[0], outputs[1], outputs[-1])
