"""Matting TrashNet-style photos and composing them onto other backgrounds (training tooling)."""

import numpy as np
from PIL import Image, ImageDraw

from tools.classifier.backgrounds import HELD_OUT_FAMILIES, TRAIN_FAMILIES, background
from tools.classifier.composite import CANVAS, compose, matte, seeded


def board_photo() -> Image.Image:
    """A red can-like object on an unevenly lit white board, as TrashNet photos are shot."""
    y, x = np.mgrid[0:384, 0:512]
    board = 235 - 25 * ((x - 256) ** 2 + (y - 192) ** 2) / (256**2 + 192**2)
    image = Image.fromarray(np.repeat(board[..., None], 3, axis=-1).astype(np.uint8))
    ImageDraw.Draw(image).rounded_rectangle([(200, 100), (320, 300)], 20, fill=(180, 30, 40))
    return image


def test_the_object_is_cut_out_of_the_board():
    cutout = matte(board_photo())
    assert cutout is not None
    assert abs(cutout.image.width - 121) <= 6
    assert abs(cutout.image.height - 201) <= 6
    alpha = np.asarray(cutout.image.getchannel("A"))
    assert alpha[100, 60] == 255  # inside the object
    assert alpha[0, 0] < 128  # the rounded corner is background


def test_a_photo_without_an_object_has_no_cutout():
    assert matte(Image.new("RGB", (512, 384), (230, 230, 230))) is None


def test_composites_are_deterministic_per_seed_and_differ_between_seeds():
    cutout = matte(board_photo())
    assert cutout is not None
    first = np.asarray(compose([cutout], seeded("metal/a.jpg", 1)))
    again = np.asarray(compose([cutout], seeded("metal/a.jpg", 1)))
    other = np.asarray(compose([cutout, cutout], seeded("metal/a.jpg", 2)))
    assert first.shape == (CANVAS, CANVAS, 3)
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)


def test_training_and_held_out_backgrounds_are_disjoint_families():
    assert not set(TRAIN_FAMILIES) & set(HELD_OUT_FAMILIES)
    for held_out in (False, True):
        image = background(np.random.default_rng(0), 64, held_out=held_out)
        assert image.size == (64, 64)
