"""Score the head on scenes mixing objects of different categories (the issue's "piles of several objects").

    python -m tools.classifier.mixed_piles --data /path/to/trashnet

Each matted photo of the fixed test split is piled with one or two matted test objects of *other*
categories (cardboard and paper are one category, 종이) on a held-out background, seeded by the photo's key
(view ``MIXED_VIEW``, used nowhere else): every scene holds two or three categories, so no one answer covers
it. The right outcome is a refusal (one object per photo); an answer naming one of the categories present is
half right (the other objects get no advice); an answer naming a category not present is a mistake. The
table goes to the ``mixed-piles`` section of docs/classifier-evaluation.md.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from apps.waste.analysis.classifier.artifacts import HEAD_FILE
from apps.waste.analysis.classifier.backbone import Backbone
from apps.waste.analysis.classifier.decision import CLASS_CATEGORY, Verdict, judge
from apps.waste.analysis.classifier.preprocessing import preprocess
from apps.waste.analysis.classifier.runtime import load_head
from apps.waste.analysis.classifier.scoring import CONFIDENT_MISTAKE
from tools.classifier.composite import Cutout, compose, matte, seeded
from tools.classifier.dataset import Sample, load_trashnet
from tools.classifier.docs_section import EVALUATION_DOC, replace_section
from tools.classifier.options import add_photo_arguments

COMMAND = "python -m tools.classifier.mixed_piles --data /path/to/trashnet"
MIXED_VIEW = 30
BATCH = 32


def category_of(key: str) -> str:
    """The taxonomy category of a TrashNet key ``<class>/<file>``."""
    return CLASS_CATEGORY[key.split("/", 1)[0]]


def pile_plan(keys: Sequence[str]) -> list[tuple[str, ...]]:
    """For each key, itself then one or two keys of other categories than its own and each other's."""
    plan = []
    for key in keys:
        rng = seeded(key, MIXED_VIEW)
        pile = [key]
        for _ in range(int(rng.integers(1, 3))):
            present = {category_of(member) for member in pile}
            others = [other for other in keys if category_of(other) not in present]
            if not others:
                break
            pile.append(others[int(rng.integers(len(others)))])
        plan.append(tuple(pile))
    return plan


@dataclass(frozen=True)
class MixedScore:
    scenes: int
    answered: int
    present: int  # answered a category that is in the scene
    absent: int  # answered a category that is not
    confident_absent: int  # ... at confidence >= CONFIDENT_MISTAKE

    def row(self, label: str) -> str:
        def share(count: int) -> str:
            return f"{count / self.scenes:.1%}" if self.scenes else "–"

        return (
            f"| {label} | {self.scenes} | {share(self.scenes - self.answered)} | {share(self.present)} | "
            f"{share(self.absent)} | {self.confident_absent} |"
        )


def score_mixed(verdicts: Sequence[Verdict], present: Sequence[set[str]]) -> MixedScore:
    if len(verdicts) != len(present):
        raise ValueError("one set of present categories per verdict")
    answered = [(v, categories) for v, categories in zip(verdicts, present, strict=True) if v.confident]
    wrong = [v for v, categories in answered if v.category not in categories]
    return MixedScore(
        scenes=len(verdicts),
        answered=len(answered),
        present=len(answered) - len(wrong),
        absent=len(wrong),
        confident_absent=sum(v.confidence >= CONFIDENT_MISTAKE for v in wrong),
    )


def scenes(samples: list[Sample]) -> tuple[list[Image.Image], list[set[str]]]:
    """The mixed piles of the test split's matted photos, and the categories each holds."""
    test = [sample for sample in samples if sample.split == "test"]
    cutouts: dict[str, Cutout] = {}
    for sample in test:
        cutout = matte(Image.open(sample.path).convert("RGB"))
        if cutout is not None:
            cutouts[sample.key] = cutout
    images, present = [], []
    for pile in pile_plan(sorted(cutouts)):
        images.append(compose([cutouts[key] for key in pile], seeded(pile[0], MIXED_VIEW), held_out=True))
        present.append({category_of(key) for key in pile})
    return images, present


def verdicts_of(images: list[Image.Image], artifacts: Path, head_name: str, threads: int) -> list[Verdict]:
    backbone = Backbone(artifacts, threads)
    head = load_head(artifacts, head_name)
    verdicts: list[Verdict] = []
    for start in range(0, len(images), BATCH):
        batch = np.concatenate([preprocess(image) for image in images[start : start + BATCH]])
        outputs = backbone.run(batch)
        verdicts += judge(head, outputs.logits, outputs.features)
    return verdicts


def report(verdicts: Sequence[Verdict], present: Sequence[set[str]]) -> list[str]:
    lines = [
        "| scenes | count | refused | answered a category in the scene | answered one not in it | "
        "of those at ≥ 0.9 |",
        "|---|---:|---:|---:|---:|---:|",
        score_mixed(verdicts, present).row("**mixed piles**"),
    ]
    for size in sorted({len(categories) for categories in present}):
        members = [i for i, categories in enumerate(present) if len(categories) == size]
        score = score_mixed([verdicts[i] for i in members], [present[i] for i in members])
        lines.append(score.row(f"  {size} categories"))
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_photo_arguments(parser)
    parser.add_argument("--head", default=HEAD_FILE, help="head artifact to score")
    parser.add_argument("--no-doc", action="store_true", help="print only; leave the docs untouched")
    args = parser.parse_args(argv)
    images, present = scenes(load_trashnet(args.data))
    verdicts = verdicts_of(images, args.artifacts.resolve(), args.head, args.threads)
    body = "\n".join([f"Command: `{COMMAND}` (head `{args.head}`)", "", *report(verdicts, present)])
    print(body)
    if not args.no_doc:
        replace_section(EVALUATION_DOC, "mixed-piles", body)
        print(f"\nupdated {EVALUATION_DOC}")


if __name__ == "__main__":
    main()
