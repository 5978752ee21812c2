"""Trust nothing the client uploaded: check magic bytes, then decode under a pixel limit and a memory budget.

The size is read from the header first, so a decompression bomb is refused before any pixel is decoded.
Every decode then reserves its estimated memory from a per-process `DecodeBudget` and runs on the budget's own
small thread pool: concurrent uploads of large images wait their turn instead of multiplying the memory they
need, one that could never fit is refused, and one that waits too long gets `DecoderBusy` (a 503 to retry).
The pool matters as much as the budget: glibc gives each thread its own malloc arena and keeps freed pixel
buffers there, so decodes spread over 40 request threads would each leave their peak behind; after a large
decode the freed memory is also handed back to the kernel (`malloc_trim`).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import io
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import lru_cache

import pillow_heif
from PIL import Image

pillow_heif.register_heif_opener()

EXTENSION_BY_CONTENT_TYPE = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "image/heic": "heic",
}
_PIL_FORMAT_BY_CONTENT_TYPE = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/webp": "WEBP",
    "image/heic": "HEIF",
}
_HEIC_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"mif1", b"msf1"}
# Pillow holds 4 bytes per pixel for every mode an upload decodes to (1 for L). Decoders add buffers of their
# own: measured peaks per decoded pixel (docs/hardening.md) are 4 bytes for JPEG and PNG, 7.3 for HEIF (a
# libheif frame, then Pillow's copy) and 15.7 for WebP (Pillow's animation decoder keeps canvas and frame).
_BYTES_PER_PIXEL = 4
_DECODER_COPIES = {"JPEG": 1, "PNG": 1, "WEBP": 4, "HEIF": 2}
JPEG_DRAFT_SIDE = 1024
MAX_CONCURRENT_DECODES = 2
TRIM_AFTER_BYTES = 16 * 1024 * 1024
_LIBC = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")


def _release_freed_memory() -> None:
    """Return freed heap pages to the kernel (glibc keeps them in the arena otherwise)."""
    trim = getattr(_LIBC, "malloc_trim", None)
    if trim is not None:
        trim(0)


class InvalidImage(Exception):
    """The bytes are not a decodable image of the declared type within the limits."""


class DecoderBusy(Exception):
    """Other decodes hold the memory budget; the caller should retry shortly."""


class DecodeBudget:
    """Bytes of decoded pixels that all concurrent decodes of this process may hold together."""

    def __init__(self, capacity_bytes: int, max_concurrent: int = MAX_CONCURRENT_DECODES) -> None:
        self.capacity_bytes = capacity_bytes
        self.max_concurrent = max_concurrent
        self._in_use = 0
        self._decodes = 0
        self._changed = threading.Condition()
        self._pool = ThreadPoolExecutor(max_workers=max_concurrent, thread_name_prefix="image-decode")

    def run(self, decode: Callable[[], object], nbytes: int) -> None:
        """Run `decode` on the budget's own threads (call inside `reserve`)."""

        def bounded() -> None:
            try:
                decode()
            finally:
                if nbytes >= TRIM_AFTER_BYTES:
                    _release_freed_memory()

        self._pool.submit(bounded).result()

    @contextmanager
    def reserve(self, nbytes: int, timeout: float) -> Iterator[None]:
        if nbytes > self.capacity_bytes:
            raise InvalidImage("the image is too large to verify; send a smaller photo")
        deadline = time.monotonic() + timeout
        with self._changed:
            while self._in_use + nbytes > self.capacity_bytes or self._decodes >= self.max_concurrent:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise DecoderBusy("every image decoder is busy; retry shortly")
                self._changed.wait(remaining)
            self._in_use += nbytes
            self._decodes += 1
        try:
            yield
        finally:
            with self._changed:
                self._in_use -= nbytes
                self._decodes -= 1
                self._changed.notify_all()


@lru_cache
def process_decode_budget(capacity_bytes: int) -> DecodeBudget:
    return DecodeBudget(capacity_bytes)


def sniff_content_type(head: bytes) -> str | None:
    """The content type the leading bytes prove, or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if len(head) >= 12 and head[4:8] == b"ftyp" and head[8:12] in _HEIC_BRANDS:
        return "image/heic"
    return None


def decode_cost_bytes(image: Image.Image) -> int:
    """Peak memory of decoding `image` (opened, not loaded; after any draft), from its header."""
    width, height = image.size
    return width * height * _BYTES_PER_PIXEL * _DECODER_COPIES.get(image.format or "", 2)


@contextmanager
def _decoding(content_type: str, max_pixels: int) -> Iterator[None]:
    """Map every decoder failure to InvalidImage with a message fit for the client."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            yield
    except (InvalidImage, DecoderBusy):
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InvalidImage(f"the image exceeds the pixel limit of {max_pixels}") from None
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        # Decoder messages can name internal objects (`<_io.BytesIO object at 0x…>`): say only what failed.
        raise InvalidImage(f"the {content_type} image cannot be decoded ({type(error).__name__})") from None


def _open(data: bytes, declared_type: str, max_pixels: int) -> Image.Image:
    """Open (header only) after checking the magic bytes and the pixel count; JPEGs drafted when large."""
    actual = sniff_content_type(data[:32])
    if actual is None:
        raise InvalidImage("the file is not a JPEG, PNG, WebP or HEIC image")
    if actual != declared_type:
        raise InvalidImage(f"the file is {actual}, not the declared {declared_type}")
    image = Image.open(io.BytesIO(data), formats=[_PIL_FORMAT_BY_CONTENT_TYPE[actual]])
    width, height = image.size
    if width * height > max_pixels:
        raise InvalidImage(f"the image has {width}x{height} pixels, more than the limit of {max_pixels}")
    if image.format == "JPEG" and max(width, height) > JPEG_DRAFT_SIDE:
        # Decoded at a reduced scale: every entropy-coded block is still read.
        image.draft("RGB", (max(width // 4, 1), max(height // 4, 1)))
    return image


def verify_image(
    data: bytes, declared_type: str, max_pixels: int, budget: DecodeBudget, wait_seconds: float
) -> None:
    """Decode fully under the memory budget (a truncated or forged file fails here) and discard the pixels.

    Raises InvalidImage or DecoderBusy.
    """
    with _decoding(declared_type, max_pixels):
        image = _open(data, declared_type, max_pixels)
        cost = decode_cost_bytes(image)
        with budget.reserve(cost, wait_seconds):
            try:
                budget.run(image.load, cost)
            finally:
                image.close()


def decode_image(data: bytes, declared_type: str, max_pixels: int) -> Image.Image:
    """Decode fully and return an RGB image (the worker: one image at a time per process)."""
    with _decoding(declared_type, max_pixels):
        image = _open(data, declared_type, max_pixels)
        image.load()
        return image.convert("RGB")
