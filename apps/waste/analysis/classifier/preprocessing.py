"""Image → input tensor for EfficientNet-Lite2, shared by the runtime, training and the ONNX export check.

EfficientNet-Lite was trained with inputs scaled as ``(pixel - 127) / 128`` (the reference TensorFlow
implementation's ``MEAN_RGB = 127.0``, ``STDDEV_RGB = 128.0``), not the torchvision ImageNet mean/std.
The network is exported for a fixed 260×260 input: the photo's centred square is cut out (objects are
photographed centred) and resized to 260 px.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from PIL import Image

INPUT_SIZE = 260
PIXEL_MEAN = 127.0
PIXEL_STD = 128.0

FloatArray = npt.NDArray[np.float32]


def _centre_square(image: Image.Image) -> tuple[int, int, int, int]:
    width, height = image.size
    side = max(1, min(width, height))
    left = (width - side) // 2
    top = (height - side) // 2
    return left, top, left + side, top + side


def to_tensor(image: Image.Image) -> FloatArray:
    """Normalise an already-cropped RGB image to a (3, 260, 260) float32 array (resizing if needed)."""
    rgb = image.convert("RGB")
    if rgb.size != (INPUT_SIZE, INPUT_SIZE):
        rgb = rgb.resize((INPUT_SIZE, INPUT_SIZE), Image.Resampling.BILINEAR)
    pixels = np.asarray(rgb, dtype=np.float32)
    return ((pixels - PIXEL_MEAN) / PIXEL_STD).transpose(2, 0, 1).copy()


def preprocess(image: Image.Image) -> FloatArray:
    """The deterministic runtime transform: centred square crop, 260 px, normalised, batch of one."""
    square = image.crop(_centre_square(image))
    return to_tensor(square)[np.newaxis]
