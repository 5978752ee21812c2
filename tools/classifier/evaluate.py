"""Score the embedded classifier on the fixed TrashNet test split and an out-of-domain set; update the docs.

    python -m tools.classifier evaluate --data /path/to/trashnet [--head head.npz] [--before old.npz]

Sets (none of them ever fits or calibrates anything):

- ``trashnet-test``: the fixed test split (20 % by file-name hash), photos as shot;
- ``composites-held-out``: the same test objects matted onto background families training never used
  (grass, gravel, marble), alone or in small piles, blurred / re-lit / JPEG'd;
- ``drawn-shirts`` (truth 의류), ``drawn-cartons`` (truth 종이팩; 종이 carrying the 종이팩 note is reported
  apart), ``bare-backgrounds`` (nothing to sort: must be refused), all on held-out backgrounds.

Everything goes through the decision rule the API applies. Per class: photos, answered share, accuracy when
answered, right overall, ECE (best category's confidence vs correctness, 15 bins), confident (≥ 0.9) mistakes.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from PIL import Image

from apps.waste.analysis.classifier.artifacts import HEAD_FILE
from apps.waste.analysis.classifier.backbone import WASTE_OUTPUT, Backbone, BackboneOutputs
from apps.waste.analysis.classifier.decision import CLASS_CATEGORY, HEAD_CLASSES, Verdict
from apps.waste.analysis.classifier.feature_table import FeatureTable, ImageNetLayer
from apps.waste.analysis.classifier.head import Head
from apps.waste.analysis.classifier.imagenet_map import EXPERT_CATEGORIES
from apps.waste.analysis.classifier.preprocessing import preprocess
from apps.waste.analysis.classifier.runtime import load_head, load_imagenet_layer
from apps.waste.analysis.classifier.scoring import Score, score_verdicts, verdicts_for
from tools.classifier.backgrounds import background
from tools.classifier.dataset import load_trashnet
from tools.classifier.docs_section import EVALUATION_DOC, replace_section
from tools.classifier.features import extract
from tools.classifier.options import add_feature_arguments
from tools.classifier.renders import carton, shirt

COMMAND = "python -m tools.classifier evaluate --data /path/to/trashnet --before .local/head-before.npz"
DRAWN_PER_SET = 40
PAPER = "recyclable/paper"


@dataclass(frozen=True)
class Labelled:
    name: str
    features: np.ndarray  # what the head reads
    imagenet_features: np.ndarray  # what the ImageNet layer reads
    truth: list[str | None]
    groups: list[str]  # the row's class for the per-class table


def _drawn(
    backbone: Backbone, draw: Callable[[np.random.Generator, Image.Image], Image.Image] | None, seed: int
) -> BackboneOutputs:
    rows = []
    for index in range(DRAWN_PER_SET):
        rng = np.random.default_rng([seed, index])
        canvas = background(rng, 300, held_out=True)
        rows.append(preprocess(canvas if draw is None else draw(rng, canvas)))
    return backbone.run(np.concatenate(rows))


def evaluation_sets(table: FeatureTable, backbone: Backbone) -> list[Labelled]:
    test = table.split("test")
    sets = []
    for name, mask in (("trashnet-test", ~test.held_out), ("composites-held-out", test.held_out)):
        part = test.where(mask)
        classes = [HEAD_CLASSES[label] for label in part.labels]
        expected: list[str | None] = [CLASS_CATEGORY[c] for c in classes]
        sets.append(Labelled(name, part.features, part.imagenet_features, expected, classes))
    for name, draw, truth, seed in (
        ("drawn-shirts", shirt, "recyclable/textile", 1),
        ("drawn-cartons", carton, "recyclable/paper_pack", 2),
        ("bare-backgrounds", None, None, 3),
    ):
        outputs = _drawn(backbone, draw, seed)
        sets.append(
            Labelled(
                name,
                outputs.features,
                outputs.imagenet_features,
                [truth] * DRAWN_PER_SET,
                [name] * DRAWN_PER_SET,
            )
        )
    return sets


def before_head(path: Path) -> Head:
    """A previous head file, outside the manifest: today's format, or the format before the ImageNet
    experts (one ImageNet ceiling refusing unseen categories)."""
    with np.load(path, allow_pickle=False) as stored:
        if "unseen_ceiling" not in stored.files:
            loaded = Head.load(path)
            return replace(loaded, provenance={**loaded.provenance, "before": str(path)})
        ceiling = float(stored["unseen_ceiling"])
        fields = {name: stored[name] for name in stored.files if name not in {"unseen_ceiling"}}
    probe = Head(
        classes=tuple(str(name) for name in fields["classes"]),
        feature_mean=fields["feature_mean"].astype(np.float64),
        feature_scale=fields["feature_scale"].astype(np.float64),
        weights=fields["weights"].astype(np.float64),
        bias=fields["bias"].astype(np.float64),
        temperature=float(fields["temperature"]),
        basis=fields["basis"].astype(np.float64),
        residual_ceiling=float(fields["residual_ceiling"]),
        not_waste_ceiling=float(fields["not_waste_ceiling"]),
        expert_categories=EXPERT_CATEGORIES,
        expert_answer=np.full(len(EXPERT_CATEGORIES), np.inf),
        expert_veto=np.full(len(EXPERT_CATEGORIES), ceiling),
        threshold=float(fields["threshold"]),
    )
    return replace(probe, provenance={"before": str(path)})


def reads_imagenet_tail(head: Head) -> bool:
    """Whether ``head`` was fitted on the ImageNet tail's features (any head made before the backbone had
    a fine-tuned tail), rather than on ``waste_features``."""
    return bool(head.provenance.get("head_features", "features") != WASTE_OUTPUT)


def for_head(head: Head, sets: list[Labelled]) -> list[Labelled]:
    """The sets with the features ``head`` reads."""
    if not reads_imagenet_tail(head):
        return sets
    return [replace(labelled, features=labelled.imagenet_features) for labelled in sets]


def _row(label: str, score: Score, note: str = "") -> str:
    return (
        f"| {label} | {score.photos} | {score.coverage:.1%} | {score.answered_accuracy:.1%} | "
        f"{score.right_overall:.1%} | {score.ece:.3f} | {score.confident_mistakes} |{note}"
    )


def report(head: Head, layer: ImageNetLayer, sets: list[Labelled]) -> list[str]:
    lines = [
        "| set / class | photos | answered | right when answered | right overall | ECE | confident (≥ 0.9) "
        "mistakes |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for labelled in sets:
        verdicts = verdicts_for(head, layer, labelled.features, labelled.imagenet_features)
        lines.append(_row(f"**{labelled.name}**", score_verdicts(verdicts, labelled.truth)))
        groups = sorted(set(labelled.groups))
        if len(groups) > 1:
            for group in groups:
                members = [i for i, name in enumerate(labelled.groups) if name == group]
                picked: list[Verdict] = [verdicts[i] for i in members]
                lines.append(_row(f"  {group}", score_verdicts(picked, [labelled.truth[i] for i in members])))
        if labelled.name == "drawn-cartons":
            as_paper = sum(v.confident and v.category == PAPER for v in verdicts)
            lines[-1] += f" (answered 종이, with the 종이팩 note: {as_paper})"
        if labelled.name == "drawn-shirts":
            as_paper = sum(v.confident and v.category == PAPER for v in verdicts)
            lines[-1] += f" (answered 종이: {as_paper})"
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_feature_arguments(parser)
    parser.add_argument("--head", default=HEAD_FILE, help="head artifact to score")
    parser.add_argument("--before", type=Path, help="also score a previous head file (any format)")
    parser.add_argument("--doc", type=Path, default=EVALUATION_DOC)
    parser.add_argument("--no-doc", action="store_true", help="print only; leave the docs untouched")
    args = parser.parse_args(argv)

    artifacts = args.artifacts.resolve()
    table = extract(load_trashnet(args.data), artifacts, args.cache, args.threads)
    sets = evaluation_sets(table, Backbone(artifacts, args.threads))
    layer = load_imagenet_layer(artifacts)
    head = load_head(artifacts, args.head)
    text = [
        f"Head `{args.head}` (threshold {head.threshold:.2f}):",
        "",
        *report(head, layer, for_head(head, sets)),
    ]
    if args.before is not None:
        before = before_head(args.before)
        text += [
            "",
            f"Before (the previous head, threshold {before.threshold:.2f}):",
            "",
            *report(before, layer, for_head(before, sets)),
        ]
    body = "\n".join(text)
    print(body)
    if not args.no_doc:
        replace_section(args.doc, "evaluation", f"Command: `{COMMAND}`\n\n{body}")
        print(f"\nupdated {args.doc}")


if __name__ == "__main__":
    main()
