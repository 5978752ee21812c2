"""Which features each compared head reads (training tooling, no torch)."""

import numpy as np

from tools.classifier.compare_tails import TAILS, tables


def test_each_head_reads_its_tail_and_the_third_reads_both_side_by_side(tmp_path):
    rng = np.random.default_rng(0)
    original = rng.normal(size=(3, 4)).astype(np.float16)
    fine_tuned = rng.normal(size=(3, 4)).astype(np.float16)
    path = tmp_path / "tail-features.npz"
    np.savez(
        path,
        keys=np.array(["metal/a.jpg", "metal/b.jpg", "glass/c.jpg"]),
        labels=np.array([2, 2, 1]),
        splits=np.array(["train", "calibration", "test"]),
        views=np.zeros(3, np.int64),
        held_out=np.zeros(3, bool),
        imagenet=original,
        waste=fine_tuned,
    )

    by_tail = tables(path)

    assert list(by_tail) == list(TAILS)
    expected = {
        "original tail": original,
        "fine-tuned tail": fine_tuned,
        "both tails": np.hstack([original, fine_tuned]),
    }
    for name, table in by_tail.items():
        np.testing.assert_array_equal(table.features, expected[name])
        # The ImageNet layer and its gates always read the original tail, whichever features the head reads.
        np.testing.assert_array_equal(table.imagenet_features, original)
        assert table.splits.tolist() == ["train", "calibration", "test"]
