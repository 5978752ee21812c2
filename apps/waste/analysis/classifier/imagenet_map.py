"""What the backbone's ImageNet-1k classes say about a photo, in taxonomy terms.

The learned head only knows the six TrashNet classes. ImageNet's 1,000 classes are used for what the head
cannot know: whether the photo shows waste at all (animals, people, plants, landscapes, vehicles and buildings
are ``NOT_WASTE``), and whether it shows a kind of waste the head was never trained on (food, textiles,
electronics, lamps, furniture …: ``UNSEEN_CATEGORY``). ``TRAINED_CATEGORY`` maps the few ImageNet classes that
name a TrashNet material; it is the zero-shot baseline the evaluation compares the head against.

ImageNet has no class for paper packs (종이팩), styrofoam (발포합성수지) or batteries (전지). Its ``carton``
(cardboard boxes), ``packet`` and ``plastic bag`` classes fire on ordinary TrashNet cardboard, paper and trash
photos, so they cannot signal paper packs or plastic film and are no unseen-category cue (``carton`` counts
for cardboard in the baseline). Index ranges follow the standard ImageNet-1k order (0–397 are animals).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from apps.waste.analysis.classifier.calibration import Array

IMAGENET_CLASSES = 1000

NOT_WASTE: frozenset[int] = frozenset(
    [
        *range(0, 398),  # animals: fish, birds, reptiles, amphibians, mammals, invertebrates
        *range(970, 971),  # alp
        *range(972, 984),  # cliff … volcano (scenery), ballplayer, groom, scuba diver (people)
        *range(984, 987),  # rapeseed, daisy, lady's slipper
        *range(989, 998),  # hip, buckeye, fungi
        # vehicles, vessels and aircraft
        403, 404, 405, 407, 408, 436, 444, 466, 468, 472, 484, 510, 511, 537, 547, 554, 555, 561, 565, 569,
        573, 575, 576, 586, 595, 603, 609, 612, 627, 628, 654, 656, 660, 661, 665, 670, 671, 675, 690, 705,
        717, 734, 751, 757, 779, 780, 802, 803, 812, 814, 817, 820, 829, 833, 847, 864, 866, 867, 870, 871,
        874, 880, 895, 914,
        # buildings, structures and places
        406, 410, 415, 424, 425, 442, 449, 454, 460, 467, 483, 497, 498, 500, 509, 525, 536, 538, 540, 562,
        580, 582, 624, 634, 646, 649, 663, 668, 682, 698, 706, 718, 727, 743, 755, 762, 788, 807, 819, 821,
        825, 832, 839, 853, 858, 860, 863, 865, 873, 888, 900, 912, 915, 919, 920,
    ]
)  # fmt: skip

UNSEEN_CATEGORY: dict[int, str] = {
    **{index: "food" for index in (*range(924, 966), 987)},  # dishes, bread, vegetables, fruit, corn
    **dict.fromkeys((846, 619), "recyclable/lamp"),  # table lamp, lampshade
    **dict.fromkeys(
        (
            399, 400, 411, 434, 443, 474, 501, 552, 568, 578, 601, 608, 610, 614, 617, 638, 639, 652,
            655, 658, 689, 697, 750, 775, 806, 824, 834, 841, 869, 885, 887, 911,
        ),
        "recyclable/textile",
    ),  # clothes, towels, quilts, fabric; not handkerchief, shower cap, poncho, ties (fire on paper, film)
    **dict.fromkeys(
        (
            482, 485, 487, 508, 527, 528, 534, 545, 589, 590, 605, 606, 620, 632, 651, 662, 664, 673,
            713, 732, 740, 742, 745, 754, 759, 760, 761, 782, 811, 848, 851, 859, 882, 897,
        ),
        "recyclable/electronics",
    ),
    **dict.fromkeys(
        (423, 431, 453, 493, 495, 520, 526, 532, 559, 564, 765, 831, 857, 894), "bulky"
    ),  # furniture
    **dict.fromkeys((419, 529, 840), "general"),  # Band Aid, diaper, swab
}  # fmt: skip

# ImageNet classes that name a TrashNet material (zero-shot baseline only).
TRAINED_CATEGORY: dict[str, tuple[int, ...]] = {
    "cardboard": (478, 492, 519),  # carton (a cardboard box in ImageNet), chest, crate
    "paper": (446, 549, 681, 700, 917, 918, 921, 922, 999),  # binder … toilet tissue
    "glass": (440, 441, 572, 720, 901, 907, 966),  # beer bottle, beer glass, goblet, pill bottle, jugs, wine
    "plastic": (631, 737, 804, 898, 899),  # lotion, pop bottle, soap dispenser, water bottle, water jug
    "metal": (
        455,
        463,
        469,
        473,
        567,
        653,
        909,
    ),  # bottlecap, bucket, caldron, can opener, pan, milk can, wok
}

_NOT_WASTE_INDEX = np.array(sorted(NOT_WASTE), dtype=np.int64)


def not_waste_mass(imagenet_probabilities: npt.ArrayLike) -> Array:
    """Probability the backbone puts on living things, people, scenery, vehicles and buildings."""
    probabilities = np.asarray(imagenet_probabilities, dtype=np.float64)
    return np.asarray(probabilities[..., _NOT_WASTE_INDEX].sum(axis=-1), dtype=np.float64)


def zero_shot_class_scores(imagenet_probabilities: npt.ArrayLike, classes: tuple[str, ...]) -> Array:
    """Per TrashNet class, the ImageNet probability mass on classes naming that material (``[N, k]``)."""
    probabilities = np.asarray(imagenet_probabilities, dtype=np.float64)
    columns = [probabilities[..., list(TRAINED_CATEGORY.get(name, ()))].sum(axis=-1) for name in classes]
    return np.stack(columns, axis=-1)


EXPERT_CATEGORIES: tuple[str, ...] = tuple(sorted(set(UNSEEN_CATEGORY.values())))
_EXPERT_MATRIX = np.zeros((IMAGENET_CLASSES, len(EXPERT_CATEGORIES)))
for _index, _category in UNSEEN_CATEGORY.items():
    _EXPERT_MATRIX[_index, EXPERT_CATEGORIES.index(_category)] = 1.0


def expert_masses(imagenet_probabilities: npt.ArrayLike) -> Array:
    """``[N, len(EXPERT_CATEGORIES)]``: the probability mass on each category the head cannot answer."""
    return np.asarray(np.asarray(imagenet_probabilities, np.float64) @ _EXPERT_MATRIX, np.float64)
