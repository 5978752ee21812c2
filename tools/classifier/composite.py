"""TrashNet objects lifted off their white board and placed on other backgrounds, augmented like real photos.

TrashNet shows one object on a plain white-ish board, so a colour-distance matte from the board colour (the
median of the photo's border) separates the object well for opaque items (transparent glass and plastic keep
some of the board showing through, as they would on any light surface). Each composite: a background from one
family (``backgrounds``), one or several objects of the same class scaled, rotated and re-lit, a soft drop
shadow, then optional blur, a colour cast and JPEG compression. Deterministic: every random draw comes from
the generator the caller seeds.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageEnhance, ImageFilter
from scipy import ndimage

from tools.classifier.backgrounds import Generator, background

CANVAS = 300
BORDER = 6
MATTE_WIDTH = 192
# Chebyshev colour distance from the board beyond which a pixel belongs to the object.
MATTE_DISTANCE = 38.0
MIN_OBJECT_SHARE, MAX_OBJECT_SHARE = 0.02, 0.85


@dataclass(frozen=True)
class Cutout:
    """An object cropped to its bounding box with a soft alpha matte (RGBA)."""

    image: Image.Image


def _board(pixels: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Per-pixel board colour: a quadratic surface fitted to the border strips (boards are unevenly lit)."""
    height, width, _ = pixels.shape
    y, x = np.mgrid[0:height, 0:width]
    y, x = y / height - 0.5, x / width - 0.5
    design = np.stack([np.ones_like(x), x, y, x * x, y * y, x * y], axis=-1)
    strip = np.zeros((height, width), bool)
    strip[:BORDER], strip[-BORDER:], strip[:, :BORDER], strip[:, -BORDER:] = True, True, True, True
    coefficients, *_ = np.linalg.lstsq(design[strip], pixels[strip], rcond=None)
    return np.asarray(design @ coefficients)


def matte(photo: Image.Image) -> Cutout | None:
    """Cut the object out of a plain-board photo; None when no clean object/board separation exists."""
    full = photo.convert("RGB")
    small = full.resize((MATTE_WIDTH, round(full.height * MATTE_WIDTH / full.width)))
    pixels = np.asarray(small, np.float64)
    distance = np.abs(pixels - _board(pixels)).max(axis=-1)
    mask = ndimage.binary_opening(distance > MATTE_DISTANCE, iterations=1)
    mask = ndimage.binary_fill_holes(mask)
    labels, count = ndimage.label(mask)
    if count == 0:
        return None
    sizes = ndimage.sum(mask, labels, index=np.arange(1, count + 1))
    keep = np.isin(labels, 1 + np.flatnonzero(sizes >= 0.1 * sizes.max()))
    share = float(keep.mean())
    if not MIN_OBJECT_SHARE <= share <= MAX_OBJECT_SHARE:
        return None
    alpha = Image.fromarray((keep * 255).astype(np.uint8)).resize(full.size, Image.Resampling.BILINEAR)
    alpha = alpha.filter(ImageFilter.GaussianBlur(1.2))
    rgba = full.copy()
    rgba.putalpha(alpha)
    box = alpha.point(lambda value: 255 if value > 127 else 0).getbbox()
    return Cutout(rgba.crop(box)) if box else None


def _place(canvas: Image.Image, cutout: Cutout, rng: np.random.Generator, side_share: float) -> None:
    obj = cutout.image
    scale = side_share * CANVAS / max(obj.size)
    obj = obj.resize((max(1, int(obj.width * scale)), max(1, int(obj.height * scale))))
    obj = obj.rotate(float(rng.uniform(-30, 30)), expand=True, resample=Image.Resampling.BILINEAR)
    rgb = obj.convert("RGB")
    rgb = ImageEnhance.Brightness(rgb).enhance(float(rng.uniform(0.7, 1.25)))
    rgb = ImageEnhance.Contrast(rgb).enhance(float(rng.uniform(0.75, 1.25)))
    rgb = ImageEnhance.Color(rgb).enhance(float(rng.uniform(0.7, 1.3)))
    alpha = obj.getchannel("A")
    slack_x, slack_y = max(1, CANVAS - obj.width), max(1, CANVAS - obj.height)
    left = int(rng.integers(-obj.width // 10, slack_x + obj.width // 10))
    top = int(rng.integers(-obj.height // 10, slack_y + obj.height // 10))
    shadow = alpha.filter(ImageFilter.GaussianBlur(8)).point(lambda value: int(value * 0.45))
    offset = int(rng.integers(3, 12))
    canvas.paste((0, 0, 0), (left + offset, top + offset), shadow)
    canvas.paste(rgb, (left, top), alpha)


def photographic(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    if rng.random() < 0.35:
        image = image.filter(ImageFilter.GaussianBlur(float(rng.uniform(0.4, 1.8))))
    cast = rng.uniform(0.88, 1.12, 3)
    pixels = np.clip(np.asarray(image, np.float64) * cast, 0, 255).astype(np.uint8)
    image = Image.fromarray(pixels)
    if rng.random() < 0.7:
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=int(rng.integers(30, 90)))
        buffer.seek(0)
        image = Image.open(buffer).convert("RGB")
    return image


def compose(
    cutouts: list[Cutout],
    rng: np.random.Generator,
    held_out: bool = False,
    families: dict[str, Generator] | None = None,
) -> Image.Image:
    """One composite photo: the cutouts (one = a close-up, several = a small pile) on a background of
    ``families`` (default: the held-out or the training families)."""
    canvas = background(rng, CANVAS, held_out, families).convert("RGB")
    if len(cutouts) == 1:
        _place(canvas, cutouts[0], rng, float(rng.uniform(0.45, 0.95)))
    else:
        for cutout in cutouts:
            _place(canvas, cutout, rng, float(rng.uniform(0.3, 0.55)))
    return photographic(canvas, rng)


def seeded(key: str, view: int) -> np.random.Generator:
    """The generator of view ``view`` of photo ``key``: stable across runs and machines."""
    digest = np.frombuffer(key.encode("utf-8"), np.uint8)
    return np.random.default_rng([view, *digest.tolist()])


def array_of(image: Image.Image) -> npt.NDArray[np.uint8]:
    return np.asarray(image.convert("RGB"), np.uint8)
