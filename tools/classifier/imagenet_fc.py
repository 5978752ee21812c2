"""Copy the backbone's last layer (the ``Gemm`` that turns pooled features into ImageNet logits) out of the
committed ONNX file into ``artifacts/imagenet_fc.npz``, so stored features yield ImageNet logits without
running the network (fitting and retraining work from stored features only).

Needs the ``onnx`` package, whose protobuf pin clashes with Pulumi's: run it from a small separate venv::

    python3.11 -m venv .local/venv-onnx
    .local/venv-onnx/bin/pip install onnx==1.23.2 numpy==2.4.6 onnxruntime==1.31.1 'pillow==12.*'
    .local/venv-onnx/bin/python -m tools.classifier.imagenet_fc

It checks ``features @ W + b`` against onnxruntime's own logits on random inputs before recording the file.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

from apps.waste.analysis.classifier.artifacts import DEFAULT_ARTIFACTS_DIR, MODEL_FILE, record_artifact
from apps.waste.analysis.classifier.backbone import Backbone
from apps.waste.analysis.classifier.feature_table import IMAGENET_FC_FILE, ImageNetLayer

PARITY_TOLERANCE = 1e-3


def extract_layer(model_path: Path) -> ImageNetLayer:
    graph = onnx.load(str(model_path)).graph
    (gemm,) = [node for node in graph.node if "imagenet_logits" in node.output]
    if gemm.op_type != "Gemm" or gemm.input[0] != "features":
        raise SystemExit(f"unexpected last layer: {gemm.op_type} on {list(gemm.input)}")
    transposed = any(attribute.name == "transB" and attribute.i == 1 for attribute in gemm.attribute)
    initializers = {tensor.name: numpy_helper.to_array(tensor) for tensor in graph.initializer}
    weights = initializers[gemm.input[1]].astype(np.float32)
    return ImageNetLayer(
        weights.T.copy() if transposed else weights, initializers[gemm.input[2]].astype(np.float32)
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--artifacts", type=Path, default=DEFAULT_ARTIFACTS_DIR)
    artifacts = parser.parse_args().artifacts
    layer = extract_layer(artifacts / MODEL_FILE)
    batch = np.random.default_rng(0).uniform(-1, 1, (4, 3, 260, 260)).astype(np.float32)
    outputs = Backbone(artifacts).run(batch)
    difference = float(np.abs(layer.logits(outputs.imagenet_features) - outputs.logits).max())
    if difference > PARITY_TOLERANCE:
        raise SystemExit(f"recomputed logits differ from onnxruntime's by {difference}")
    layer.save(artifacts / IMAGENET_FC_FILE)
    record_artifact(
        artifacts,
        IMAGENET_FC_FILE,
        produced_by="python -m tools.classifier.imagenet_fc",
        details={"source": f"{MODEL_FILE} (Gemm network._fc)", "parity_max_abs_diff": difference},
    )
    print(f"wrote {artifacts / IMAGENET_FC_FILE}; max |Δ logits| vs onnxruntime {difference:.2e}")


if __name__ == "__main__":
    main()
