from collections import Counter
from pathlib import Path

import pytest
from PIL import Image

from apps.waste.analysis.classifier.decision import TRASHNET_CLASSES
from tools.classifier.dataset import load_trashnet, split_of


def test_split_is_a_stable_function_of_the_key_close_to_60_20_20():
    keys = [f"glass/glass{i}.jpg" for i in range(5000)]
    splits = Counter(split_of(key) for key in keys)
    assert abs(splits["train"] / 5000 - 0.6) < 0.03
    assert abs(splits["calibration"] / 5000 - 0.2) < 0.03
    assert abs(splits["test"] / 5000 - 0.2) < 0.03
    assert [split_of(key) for key in keys[:50]] == [split_of(key) for key in keys[:50]]


def _tree(root: Path, per_class: int = 3) -> None:
    for name in TRASHNET_CLASSES:
        (root / name).mkdir(parents=True)
        for index in range(per_class):
            Image.new("RGB", (8, 8)).save(root / name / f"{name}{index}.jpg")
    (root / "glass" / "notes.txt").write_text("not a photo")


def test_load_lists_photos_with_labels_and_splits(tmp_path):
    _tree(tmp_path)
    samples = load_trashnet(tmp_path)
    assert len(samples) == 3 * len(TRASHNET_CLASSES)
    assert {sample.key.split("/")[0] for sample in samples} == set(TRASHNET_CLASSES)
    assert all(TRASHNET_CLASSES[s.label] == s.path.parent.name for s in samples)
    assert all(s.split == split_of(s.key) for s in samples)


def test_missing_root_or_class_folder_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="TrashNet directory not found"):
        load_trashnet(tmp_path / "nowhere")
    _tree(tmp_path)
    (tmp_path / "trash" / "trash0.jpg").unlink()
    (tmp_path / "trash" / "trash1.jpg").unlink()
    (tmp_path / "trash" / "trash2.jpg").unlink()
    (tmp_path / "trash").rmdir()
    with pytest.raises(FileNotFoundError, match="class folder missing"):
        load_trashnet(tmp_path)
