"""Train and calibrate the committed head on TrashNet; write the feature table it was fitted from.

    python -m tools.classifier train --data /path/to/trashnet

Features come from the committed ONNX backbone through onnxruntime (no torch; cached under ``.local/``).
The rows the head is fitted and calibrated on (train split: photos as shot and composites on training
backgrounds; calibration split: photos as shot and composites on the reserved backgrounds, see
``FeatureTable.calibration_rows``; the drawings) and the fixed test split (photos as shot) are written to
``artifacts/trashnet_features.npz``, so ``ecoeco classifier retrain`` can refit and compare without the
photos.
The held-out-background composites of the test split stay in the local cache (evaluation only).
"""

from __future__ import annotations

import argparse

from apps.waste.analysis.classifier.artifacts import HEAD_FILE, backbone_sha256, record_artifact
from apps.waste.analysis.classifier.backbone import WASTE_OUTPUT, Backbone
from apps.waste.analysis.classifier.feature_table import FEATURES_FILE, IMAGENET_FC_FILE, FeatureTable
from apps.waste.analysis.classifier.fit import DEFAULT_TARGET_ACCURACY, Rows, fit_head
from apps.waste.analysis.classifier.runtime import load_imagenet_layer
from tools.classifier.dataset import SPLIT_PERCENT, load_trashnet
from tools.classifier.features import RENDERS_VERSION, VIEWS_VERSION, extract, rendered
from tools.classifier.options import add_feature_arguments

COMMAND = "python -m tools.classifier train --data <trashnet>"


def committed_rows(table: FeatureTable) -> FeatureTable:
    """Everything but the held-out-background composites (those measure, they never fit) and calibration
    composites the reserved-background ones replace."""
    return table.where(~table.held_out & ~table.superseded())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_feature_arguments(parser)
    parser.add_argument("--target-accuracy", type=float, default=DEFAULT_TARGET_ACCURACY)
    args = parser.parse_args(argv)

    photos = committed_rows(extract(load_trashnet(args.data), args.artifacts, args.cache, args.threads))
    table = FeatureTable.concatenate([photos, rendered(args.artifacts, args.threads)])
    table.save(args.artifacts / FEATURES_FILE)
    backbone = {
        "backbone_sha256": backbone_sha256(args.artifacts),
        "head_features": WASTE_OUTPUT if Backbone(args.artifacts).fine_tuned else "features",
    }
    record_artifact(
        args.artifacts,
        FEATURES_FILE,
        produced_by=COMMAND,
        details={
            "source": "TrashNet (MIT, github.com/garythung/trashnet): pooled features, float16",
            "views": VIEWS_VERSION,
            "renders": RENDERS_VERSION,
            "split_percent": SPLIT_PERCENT,
            "rows": len(table),
            **backbone,
        },
    )
    layer = load_imagenet_layer(args.artifacts.resolve())
    head = fit_head(
        Rows.training(table),
        Rows.of(table.calibration_rows()),
        layer,
        args.target_accuracy,
        provenance={
            "command": COMMAND,
            "features": FEATURES_FILE,
            "imagenet_layer": IMAGENET_FC_FILE,
            **backbone,
        },
    )
    head.save(args.artifacts / HEAD_FILE)
    record_artifact(
        args.artifacts,
        HEAD_FILE,
        produced_by=COMMAND,
        details={
            "version": "trashnet",
            "temperature": head.temperature,
            "threshold": head.threshold,
            **backbone,
        },
    )
    print(f"wrote {args.artifacts / HEAD_FILE}: threshold {head.threshold:.2f}, T={head.temperature:.3f}")
    for key, value in head.provenance.items():
        print(f"  {key}: {value}")
    for category, answer, veto in zip(
        head.expert_categories, head.expert_answer, head.expert_veto, strict=True
    ):
        print(f"  expert {category}: answers from {answer:.3f}, refuses above {veto:.3f}")


if __name__ == "__main__":
    main()
