"""Render the bundled sample photo (apps/samples/pet-bottle.jpg): a clear PET bottle with its label on.

A rendered image, not a photograph: the TrashNet photos we train on may not be redistributed in this
repository, and no PyPI package ships a photo of household waste. Deterministic: `python
scripts/render_sample_photo.py` rewrites the same bytes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

WIDTH, HEIGHT = 640, 480
OUTPUT = Path(__file__).resolve().parent.parent / "apps" / "samples" / "pet-bottle.jpg"


def render() -> Image.Image:
    rng = np.random.default_rng(20261125)
    shade = np.linspace(238, 205, HEIGHT)[:, None, None]
    background = np.clip(shade + rng.normal(0, 2.5, (HEIGHT, WIDTH, 1)), 0, 255)
    image = Image.fromarray(np.repeat(background, 3, axis=2).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    draw.ellipse([230, 420, 430, 452], fill=(178, 182, 186))  # shadow
    draw.rounded_rectangle(
        [250, 150, 400, 440], radius=38, fill=(214, 230, 236), outline=(150, 172, 182), width=3
    )
    draw.polygon(
        [(262, 160), (388, 160), (352, 95), (298, 95)], fill=(218, 233, 238), outline=(150, 172, 182)
    )
    draw.rectangle([298, 70, 352, 98], fill=(28, 92, 196))  # cap
    for y in range(74, 96, 5):
        draw.line([298, y, 352, y], fill=(20, 70, 160), width=1)
    draw.rectangle([250, 250, 400, 330], fill=(228, 48, 44))  # label
    draw.rectangle([262, 274, 388, 306], fill=(250, 250, 250))
    for x in range(262, 392, 14):  # ribs and highlights of the bottle wall
        draw.line([x, 170, x, 245], fill=(236, 244, 247), width=2)
        draw.line([x, 336, x, 430], fill=(236, 244, 247), width=2)
    return image.filter(ImageFilter.GaussianBlur(1.1))


if __name__ == "__main__":
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    render().save(OUTPUT, format="JPEG", quality=88, optimize=True)
    print(f"wrote {OUTPUT} ({OUTPUT.stat().st_size} bytes)")
