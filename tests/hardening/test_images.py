"""Image checks: bombs, mismatches and decodes too large for memory refused from the header, before any
pixel is decoded; what the header cannot show (truncated or forged data) is refused by the worker's decode."""

from __future__ import annotations

import io
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from apps.core.images import (
    HEADER_BYTES,
    IncompleteHeader,
    InvalidImage,
    check_image_header,
    decode_cost_bytes,
    decode_image,
)

MB = 1024 * 1024
MAX_PIXELS = 40_000_000


def encoded(fmt: str, size: tuple[int, int], **options: object) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (30, 160, 90)).save(buffer, format=fmt, **options)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def wide_webp() -> bytes:
    """A few KB that decode to 16383x2400 pixels: under the pixel limit, ~600 MB to decode with Pillow."""
    return encoded("WEBP", (16383, 2400))


def test_a_wide_webp_over_the_decode_memory_is_refused_without_decoding(wide_webp: bytes) -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    with pytest.raises(InvalidImage, match="too large to verify"):
        check_image_header(wide_webp, "image/webp", MAX_PIXELS, 256 * MB, complete=True)
    assert time.monotonic() - started < 1.0
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 50 * 1024  # KiB


def test_a_decompression_bomb_is_refused_from_the_header(wide_webp: bytes) -> None:
    with pytest.raises(InvalidImage, match="more than the limit"):
        check_image_header(wide_webp, "image/webp", 1_000_000, 256 * MB, complete=True)


def test_a_mismatched_type_is_refused_from_the_first_bytes() -> None:
    with pytest.raises(InvalidImage, match="not the declared image/png"):
        check_image_header(encoded("JPEG", (64, 64))[:32], "image/png", MAX_PIXELS, 64 * MB, complete=False)


def test_a_whole_file_whose_header_is_cut_short_is_refused_without_leaking_object_reprs() -> None:
    data = encoded("JPEG", (320, 240))
    with pytest.raises(InvalidImage) as refused:
        check_image_header(data[:200], "image/jpeg", MAX_PIXELS, 64 * MB, complete=True)
    assert "object at" not in str(refused.value) and "0x" not in str(refused.value)


def test_a_garbage_body_after_valid_magic_bytes_is_refused_cleanly() -> None:
    with pytest.raises(InvalidImage) as refused:
        check_image_header(
            b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "image/png", MAX_PIXELS, 64 * MB, complete=True
        )
    assert "BytesIO" not in str(refused.value)


def test_first_bytes_that_end_before_the_header_ask_for_the_whole_file() -> None:
    with_large_exif = encoded("JPEG", (320, 240), exif=b"Exif\x00\x00" + b"\x00" * 65_000)
    assert len(with_large_exif) > HEADER_BYTES
    with pytest.raises(IncompleteHeader):
        check_image_header(with_large_exif[:HEADER_BYTES], "image/jpeg", MAX_PIXELS, 64 * MB, complete=False)
    check_image_header(with_large_exif, "image/jpeg", MAX_PIXELS, 64 * MB, complete=True)


def test_a_truncated_file_with_an_intact_header_passes_the_check_and_fails_the_decode() -> None:
    truncated = encoded("PNG", (256, 256))
    truncated = truncated[: len(truncated) // 2]
    check_image_header(truncated, "image/png", MAX_PIXELS, 64 * MB, complete=True)
    with pytest.raises(InvalidImage, match="cannot be decoded") as refused:
        decode_image(truncated, "image/png", MAX_PIXELS)
    assert "object at" not in str(refused.value)


def test_the_cost_estimate_follows_the_decoder() -> None:
    small_png = Image.open(io.BytesIO(encoded("PNG", (100, 100))))
    small_webp = Image.open(io.BytesIO(encoded("WEBP", (100, 100))))
    assert decode_cost_bytes(small_png) == 100 * 100 * 4
    assert decode_cost_bytes(small_webp) == 100 * 100 * 16


def test_the_worker_decode_holds_one_copy_of_the_pixels(tmp_path: Path) -> None:
    """An RGB photo is not copied by a conversion to RGB: the peak is one decoded image (Pillow keeps RGB as
    4 bytes a pixel), not two."""
    photo = tmp_path / "photo.png"
    photo.write_bytes(encoded("PNG", (3000, 3000)))
    measured = subprocess.run(
        [sys.executable, "-m", "tests.support.decode_memory", str(photo), "image/png"],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    pixels_kib = 3000 * 3000 * 4 // 1024
    assert int(measured.stdout) < 1.5 * pixels_kib
