"""Backgrounds for composites: procedural textures and scikit-image's bundled CC0 texture photos.

Three disjoint sets of families: ``TRAIN_FAMILIES`` are used for the training composites (and the feature
table's calibration composites), ``RESERVED_FAMILIES`` only for the fine-tuned tail's calibration composites
(so temperature and thresholds are fitted on backgrounds the tail never trained on), ``HELD_OUT_FAMILIES``
only for the out-of-domain evaluation set, so that set measures backgrounds the head never saw. Nothing is
downloaded: scikit-image ships ``brick``, ``grass`` and ``gravel`` (all CC0, see their docstrings in
``skimage.data``).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageFilter
from skimage import data as skimage_data

Pixels = npt.NDArray[np.uint8]
Generator = Callable[[np.random.Generator, int], Image.Image]


def _smooth_noise(rng: np.random.Generator, size: int, cells: int) -> npt.NDArray[np.float64]:
    """Value noise in [0, 1]: a coarse random grid resized bicubically to ``size``."""
    grid = rng.random((cells, cells))
    image = Image.fromarray((grid * 255).astype(np.uint8)).resize((size, size), Image.Resampling.BICUBIC)
    return np.asarray(image, np.float64) / 255.0


def _tint(rng: np.random.Generator, grey: npt.NDArray[np.float64], dark: bool = False) -> Image.Image:
    base = rng.uniform(20, 110, 3) if dark else rng.uniform(60, 230, 3)
    spread = rng.uniform(20, 70)
    pixels = base[None, None, :] + (grey[..., None] - 0.5) * spread * rng.uniform(0.6, 1.4, 3)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def wood(rng: np.random.Generator, size: int) -> Image.Image:
    """Wood grain: stretched sinusoidal rings warped by noise, brown palette."""
    y, x = np.mgrid[0:size, 0:size] / size
    warp = _smooth_noise(rng, size, 6)
    angle = rng.uniform(0, np.pi)
    along = x * np.cos(angle) + y * np.sin(angle)
    rings = 0.5 + 0.5 * np.sin((along * rng.uniform(15, 40) + warp * rng.uniform(3, 8)) * 2 * np.pi)
    base = np.array([rng.uniform(110, 200), rng.uniform(70, 140), rng.uniform(30, 90)])
    pixels = base[None, None, :] * (0.75 + 0.3 * rings[..., None])
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def mottled(rng: np.random.Generator, size: int) -> Image.Image:
    """A table, floor or carpet colour with low-frequency mottling and fine grain."""
    grey = 0.7 * _smooth_noise(rng, size, int(rng.integers(3, 10))) + 0.3 * rng.random((size, size))
    return _tint(rng, grey, dark=bool(rng.random() < 0.3))


def gradient(rng: np.random.Generator, size: int) -> Image.Image:
    """A lit surface: a colour gradient with a vignette."""
    y, x = np.mgrid[0:size, 0:size] / size
    angle = rng.uniform(0, 2 * np.pi)
    ramp = x * np.cos(angle) + y * np.sin(angle)
    vignette = 1.0 - 0.5 * ((x - 0.5) ** 2 + (y - 0.5) ** 2)
    start, end = rng.uniform(30, 240, 3), rng.uniform(30, 240, 3)
    pixels = (start + (end - start) * ramp[..., None]) * vignette[..., None]
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def tiles(rng: np.random.Generator, size: int) -> Image.Image:
    """Floor or wall tiles: a grid of slightly varying tiles with grout lines."""
    count = int(rng.integers(3, 9))
    step = size / count
    colour = rng.uniform(80, 235, 3)
    pixels = np.tile(colour, (size, size, 1))
    for row in range(count + 1):
        for column in range(count + 1):
            top, left = int(row * step), int(column * step)
            pixels[top : int(top + step), left : int(left + step)] = colour * rng.uniform(0.9, 1.08)
    grout = max(2, int(step * 0.05))
    for index in range(count + 1):
        edge = int(index * step)
        pixels[edge : edge + grout] = colour * 0.55
        pixels[:, edge : edge + grout] = colour * 0.55
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(1))


@lru_cache(maxsize=4)
def _texture(name: str) -> Pixels:
    pixels = np.asarray(getattr(skimage_data, name)())
    if pixels.ndim == 2:
        pixels = np.stack([pixels] * 3, axis=-1)
    return np.ascontiguousarray(pixels[..., :3].astype(np.uint8))


def _texture_crop(name: str, rng: np.random.Generator, size: int) -> Image.Image:
    pixels = _texture(name)
    side = int(rng.integers(pixels.shape[0] // 3, pixels.shape[0]))
    top = int(rng.integers(0, pixels.shape[0] - side + 1))
    left = int(rng.integers(0, pixels.shape[1] - side + 1))
    crop = Image.fromarray(pixels[top : top + side, left : left + side]).resize((size, size))
    tint = rng.uniform(0.7, 1.2, 3)
    return Image.fromarray(np.clip(np.asarray(crop, np.float64) * tint, 0, 255).astype(np.uint8))


def brick(rng: np.random.Generator, size: int) -> Image.Image:
    return _texture_crop("brick", rng, size)


def grass(rng: np.random.Generator, size: int) -> Image.Image:
    return _texture_crop("grass", rng, size)


def gravel(rng: np.random.Generator, size: int) -> Image.Image:
    return _texture_crop("gravel", rng, size)


def marble(rng: np.random.Generator, size: int) -> Image.Image:
    """Veined stone (held out): sine of a turbulent field, pale palette."""
    turbulence = sum(_smooth_noise(rng, size, cells) / cells for cells in (4, 8, 16, 32))
    y, x = np.mgrid[0:size, 0:size] / size
    veins = np.abs(np.sin((x + y + 2.5 * turbulence) * rng.uniform(4, 9) * np.pi)) ** 0.4
    base = rng.uniform(170, 245, 3)
    pixels = base[None, None, :] * (0.6 + 0.4 * veins[..., None])
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def woven(rng: np.random.Generator, size: int) -> Image.Image:
    """Woven fabric (reserved): crossed warp and weft threads with a slub of noise, one or two colours."""
    y, x = np.mgrid[0:size, 0:size]
    period = rng.uniform(4, 12)
    warp = 0.5 + 0.5 * np.sin(2 * np.pi * x / period)
    weft = 0.5 + 0.5 * np.sin(2 * np.pi * y / period)
    over = (np.floor(x / period) + np.floor(y / period)) % 2 == 0
    grey = np.where(over, warp, weft) * 0.6 + 0.4 * _smooth_noise(rng, size, int(rng.integers(8, 20)))
    return _tint(rng, grey, dark=bool(rng.random() < 0.4))


def terrazzo(rng: np.random.Generator, size: int) -> Image.Image:
    """Terrazzo or speckled laminate (reserved): a base colour scattered with chips of other colours."""
    pixels = np.tile(rng.uniform(90, 235, 3), (size, size, 1))
    for _ in range(int(rng.integers(60, 220))):
        cy, cx = rng.integers(0, size, 2)
        radius = rng.uniform(1.5, size / 30)
        reach = int(radius) + 1
        top, left = max(0, cy - reach), max(0, cx - reach)
        bottom, right = min(size, cy + reach + 1), min(size, cx + reach + 1)
        y, x = np.ogrid[top:bottom, left:right]
        window = pixels[top:bottom, left:right]
        window[(y - cy) ** 2 + (x - cx) ** 2 <= radius**2] = rng.uniform(20, 250, 3)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(0.7))


TRAIN_FAMILIES: dict[str, Generator] = {
    "wood": wood,
    "mottled": mottled,
    "gradient": gradient,
    "tiles": tiles,
    "brick": brick,
}
RESERVED_FAMILIES: dict[str, Generator] = {"woven": woven, "terrazzo": terrazzo}
HELD_OUT_FAMILIES: dict[str, Generator] = {"grass": grass, "gravel": gravel, "marble": marble}


def background(
    rng: np.random.Generator, size: int, held_out: bool = False, families: dict[str, Generator] | None = None
) -> Image.Image:
    """A background of ``families`` (default: the held-out or the training families)."""
    if families is None:
        families = HELD_OUT_FAMILIES if held_out else TRAIN_FAMILIES
    names = sorted(families)
    return families[names[int(rng.integers(len(names)))]](rng, size)
