"""Evaluate the embedded classifier on TrashNet's held-out test split and update docs/classifier.md.

    python -m apps.waste.analysis.classifier.evaluate --data /path/to/trashnet

Only the test split (20 %, by file-name hash; never used for training, calibration or threshold choice) is
scored, through the same decision rule the API applies (``decision.judge``), using the runtime view.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from apps.waste.analysis.classifier.calibration import expected_calibration_error, softmax
from apps.waste.analysis.classifier.dataset import TRASHNET_CLASSES, load_trashnet
from apps.waste.analysis.classifier.decision import CLASS_CATEGORY, Abstention, category_probabilities, judge
from apps.waste.analysis.classifier.docs_section import DEFAULT_DOC, replace_section
from apps.waste.analysis.classifier.features import FeatureSet, add_feature_arguments, extract
from apps.waste.analysis.classifier.imagenet_map import zero_shot_class_scores
from apps.waste.analysis.classifier.runtime import load_head

ECE_BINS = 15
COMMAND = "python -m apps.waste.analysis.classifier.evaluate --data /path/to/trashnet"


@dataclass(frozen=True)
class ClassFigures:
    photos: int
    accuracy: float  # head's top-1 among the 6 classes, every photo
    coverage: float  # share answered `confident`
    answered_accuracy: float  # category accuracy on the answered share (nan when none answered)


@dataclass(frozen=True)
class Report:
    photos: int
    threshold: float
    per_class: dict[str, ClassFigures]
    class_accuracy: float
    category_accuracy: float
    zero_shot_accuracy: float
    coverage: float
    answered_accuracy: float
    category_ece: float
    category_ece_raw: float
    class_ece: float
    abstentions: dict[str, float]

    def lines(self) -> list[str]:
        rows = [
            f"Held-out TrashNet test split: {self.photos} photos; threshold {self.threshold:.2f}.",
            "",
            "| class | photos | accuracy (top-1 of 6) | answered | accuracy when answered |",
            "|---|---:|---:|---:|---:|",
            *(
                f"| {name} | {c.photos} | {c.accuracy:.1%} | {c.coverage:.1%} | {c.answered_accuracy:.1%} |"
                for name, c in self.per_class.items()
            ),
            "",
            "| measure | value | goal |",
            "|---|---:|---:|",
            f"| accuracy, 6 TrashNet classes (all photos, no abstention) | {self.class_accuracy:.1%} | |",
            f"| accuracy, taxonomy category (cardboard+paper = 종이) | {self.category_accuracy:.1%} | |",
            f"| zero-shot ImageNet→class mapping (baseline) | {self.zero_shot_accuracy:.1%} | |",
            f"| coverage at threshold (answered share) | {self.coverage:.1%} | ≥ 50% |",
            f"| accuracy on the answered share | {self.answered_accuracy:.1%} | ≥ 80% |",
            f"| ECE, category confidence, {ECE_BINS} bins | {self.category_ece:.3f} | ≤ 0.1 |",
            f"| ECE, category confidence, before temperature scaling | {self.category_ece_raw:.3f} | |",
            f"| ECE, 6-class confidence, {ECE_BINS} bins | {self.class_ece:.3f} | |",
            "",
            "Abstentions (share of test photos): "
            + ", ".join(f"{reason} {share:.1%}" for reason, share in self.abstentions.items()),
        ]
        return rows


def evaluate(features: FeatureSet, artifacts_dir: Path, threshold: float | None) -> Report:
    head = load_head(artifacts_dir.resolve())
    test = features.subset("test")
    if not test.samples:
        raise SystemExit("the test split is empty: is --data the TrashNet root?")
    threshold = head.threshold if threshold is None else threshold
    logits, pooled = test.logits[:, 0], test.features[:, 0]
    labels = test.labels()
    truth = [CLASS_CATEGORY[TRASHNET_CLASSES[label]] for label in labels]
    verdicts = judge(head, logits, pooled, threshold)

    class_hits = np.array([int(np.argmax(v.class_probabilities)) for v in verdicts]) == labels
    category_hits = np.array([v.category == expected for v, expected in zip(verdicts, truth, strict=True)])
    answered = np.array([v.confident for v in verdicts])
    category_confidence = np.array([v.confidence for v in verdicts])

    uncalibrated_best = [category_probabilities(head, row)[0] for row in softmax(head.logits(pooled))]

    zero_shot = zero_shot_class_scores(softmax(logits), head.classes).argmax(axis=1) == labels
    per_class = {}
    for index, name in enumerate(head.classes):
        members = labels == index
        if members.any():
            answered_here = members & answered
            per_class[name] = ClassFigures(
                photos=int(members.sum()),
                accuracy=float(class_hits[members].mean()),
                coverage=float(answered_here.sum() / members.sum()),
                answered_accuracy=float(category_hits[answered_here].mean())
                if answered_here.any()
                else float("nan"),
            )
    abstentions = {
        reason.value: float(np.mean([v.abstention is reason for v in verdicts])) for reason in Abstention
    }
    return Report(
        photos=len(verdicts),
        threshold=threshold,
        per_class=per_class,
        class_accuracy=float(class_hits.mean()),
        category_accuracy=float(category_hits.mean()),
        zero_shot_accuracy=float(zero_shot.mean()),
        coverage=float(answered.mean()),
        answered_accuracy=float(category_hits[answered].mean()) if answered.any() else float("nan"),
        category_ece=expected_calibration_error(category_confidence, category_hits, ECE_BINS),
        category_ece_raw=expected_calibration_error(
            np.array([confidence for _, confidence in uncalibrated_best]),
            np.array(
                [best == expected for (best, _), expected in zip(uncalibrated_best, truth, strict=True)]
            ),
            ECE_BINS,
        ),
        class_ece=expected_calibration_error(
            np.array([v.class_probabilities.max() for v in verdicts]), class_hits, ECE_BINS
        ),
        abstentions=abstentions,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_feature_arguments(parser)
    parser.add_argument("--threshold", type=float, default=None, help="default: the head's chosen threshold")
    parser.add_argument("--doc", type=Path, default=DEFAULT_DOC, help="markdown file whose figures to update")
    parser.add_argument("--no-doc", action="store_true", help="print only; leave the docs untouched")
    args = parser.parse_args()

    features = extract(load_trashnet(args.data), args.artifacts, args.cache, args.threads)
    report = evaluate(features, args.artifacts, args.threshold)
    text = "\n".join(report.lines())
    print(text)
    if not args.no_doc:
        replace_section(args.doc, "evaluation", f"Command: `{COMMAND}`\n\n{text}")
        print(f"\nupdated {args.doc}")


if __name__ == "__main__":
    main()
