"""The default, offline analyzer: EfficientNet-Lite2 (ONNX) + a calibrated head learned on TrashNet.

The head answers the five categories it was trained and calibrated for (종이 incl. 골판지, 유리, 금속,
플라스틱, 일반); ImageNet's own classes answer clothes/textiles, food, electronics, furniture and lamps when
they are sure, and veto the head when they see a hint of them. Anything else (not waste, a photo unlike its
training photos, or a calibrated probability below the threshold) comes back ``uncertain`` with a note asking
for a hint; it never guesses. The hint is ignored here: the hint analyzer and the coach handle it.
See docs/classifier.md.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt

from apps.waste.analysis.classifier.artifacts import DEFAULT_ARTIFACTS_DIR, HEAD_FILE
from apps.waste.analysis.classifier.decision import Abstention, Verdict
from apps.waste.analysis.classifier.runtime import EmbeddedModel
from apps.waste.analysis.types import AnalyzerSource, Candidate, Classification, ImageInput

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

EXPERT_NOTE = (
    "사진 속 물건의 종류로 판단했어요. 재질·오염 여부는 확인하지 못했어요. "
    "(Judged from what kind of object the photo shows; material and contamination were not checked.)"
)

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
        threshold: float | None = None,
        artifacts_dir: Path | None = None,
        intra_op_threads: int = 1,
        head: str = HEAD_FILE,
    ) -> None:
        """``threshold`` None uses the ones the head was calibrated for (its board head has its own);
        ``head`` names the head artifact."""
        if threshold is not None and not 0.0 <= threshold <= 1.0:
            raise ValueError(f"threshold must be within [0, 1], got {threshold}")
        self._threshold = threshold
        self._model = EmbeddedModel(artifacts_dir or DEFAULT_ARTIFACTS_DIR, intra_op_threads, head)

    @property
    def threshold(self) -> float:
        return self._model.head.threshold if self._threshold is None else self._threshold

    @property
    def head_name(self) -> str:
        return self._model.head_name

    @property
    def artifacts_dir(self) -> Path:
        return self._model.artifacts_dir

    def warm_up(self) -> None:
        """Verify the artifacts' checksums and create the inference session now (e.g. at worker start)."""
        self._model.load()

    def features(self, image: ImageInput) -> npt.NDArray[np.float32]:
        """The pooled features the head reads (``[2560]``: the ImageNet tail's, then the fine-tuned tail's;
        ``[1280]`` with a single-tail backbone), free right after ``analyze`` of that image: what a scan
        keeps for retraining."""
        features: npt.NDArray[np.float32] = self._model.outputs(image.image).features[0]
        return features

    def analyze(self, image: ImageInput, hint: str | None = None) -> Classification:
        verdict = self._model.verdict(image.image, self._threshold)
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
            notes=self._note(verdict),
        )

    def _note(self, verdict: Verdict) -> str:
        if verdict.expert:
            return EXPERT_NOTE
        if verdict.confident:
            return CONFIDENT_NOTE + LOOKALIKE_NOTES.get(verdict.category, "")
        return self._uncertain_note(verdict)

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
                f"{label}일 수도 있어 판정하지 않았어요. 무엇인지 알려 주세요. "
                f"(It may be {category}, which this analyzer cannot confirm. Please add a hint.)"
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
            f"{verdict.threshold:.0%} threshold. Please add a hint.)"
        )
