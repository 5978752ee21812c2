"""Image verification: bombs and mismatches refused from the header, decodes bounded by a memory budget."""

from __future__ import annotations

import io
import resource
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from PIL import Image

from apps.core.images import DecodeBudget, DecoderBusy, InvalidImage, decode_cost_bytes, verify_image

MB = 1024 * 1024


def encoded(fmt: str, size: tuple[int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (30, 160, 90)).save(buffer, format=fmt)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def wide_webp() -> bytes:
    """A few KB that decode to 16383x2400 pixels: under the pixel limit, ~600 MB to decode with Pillow."""
    return encoded("WEBP", (16383, 2400))


def test_a_wide_webp_over_the_budget_is_refused_without_decoding(wide_webp: bytes) -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    with pytest.raises(InvalidImage, match="too large to verify"):
        verify_image(wide_webp, "image/webp", 40_000_000, DecodeBudget(256 * MB), wait_seconds=1)
    assert time.monotonic() - started < 1.0
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 50 * 1024  # KiB


def test_a_decompression_bomb_is_refused_from_the_header(wide_webp: bytes) -> None:
    with pytest.raises(InvalidImage, match="more than the limit"):
        verify_image(wide_webp, "image/webp", 1_000_000, DecodeBudget(256 * MB), wait_seconds=1)


def test_a_mismatched_type_is_refused() -> None:
    with pytest.raises(InvalidImage, match="not the declared image/png"):
        verify_image(encoded("JPEG", (64, 64)), "image/png", 1_000_000, DecodeBudget(64 * MB), 1)


def test_a_truncated_image_is_refused_without_leaking_object_reprs() -> None:
    data = encoded("PNG", (256, 256))
    with pytest.raises(InvalidImage) as refused:
        verify_image(data[: len(data) // 2], "image/png", 1_000_000, DecodeBudget(64 * MB), 1)
    assert "object at" not in str(refused.value) and "0x" not in str(refused.value)


def test_a_garbage_body_after_valid_magic_bytes_is_refused_cleanly() -> None:
    with pytest.raises(InvalidImage) as refused:
        verify_image(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "image/png", 1_000_000, DecodeBudget(64 * MB), 1)
    assert "BytesIO" not in str(refused.value)


def test_the_cost_estimate_follows_the_decoder() -> None:
    small_png = Image.open(io.BytesIO(encoded("PNG", (100, 100))))
    small_webp = Image.open(io.BytesIO(encoded("WEBP", (100, 100))))
    assert decode_cost_bytes(small_png) == 100 * 100 * 4
    assert decode_cost_bytes(small_webp) == 100 * 100 * 16


def test_decodes_wait_for_their_share_then_give_up() -> None:
    budget = DecodeBudget(10 * MB)
    data = encoded("PNG", (1000, 1000))  # 4 MB to decode
    with budget.reserve(8 * MB, timeout=1):
        started = time.monotonic()
        with pytest.raises(DecoderBusy):
            verify_image(data, "image/png", 40_000_000, budget, wait_seconds=0.2)
        assert 0.2 <= time.monotonic() - started < 1.0
    verify_image(data, "image/png", 40_000_000, budget, wait_seconds=0.2)  # the share is free again


class TrackingBudget(DecodeBudget):
    peak = 0

    @contextmanager
    def reserve(self, nbytes: int, timeout: float) -> Iterator[None]:
        with super().reserve(nbytes, timeout):
            self.peak = max(self.peak, self._in_use)
            yield


def test_concurrent_decodes_never_exceed_the_budget() -> None:
    budget = TrackingBudget(10 * MB)
    data = encoded("PNG", (1000, 1000))  # 4 MB each: at most two at a time
    errors: list[Exception] = []

    def decode() -> None:
        try:
            verify_image(data, "image/png", 40_000_000, budget, wait_seconds=30)
        except Exception as error:  # collected for the assertion below
            errors.append(error)

    threads = [threading.Thread(target=decode) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert 0 < budget.peak <= 10 * MB
    assert budget._in_use == 0 and budget._decodes == 0
