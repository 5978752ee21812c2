"""Drawn stand-ins for things TrashNet lacks: clothes (의류) and beverage cartons (종이팩).

Used by the out-of-domain evaluation (on held-out backgrounds) and by the tests. They are crude drawings,
not photos: they check the rules (a shirt must never be answered 종이; a carton must be refused or carry the
종이팩 note), not how well real clothes or cartons are recognised.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFilter

SIZE = 300


def _cloth(rng: np.random.Generator, colour: npt.NDArray[np.float64]) -> Image.Image:
    """Fabric lit unevenly: soft low-frequency shading, a few smooth fold ridges, fine weave noise."""
    coarse = rng.random((6, 6))
    shading = Image.fromarray((coarse * 255).astype(np.uint8)).resize((SIZE, SIZE), Image.Resampling.BICUBIC)
    y, x = np.mgrid[0:SIZE, 0:SIZE]
    ridges = np.zeros((SIZE, SIZE))
    for _ in range(5):
        angle, offset, width = rng.uniform(0, np.pi), rng.uniform(-80, 80), rng.uniform(4, 12)
        distance = (x - SIZE / 2) * np.cos(angle) + (y - SIZE / 2) * np.sin(angle) - offset
        ridges += np.exp(-((distance / width) ** 2)) * rng.uniform(-1, 1)
    light = 0.75 + 0.35 * np.asarray(shading, np.float64) / 255 + 0.12 * ridges
    weave = 1 + 0.05 * rng.normal(0, 1, (SIZE, SIZE))
    pixels = colour[None, None, :] * (light * weave)[..., None]
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(0.7))


def shirt(rng: np.random.Generator, canvas: Image.Image) -> Image.Image:
    """A T-shirt laid flat (body, sleeves, ribbed neckline, soft folds, drop shadow) on ``canvas``."""
    image = canvas.resize((SIZE, SIZE)).convert("RGB")
    scale = rng.uniform(0.8, 1.0)
    cx, top = SIZE / 2, SIZE * (0.5 - 0.4 * scale)

    def at(u: float, v: float) -> tuple[float, float]:
        return cx + u * SIZE * 0.5 * scale, top + v * SIZE * 0.8 * scale

    outline = [at(-0.22, 0), at(-0.6, 0.1), at(-0.95, 0.38), at(-0.72, 0.55), at(-0.48, 0.4),
               at(-0.5, 1.0), at(0.5, 1.0), at(0.48, 0.4), at(0.72, 0.55), at(0.95, 0.38),
               at(0.6, 0.1), at(0.22, 0)]  # fmt: skip
    mask = Image.new("L", (SIZE, SIZE), 0)
    draw = ImageDraw.Draw(mask)
    draw.polygon(outline, fill=255)
    draw.chord([at(-0.22, -0.12), at(0.22, 0.12)], 0, 180, fill=0)  # neckline
    colour = rng.uniform(20, 235, 3)
    cloth = _cloth(rng, colour)
    rib = tuple(int(v * 0.7) for v in colour)
    ImageDraw.Draw(cloth).arc([at(-0.24, -0.14), at(0.24, 0.14)], 0, 180, fill=rib, width=6)
    image.paste((0, 0, 0), (5, 6), mask.filter(ImageFilter.GaussianBlur(6)).point(lambda v: int(v * 0.4)))
    image.paste(cloth, (0, 0), mask.filter(ImageFilter.GaussianBlur(1)))
    return image


def carton(rng: np.random.Generator, canvas: Image.Image) -> Image.Image:
    """A gable-top milk or juice carton standing upright, printed panel and all, on ``canvas``."""
    image = canvas.resize((SIZE, SIZE)).convert("RGB")
    draw = ImageDraw.Draw(image)
    width, height = rng.uniform(70, 110), rng.uniform(150, 200)
    left, bottom = SIZE / 2 - width / 2, SIZE / 2 + height / 2
    depth = width * 0.45
    base = np.array([rng.uniform(225, 252)] * 3)
    ink = tuple(int(v) for v in rng.uniform(0, 220, 3))
    shoulder, apex, rise = bottom - height, bottom - height - width * 0.45, depth * 0.4
    right = left + width

    def shade(factor: float) -> tuple[int, ...]:
        return tuple(int(v * factor) for v in base)

    draw.polygon([(left, shoulder), (right, shoulder), (right, bottom), (left, bottom)], fill=shade(1.0))
    draw.polygon(
        [
            (right, shoulder),
            (right + depth, shoulder - rise),
            (right + depth, bottom - rise),
            (right, bottom),
        ],
        fill=shade(0.8),
    )
    draw.polygon([(left, shoulder), (left + width / 2, apex), (right, shoulder)], fill=shade(0.92))
    draw.polygon(
        [(left + width / 2, apex), (left + width / 2 + depth, apex - rise), (right + depth, shoulder - rise),
         (right, shoulder)],
        fill=shade(0.85),
    )  # fmt: skip
    draw.rectangle([left + width / 2 - 4, apex - 10, left + width / 2 + 4, apex], fill=shade(0.9))
    draw.rectangle([left + 6, bottom - height * 0.7, left + width - 6, bottom - height * 0.3], fill=ink)
    draw.text((left + 10, bottom - height * 0.55), str(rng.choice(["MILK", "JUICE", "1L", "ORANGE"])),
              fill=(255, 255, 255))  # fmt: skip
    return image.filter(ImageFilter.GaussianBlur(0.6))
