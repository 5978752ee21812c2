"""Fixtures: small photos bundled with scikit-image or drawn with PIL (no TrashNet, no torch)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw
from skimage import data as skimage_data

from apps.waste.analysis.embedded import EmbeddedAnalyzer
from apps.waste.analysis.types import ImageInput


def photo(name: str) -> Image.Image:
    """A scikit-image sample photo as an RGB PIL image (``chelsea`` the cat, ``astronaut``, ``page`` …)."""
    pixels = getattr(skimage_data, name)()
    if pixels.ndim == 2:
        pixels = np.stack([pixels] * 3, axis=-1)
    return Image.fromarray(pixels[..., :3].astype(np.uint8))


def landscape() -> Image.Image:
    """A drawn landscape: sky, snow-capped mountains, sun, grass."""
    image = Image.new("RGB", (400, 300))
    draw = ImageDraw.Draw(image)
    for y in range(180):
        draw.line([(0, y), (400, y)], fill=(90 + y // 3, 150 + y // 3, 235))
    draw.polygon([(0, 180), (120, 90), (240, 180)], fill=(110, 110, 120))
    draw.polygon([(160, 180), (300, 70), (400, 180)], fill=(90, 95, 105))
    draw.polygon([(255, 105), (300, 70), (345, 105)], fill=(245, 245, 250))
    for y in range(180, 300):
        draw.line([(0, y), (400, y)], fill=(40, 120 + (y - 180) // 4, 40))
    draw.ellipse([(40, 30), (90, 80)], fill=(255, 230, 120))
    return image


def as_input(image: Image.Image) -> ImageInput:
    return ImageInput(data=b"", content_type="image/png", image=image)


@pytest.fixture(scope="session")
def analyzer() -> EmbeddedAnalyzer:
    embedded = EmbeddedAnalyzer()
    embedded.warm_up()
    return embedded
