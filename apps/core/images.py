"""Trust nothing the client uploaded: check magic bytes, then decode under a pixel limit."""

from __future__ import annotations

import io
import warnings

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


class InvalidImage(Exception):
    """The bytes are not a decodable image of the declared type within the limits."""


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


def decode_image(data: bytes, declared_type: str, max_pixels: int) -> Image.Image:
    """Decode fully (a truncated or forged file fails here) and return an RGB image.

    The pixel limit is checked from the header before any pixel is decoded, so a decompression bomb costs
    nothing.
    JPEGs are decoded at a reduced scale when large: every entropy-coded block is still read.
    """
    actual = sniff_content_type(data[:32])
    if actual is None:
        raise InvalidImage("the file is not a JPEG, PNG, WebP or HEIC image")
    if actual != declared_type:
        raise InvalidImage(f"the file is {actual}, not the declared {declared_type}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=[_PIL_FORMAT_BY_CONTENT_TYPE[actual]])
            width, height = image.size
            if width * height > max_pixels:
                raise InvalidImage(
                    f"the image has {width}x{height} pixels, more than the limit of {max_pixels}"
                )
            if image.format == "JPEG" and max(width, height) > 1024:
                image.draft("RGB", (max(width // 4, 1), max(height // 4, 1)))
            image.load()
            return image.convert("RGB")
    except InvalidImage:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise InvalidImage(f"the image exceeds the pixel limit: {error}") from error
    except (OSError, SyntaxError, ValueError) as error:
        raise InvalidImage(f"the image cannot be decoded: {error}") from error
