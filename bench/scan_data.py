"""Photos and prepared uploads for the scan benchmarks."""

from __future__ import annotations

import io
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

from bench.stack import REPO_ROOT, user_id_of

SAMPLES_DIR = REPO_ROOT / "apps" / "samples"
GENERATED_SIZE = (1280, 960)


@dataclass(frozen=True)
class Photo:
    name: str
    data: bytes
    content_type: str
    width: int
    height: int

    def describe(self) -> str:
        return f"{self.name}: {self.width}×{self.height} JPEG, {len(self.data) / 1024:.0f} KiB"


@dataclass(frozen=True)
class PreparedUpload:
    token: str
    upload_id: uuid.UUID


def generated_photo() -> bytes:
    """A photo-like JPEG (gradients, shapes and sensor-like noise), so decoding does realistic work."""
    width, height = GENERATED_SIZE
    image = Image.merge(
        "RGB",
        (
            Image.linear_gradient("L").resize(GENERATED_SIZE),
            Image.radial_gradient("L").resize(GENERATED_SIZE),
            Image.linear_gradient("L").rotate(90).resize(GENERATED_SIZE),
        ),
    )
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle(
        (width // 3, height // 6, 2 * width // 3, 5 * height // 6), 60, fill=(200, 220, 230)
    )
    draw.ellipse((width // 2 - 90, height // 6 - 40, width // 2 + 90, height // 6 + 40), fill=(30, 90, 170))
    noise = Image.effect_noise(GENERATED_SIZE, 40).convert("RGB")
    image = Image.blend(image, noise, 0.15).filter(ImageFilter.GaussianBlur(0.6))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=88)
    return buffer.getvalue()


def load_photo(path: Path | None) -> Photo:
    """The given photo, else the first JPEG sample of apps/samples/, else a generated one."""
    if path is None:
        samples = sorted(SAMPLES_DIR.glob("*.jpg")) if SAMPLES_DIR.is_dir() else []
        path = samples[0] if samples else None
    if path is None:
        data, name = generated_photo(), f"generated {GENERATED_SIZE[0]}×{GENERATED_SIZE[1]}"
    else:
        data, name = (
            path.read_bytes(),
            str(path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path),
        )
    with Image.open(io.BytesIO(data)) as image:
        if image.format != "JPEG":
            raise ValueError(f"{name} is {image.format}, the benchmarks send JPEG photos")
        width, height = image.size
    return Photo(name=name, data=data, content_type="image/jpeg", width=width, height=height)


def prepare_uploads(tokens: list[str], photo: Photo, count: int) -> list[PreparedUpload]:
    """`count` pending uploads whose photo is already in storage, round-robin over the tokens' users.

    The rows are the app's `Upload` model with the key layout and limits the API uses; the objects are put
    straight into the bucket, as the client's presigned POST would. The API then reads their first bytes
    and checks the header.
    """
    from sqlmodel import Session

    from apps.core.db import get_engine
    from apps.core.images import EXTENSION_BY_CONTENT_TYPE
    from apps.core.settings import get_settings
    from apps.core.storage import get_s3_client
    from apps.core.time import utcnow
    from apps.waste.models import Upload

    settings = get_settings()
    s3 = get_s3_client()
    users = [user_id_of(token) for token in tokens]
    expires_at = utcnow() + timedelta(hours=1)
    extension = EXTENSION_BY_CONTENT_TYPE[photo.content_type]
    uploads, prepared = [], []
    for number in range(count):
        upload_id, user_id = uuid.uuid4(), users[number % len(users)]
        prepared.append(PreparedUpload(tokens[number % len(tokens)], upload_id))
        uploads.append(
            Upload(
                id=upload_id,
                user_id=user_id,
                object_key=f"scans/{user_id}/{upload_id}.{extension}",
                content_type=photo.content_type,
                max_bytes=settings.upload_max_bytes,
                expires_at=expires_at,
            )
        )

    def put(upload: Upload) -> None:
        s3.put_object(
            Bucket=settings.s3_bucket, Key=upload.object_key, Body=photo.data, ContentType=photo.content_type
        )

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(put, uploads))
    with Session(get_engine()) as session:
        session.add_all(uploads)
        session.commit()
    return prepared
