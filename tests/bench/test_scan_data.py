from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from bench.scan_data import GENERATED_SIZE, generated_photo, load_photo


def test_the_generated_photo_is_a_decodable_jpeg_with_content() -> None:
    data = generated_photo()
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "JPEG"
        assert image.size == GENERATED_SIZE
    assert len(data) > 50_000  # noise and shapes: not a flat image that compresses to nothing


def test_a_given_jpeg_is_described(tmp_path: Path) -> None:
    path = tmp_path / "photo.jpg"
    Image.new("RGB", (64, 48), (10, 20, 30)).save(path, format="JPEG")
    photo = load_photo(path)
    assert (photo.width, photo.height, photo.content_type) == (64, 48, "image/jpeg")
    assert photo.data == path.read_bytes()


def test_a_photo_that_is_not_a_jpeg_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "photo.png"
    Image.new("RGB", (8, 8)).save(path, format="PNG")
    with pytest.raises(ValueError, match="PNG"):
        load_photo(path)
