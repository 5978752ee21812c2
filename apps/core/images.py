"""Trust nothing the client uploaded: magic bytes, then the header's size against a pixel limit and a memory
estimate, before any pixel is decoded.

The API checks the header only (`check_image_header`, on the first bytes of the stored object): a
decompression bomb or a file of another type is refused at once, and the API never holds decoded pixels. The
worker decodes the whole photo anyway to classify it (`decode_image`, one image at a time per process), so a
file whose header is fine but whose data is truncated or forged fails there, and its job ends `failed` with
the reason.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

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
# How much of the stored object the API reads to find the header: PNG, WebP and most JPEGs have it in the
# first few hundred bytes; a JPEG with a large EXIF block, or a HEIC, may need the whole file (read then).
HEADER_BYTES = 64 * 1024


class InvalidImage(Exception):
    """The bytes are not a decodable image of the declared type within the limits."""


class IncompleteHeader(Exception):
    """The first bytes of the file end before its header does: read the whole file."""


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


_DECODER_ERRORS = (OSError, SyntaxError, ValueError, EOFError)


@contextmanager
def _decoding(content_type: str, max_pixels: int) -> Iterator[None]:
    """Map every decoder failure to InvalidImage with a message fit for the client."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            yield
    except (InvalidImage, IncompleteHeader):
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InvalidImage(f"the image exceeds the pixel limit of {max_pixels}") from None
    except _DECODER_ERRORS as error:
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


def check_image_header(
    data: bytes, declared_type: str, max_pixels: int, max_decode_bytes: int, complete: bool
) -> None:
    """Magic bytes, pixel count and decode memory from the header of `data`, the whole file (`complete`) or
    its first bytes; no pixel is decoded. Raises InvalidImage, or IncompleteHeader when `data` is only the
    start of the file and ends before its header does."""
    with _decoding(declared_type, max_pixels):
        try:
            image = _open(data, declared_type, max_pixels)
        except _DECODER_ERRORS:
            if complete:
                raise
            raise IncompleteHeader(declared_type) from None
        with image:
            if decode_cost_bytes(image) > max_decode_bytes:
                raise InvalidImage("the image is too large to verify; send a smaller photo")


def decode_image(data: bytes, declared_type: str, max_pixels: int) -> Image.Image:
    """Decode fully and return an RGB image (the worker: one image at a time per process). An image decoded
    as RGB is returned as it is: `convert("RGB")` would copy its pixels, twice the memory at the peak."""
    with _decoding(declared_type, max_pixels):
        image = _open(data, declared_type, max_pixels)
        image.load()
        return image if image.mode == "RGB" else image.convert("RGB")
