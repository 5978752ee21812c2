"""The default, offline analyzer: EfficientNet-Lite2 (ONNX) + a calibrated head learned on TrashNet.

It answers only the five categories it was trained and calibrated for (종이 incl. 골판지, 유리,
금속, 플라스틱, 일반). Anything else (not waste, a kind of waste it never saw, a photo unlike its training
photos, or a calibrated probability below the threshold) comes back ``uncertain`` with a note asking for a
hint; it never guesses. The hint is ignored here: the hint analyzer and the coach handle it.
See docs/classifier.md.
"""

from __future__ import annotations

from pathlib import Path

from apps.waste.analysis.classifier.artifacts import DEFAULT_ARTIFACTS_DIR
from apps.waste.analysis.classifier.decision import Abstention, Verdict
from apps.waste.analysis.classifier.runtime import EmbeddedModel
from apps.waste.analysis.types import AnalyzerSource, Candidate, Classification, ImageInput

# Chosen on the calibration split (artifacts/head.npz records it; a test keeps the two equal): the lowest
# threshold whose answered share is ≥ 95 % accurate there, a margin for real photos unlike TrashNet's.
DEFAULT_THRESHOLD = 0.76

CATEGORY_LABEL_KO = {
    "recyclable/paper": "종이",
    "recyclable/glass": "유리병",
    "recyclable/metal": "금속류",
    "recyclable/plastic": "플라스틱류",
    "general": "일반종량제폐기물",
    "food": "음식물류폐기물",
    "bulky": "대형폐기물",
    "recyclable/textile": "의류및원단",
    "recyclable/electronics": "전기전자제품",
    "recyclable/lamp": "조명제품",
}

OUT_OF_DOMAIN = frozenset({Abstention.NOT_WASTE, Abstention.UNSEEN_CATEGORY, Abstention.UNFAMILIAR})

CONFIDENT_NOTE = (
    "재질은 사진으로 판단했지만 내용물·오염 여부는 확인하지 못했어요. "
    "(Material judged from the photo; contents and contamination were not checked.)"
)

# Look-alikes the model was never shown (no training photos, no ImageNet class), so cannot tell apart from
# the category it answered; the person is told to check.
LOOKALIKE_NOTES = {
    "recyclable/paper": (
        " 우유·주스 같은 종이팩은 구분하지 못하니, 종이팩이면 따로 배출해 주세요. "
        "(Paper packs such as milk cartons look the same to this analyzer: keep them separate.)"
    ),
    "recyclable/plastic": (
        " 스티로폼(발포합성수지)은 구분하지 못하니, 스티로폼이면 알려 주세요. "
        "(Styrofoam looks like plastic to this analyzer: say so if it is.)"
    ),
    "general": (
        " 과자 봉지 같은 비닐류나 전지는 구분하지 못하니, 해당되면 알려 주세요. "
        "(Plastic film and batteries are not told apart here: say so if it is one.)"
    ),
}


class EmbeddedAnalyzer:
    """Implements ``apps.waste.analysis.types.Analyzer``; the ONNX session loads once per process, lazily."""

    def __init__(
        self,
        threshold: float = DEFAULT_THRESHOLD,
        artifacts_dir: Path | None = None,
        intra_op_threads: int = 1,
    ) -> None:
        if not 0.0 <= threshold <= 1.0:
            raise ValueError(f"threshold must be within [0, 1], got {threshold}")
        self.threshold = threshold
        self._model = EmbeddedModel(artifacts_dir or DEFAULT_ARTIFACTS_DIR, intra_op_threads)

    def warm_up(self) -> None:
        """Verify the artifacts' checksums and create the inference session now (e.g. at worker start)."""
        self._model.load()

    def analyze(self, image: ImageInput, hint: str | None = None) -> Classification:
        verdict = self._model.verdict(image.image, self.threshold)
        # Outside the training domain the head's probabilities are not calibrated (a checkerboard gets 99 %
        # "paper"), so none are reported: a hint must not be combined with them into a confident answer.
        in_domain = verdict.abstention not in OUT_OF_DOMAIN
        return Classification(
            status="confident" if verdict.confident else "uncertain",
            category=verdict.category if verdict.confident else None,
            item=verdict.item,
            confidence=min(1.0, max(0.0, verdict.confidence)) if in_domain else 0.0,
            candidates=[
                Candidate(category=category, probability=min(1.0, max(0.0, probability)))
                for category, probability in verdict.categories
                if in_domain
            ],
            source=AnalyzerSource.EMBEDDED,
            notes=(
                CONFIDENT_NOTE + LOOKALIKE_NOTES.get(verdict.category, "")
                if verdict.confident
                else self._uncertain_note(verdict)
            ),
        )

    def _uncertain_note(self, verdict: Verdict) -> str:
        if verdict.abstention is Abstention.NOT_WASTE:
            seen = self._model.imagenet_label(verdict.imagenet_top[0])
            return (
                f"사진에서 버릴 물건을 찾지 못했어요(보이는 것: {seen}). 무엇을 버리려는지 알려 주세요. "
                f"(No waste item recognised; it looks like: {seen}. Please tell us what you are discarding.)"
            )
        if verdict.abstention is Abstention.UNSEEN_CATEGORY and verdict.unseen is not None:
            category = verdict.unseen[0]
            label = CATEGORY_LABEL_KO.get(category, category)
            return (
                f"{label}처럼 보이는데, 이 분석기는 그 품목을 판정하지 않아요. 무엇인지 알려 주세요. "
                f"(Looks like {category}, which this analyzer does not judge. Please add a hint.)"
            )
        if verdict.abstention is Abstention.UNFAMILIAR:
            return (
                "학습한 폐기물 사진과 많이 달라 판단하지 않았어요. 무엇인지 알려 주세요. "
                "(The photo is too unlike the waste photos this analyzer knows. Please add a hint.)"
            )
        label = CATEGORY_LABEL_KO.get(verdict.category, verdict.category)
        return (
            f"가장 가까운 후보는 {label}({verdict.confidence:.0%})지만 확신할 수 없어요. "
            "무엇인지 알려 주세요. "
            f"(Best guess {verdict.category} at {verdict.confidence:.0%} is below the "
            f"{self.threshold:.0%} threshold. Please add a hint.)"
        )
