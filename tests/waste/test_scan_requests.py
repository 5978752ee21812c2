"""The scan API's contract and every way a request can be wrong (no worker needed)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from PIL import Image
from sqlmodel import Session, col, select

from apps.core.db import get_engine
from apps.core.images import HEADER_BYTES
from apps.core.settings import get_settings
from apps.waste.models import AnalysisJob, Upload, UploadStatus
from tests.support.identity import sign_in
from tests.waste.conftest import image_bytes, upload_photo


def analyses(api: httpx.Client, auth: dict[str, str], upload_id: str, **extra: object) -> httpx.Response:
    headers = {**auth, **extra.pop("headers", {})}  # type: ignore[dict-item]
    return api.post("/api/v1/waste/analyses", json={"upload_id": upload_id, **extra}, headers=headers)


def upload_state(upload_id: str) -> tuple[str, int]:
    """The upload's status and how many jobs refer to it."""
    with Session(get_engine()) as session:
        upload = session.get(Upload, uuid.UUID(upload_id))
        assert upload is not None
        jobs = session.exec(select(AnalysisJob).where(col(AnalysisJob.upload_id) == upload.id)).all()
        return upload.status, len(jobs)


def test_presigned_post_binds_key_type_size_and_expiry(api: httpx.Client, auth: dict[str, str]) -> None:
    settings = get_settings()
    body = api.post("/api/v1/waste/uploads", json={"content_type": "image/png"}, headers=auth).json()
    fields = body["upload_fields"]
    me = api.get("/api/v1/users/me", headers=auth).json()
    assert body["object_key"] == fields["key"]
    assert body["object_key"].startswith(f"scans/{me['id']}/") and body["object_key"].endswith(".png")

    policy = json.loads(base64.b64decode(fields["policy"]))
    expiration = datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00"))
    assert timedelta(minutes=4) < expiration - datetime.now(UTC) <= timedelta(minutes=5)
    conditions = policy["conditions"]
    assert {"bucket": settings.s3_bucket} in conditions
    assert {"key": body["object_key"]} in conditions
    assert {"Content-Type": "image/png"} in conditions
    assert ["content-length-range", 1, settings.upload_max_bytes] in conditions
    assert {"x-amz-algorithm": "AWS4-HMAC-SHA256"} in conditions

    # The signature is SigV4 over the policy with our secret: a forged policy would not verify at S3.
    date = fields["x-amz-date"][:8]
    secret = settings.s3_secret_access_key
    assert secret is not None
    key = ("AWS4" + secret.get_secret_value()).encode()
    for part in (date, settings.s3_region, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    expected = hmac.new(key, fields["policy"].encode(), hashlib.sha256).hexdigest()
    assert fields["x-amz-signature"] == expected


def test_upload_requests_are_validated(api: httpx.Client, auth: dict[str, str]) -> None:
    assert api.post("/api/v1/waste/uploads", json={"content_type": "image/png"}).status_code == 401
    bad_token = {"Authorization": "Bearer not-a-token"}
    assert (
        api.post("/api/v1/waste/uploads", json={"content_type": "image/png"}, headers=bad_token).status_code
        == 401
    )
    gif = api.post("/api/v1/waste/uploads", json={"content_type": "image/gif"}, headers=auth)
    assert gif.status_code == 422
    too_big = api.post(
        "/api/v1/waste/uploads", json={"content_type": "image/jpeg", "size_bytes": 50_000_000}, headers=auth
    )
    assert too_big.status_code == 413 and "limit" in too_big.json()["detail"]


def test_malformed_json_is_a_clear_422(api: httpx.Client, auth: dict[str, str]) -> None:
    response = api.post(
        "/api/v1/waste/analyses",
        content=b'{"upload_id": ',
        headers={**auth, "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "json_invalid"
    not_uuid = api.post("/api/v1/waste/analyses", json={"upload_id": "x"}, headers=auth)
    assert not_uuid.status_code == 422


def test_unknown_and_foreign_uploads_are_not_found(
    api: httpx.Client, auth: dict[str, str], user_token: str
) -> None:
    assert analyses(api, auth, str(uuid.uuid4())).status_code == 404
    upload_id = upload_photo(api, auth, image_bytes())
    other = sign_in(api, "someone else").access_token
    response = analyses(api, {"Authorization": f"Bearer {other}"}, upload_id)
    assert response.status_code == 404
    assert upload_state(upload_id) == (UploadStatus.PENDING, 0)


def test_upload_not_received_yet_is_a_conflict(api: httpx.Client, auth: dict[str, str]) -> None:
    created = api.post("/api/v1/waste/uploads", json={"content_type": "image/jpeg"}, headers=auth).json()
    response = analyses(api, auth, created["upload_id"])
    assert response.status_code == 409 and "not been uploaded" in response.json()["detail"]


@pytest.mark.parametrize(
    ("content_type", "data", "status", "message"),
    [
        ("image/jpeg", b"%PDF-1.7 definitely not a photo" * 100, 422, "not a JPEG"),
        ("image/png", image_bytes("JPEG"), 422, "not the declared image/png"),
        ("image/jpeg", image_bytes("JPEG")[:200], 422, "cannot be decoded"),
    ],
    ids=["non-image", "type-mismatch", "header-cut-short"],
)
def test_bad_objects_are_rejected_and_nothing_is_marked_valid(
    api: httpx.Client,
    auth: dict[str, str],
    content_type: str,
    data: bytes,
    status: int,
    message: str,
) -> None:
    upload_id = upload_photo(api, auth, data, content_type)
    response = analyses(api, auth, upload_id)
    assert response.status_code == status, response.text
    assert message in response.json()["detail"]
    assert upload_state(upload_id) == (UploadStatus.PENDING, 0)


def test_stored_content_type_must_match_the_reservation(
    api: httpx.Client, auth: dict[str, str], s3: Any
) -> None:
    created = api.post("/api/v1/waste/uploads", json={"content_type": "image/jpeg"}, headers=auth).json()
    s3.put_object(
        Bucket=get_settings().s3_bucket,
        Key=created["object_key"],
        Body=image_bytes(),
        ContentType="text/html",
    )
    response = analyses(api, auth, created["upload_id"])
    assert response.status_code == 422 and "text/html" in response.json()["detail"]
    assert upload_state(created["upload_id"]) == (UploadStatus.PENDING, 0)


def test_decompression_bomb_is_rejected_before_decoding(api: httpx.Client, auth: dict[str, str]) -> None:
    buffer = io.BytesIO()
    Image.new("L", (8000, 6000)).save(buffer, format="PNG", optimize=True)  # 48 MP, ~50 kB on disk
    upload_id = upload_photo(api, auth, buffer.getvalue(), "image/png")
    response = analyses(api, auth, upload_id)
    assert response.status_code == 422 and "pixel" in response.json()["detail"]
    assert upload_state(upload_id) == (UploadStatus.PENDING, 0)


def jpeg_with_exif_of(size: tuple[int, int], exif_bytes: int) -> bytes:
    """A JPEG whose header comes after an EXIF block, beyond the first bytes the API reads at first."""
    buffer = io.BytesIO()
    Image.new("L", size).save(buffer, format="JPEG", exif=b"Exif\x00\x00" + b"\x00" * exif_bytes)
    return buffer.getvalue()


@pytest.mark.parametrize(("size", "status"), [((320, 240), 202), ((8000, 6000), 422)], ids=["photo", "bomb"])
def test_a_header_beyond_the_first_bytes_is_read_from_the_whole_file(
    api: httpx.Client, auth: dict[str, str], size: tuple[int, int], status: int
) -> None:
    data = jpeg_with_exif_of(size, 65_000)
    assert len(data) > HEADER_BYTES
    response = analyses(api, auth, upload_photo(api, auth, data))
    assert response.status_code == status, response.text


def test_an_empty_object_is_rejected(api: httpx.Client, auth: dict[str, str], s3: Any) -> None:
    created = api.post("/api/v1/waste/uploads", json={"content_type": "image/jpeg"}, headers=auth).json()
    s3.put_object(
        Bucket=get_settings().s3_bucket, Key=created["object_key"], Body=b"", ContentType="image/jpeg"
    )
    response = analyses(api, auth, created["upload_id"])
    assert response.status_code == 422 and "empty" in response.json()["detail"]
    assert upload_state(created["upload_id"]) == (UploadStatus.PENDING, 0)


def test_oversized_object_is_rejected(api: httpx.Client, auth: dict[str, str]) -> None:
    # The embedded S3 server does not enforce the POST policy, so the API must.
    oversized = image_bytes("JPEG") + b"\0" * get_settings().upload_max_bytes
    upload_id = upload_photo(api, auth, oversized)
    response = analyses(api, auth, upload_id)
    assert response.status_code == 413 and "limit" in response.json()["detail"]
    assert upload_state(upload_id) == (UploadStatus.PENDING, 0)


def test_expired_upload_is_gone(api: httpx.Client, auth: dict[str, str]) -> None:
    upload_id = upload_photo(api, auth, image_bytes())
    with Session(get_engine()) as session:
        upload = session.get(Upload, uuid.UUID(upload_id))
        assert upload is not None
        upload.expires_at = datetime.now(UTC) - timedelta(seconds=1)
        session.add(upload)
        session.commit()
    response = analyses(api, auth, upload_id)
    assert response.status_code == 410 and "expired" in response.json()["detail"]


def test_used_upload_conflicts_and_idempotency_key_returns_the_same_job(
    api: httpx.Client, auth: dict[str, str]
) -> None:
    upload_id = upload_photo(api, auth, image_bytes())
    key = {"Idempotency-Key": f"scan-{uuid.uuid4()}"}
    first = analyses(api, auth, upload_id, headers=key, hint="우유팩")
    assert first.status_code == 202, first.text
    job_id = first.json()["job_id"]
    assert first.json()["poll_url"] == f"/api/v1/waste/analyses/{job_id}"
    assert first.headers["Location"] == first.json()["poll_url"]

    again = analyses(api, auth, upload_id, headers=key, hint="우유팩")
    assert again.status_code == 202 and again.json()["job_id"] == job_id
    assert upload_state(upload_id) == (UploadStatus.CONSUMED, 1)

    reused = analyses(api, auth, upload_id)
    assert reused.status_code == 409 and "already" in reused.json()["detail"]

    other_upload = upload_photo(api, auth, image_bytes())
    mismatch = analyses(api, auth, other_upload, headers=key)
    assert mismatch.status_code == 422 and "Idempotency-Key" in mismatch.json()["detail"]
    assert upload_state(other_upload) == (UploadStatus.PENDING, 0)


def test_jobs_are_private_and_unknown_jobs_are_not_found(api: httpx.Client, auth: dict[str, str]) -> None:
    upload_id = upload_photo(api, auth, image_bytes())
    job_id = analyses(api, auth, upload_id).json()["job_id"]
    mine = api.get(f"/api/v1/waste/analyses/{job_id}", headers=auth)
    assert mine.status_code == 200 and mine.json()["status"] in {"queued", "running", "succeeded"}

    other = sign_in(api, "nosy").access_token
    foreign = api.get(f"/api/v1/waste/analyses/{job_id}", headers={"Authorization": f"Bearer {other}"})
    assert foreign.status_code == 404
    assert api.get(f"/api/v1/waste/analyses/{uuid.uuid4()}", headers=auth).status_code == 404
    assert (
        api.get(
            f"/api/v1/waste/analyses/{job_id}/events", headers={"Authorization": f"Bearer {other}"}
        ).status_code
        == 404
    )
