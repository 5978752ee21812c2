import numpy as np
import pytest
from PIL import Image

from apps.waste.analysis.classifier.preprocessing import (
    INPUT_SIZE,
    PIXEL_MEAN,
    PIXEL_STD,
    preprocess,
)


def test_output_is_a_float32_batch_of_one_260px_chw_tensor():
    batch = preprocess(Image.new("RGB", (640, 480), (10, 20, 30)))
    assert batch.shape == (1, 3, INPUT_SIZE, INPUT_SIZE)
    assert batch.dtype == np.float32


@pytest.mark.parametrize(("value", "expected"), [(255, (255 - 127) / 128), (0, -127 / 128), (127, 0.0)])
def test_pixels_are_scaled_like_efficientnet_lite_training(value, expected):
    batch = preprocess(Image.new("RGB", (300, 300), (value, value, value)))
    assert np.allclose(batch, expected)
    assert (PIXEL_MEAN, PIXEL_STD) == (127.0, 128.0)


def test_channels_keep_rgb_order():
    batch = preprocess(Image.new("RGB", (300, 300), (255, 0, 127)))
    assert np.allclose(batch[0, :, 100, 100], [(255 - 127) / 128, -127 / 128, 0.0])


def test_the_centred_square_is_kept_and_the_sides_cut():
    # 900×300: a red centre square between two blue side squares.
    image = Image.new("RGB", (900, 300), (0, 0, 255))
    image.paste((255, 0, 0), (300, 0, 600, 300))
    batch = preprocess(image)
    assert np.allclose(batch[0, 0], (255 - 127) / 128)  # red everywhere
    assert np.allclose(batch[0, 2], -127 / 128)  # no blue left


@pytest.mark.parametrize("mode", ["L", "RGBA", "P", "CMYK"])
def test_any_pil_mode_is_converted_to_rgb(mode):
    batch = preprocess(Image.new(mode, (50, 80)))
    assert batch.shape == (1, 3, INPUT_SIZE, INPUT_SIZE)


def test_tiny_images_are_upscaled():
    assert preprocess(Image.new("RGB", (1, 1), (255, 255, 255))).shape == (1, 3, INPUT_SIZE, INPUT_SIZE)
