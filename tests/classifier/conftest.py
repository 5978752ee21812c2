"""Fixtures: small photos bundled with scikit-image or drawn with PIL (no TrashNet, no torch)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter
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


def drawn_battery() -> Image.Image:
    """An AA cell on a light table: black body, copper end, metal terminal, printed label."""
    image = Image.new("RGB", (400, 300), (235, 235, 230))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle([(80, 110), (300, 190)], 12, fill=(20, 20, 20))
    draw.rectangle([(80, 110), (160, 190)], fill=(200, 120, 20))
    draw.rectangle([(300, 135), (318, 165)], fill=(170, 170, 175))
    draw.text((200, 140), "+ 1.5V AA", fill=(230, 230, 230))
    return image.filter(ImageFilter.GaussianBlur(1))


def drawn_styrofoam() -> Image.Image:
    """A white, grainy foam block with shaded edges."""
    rng = np.random.default_rng(0)
    pixels = np.full((300, 400, 3), 240, np.uint8)
    grain = np.clip(235 + rng.normal(0.0, 8.0, size=(180, 260, 1)), 0, 255).astype(np.uint8)
    pixels[60:240, 70:330] = grain.repeat(3, axis=-1)
    image = Image.fromarray(pixels)
    draw = ImageDraw.Draw(image)
    draw.line([(70, 240), (330, 240)], fill=(190, 190, 190), width=3)
    draw.line([(330, 60), (330, 240)], fill=(200, 200, 200), width=3)
    return image


def drawn_milk_carton() -> Image.Image:
    """A gable-top carton with a blue printed panel."""
    image = Image.new("RGB", (300, 400), (240, 240, 240))
    draw = ImageDraw.Draw(image)
    draw.rectangle([(90, 120), (210, 360)], fill=(250, 250, 252))
    draw.polygon([(90, 120), (150, 60), (210, 120)], fill=(235, 235, 240))
    draw.rectangle([(100, 200), (200, 300)], fill=(30, 90, 200))
    draw.text((115, 240), "MILK 1L", fill=(255, 255, 255))
    return image
