import numpy as np

from apps.waste.analysis.classifier.decision import CLASS_CATEGORY, TRASHNET_CLASSES
from apps.waste.analysis.classifier.imagenet_map import (
    EXPERT_CATEGORIES,
    IMAGENET_CLASSES,
    NOT_WASTE,
    TRAINED_CATEGORY,
    UNSEEN_CATEGORY,
    expert_masses,
    not_waste_mass,
    zero_shot_class_scores,
)


def test_groups_are_disjoint_and_within_imagenet():
    trained = {index for indices in TRAINED_CATEGORY.values() for index in indices}
    assert not NOT_WASTE & set(UNSEEN_CATEGORY)
    assert not NOT_WASTE & trained
    assert not set(UNSEEN_CATEGORY) & trained
    assert all(0 <= index < IMAGENET_CLASSES for index in NOT_WASTE | set(UNSEEN_CATEGORY) | trained)


def test_unseen_categories_are_never_ones_the_head_answers():
    # Textiles are answered by the expert and by the head's class learned from drawings and corrections.
    assert not set(UNSEEN_CATEGORY.values()) & set(CLASS_CATEGORY.values()) - {
        "general",
        "recyclable/textile",
    }
    assert set(TRAINED_CATEGORY) <= set(TRASHNET_CLASSES)


def test_masses_of_a_one_hot_distribution():
    cat = np.zeros(IMAGENET_CLASSES)
    cat[285] = 1.0  # Egyptian cat
    assert not_waste_mass(cat) == 1.0
    pizza = np.zeros(IMAGENET_CLASSES)
    pizza[963] = 1.0
    assert not_waste_mass(pizza) == 0.0
    assert expert_masses(pizza)[EXPERT_CATEGORIES.index("food")] == 1.0
    jersey = np.zeros(IMAGENET_CLASSES)
    jersey[610] = 1.0
    assert expert_masses(jersey)[EXPERT_CATEGORIES.index("recyclable/textile")] == 1.0
    bottle = np.zeros((1, IMAGENET_CLASSES))
    bottle[0, 907] = 1.0  # wine bottle
    assert zero_shot_class_scores(bottle, TRASHNET_CLASSES).argmax() == TRASHNET_CLASSES.index("glass")
