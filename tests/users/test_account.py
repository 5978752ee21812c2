"""The signed-in user's account: profile, profile image, and deletion (immediate, then purged by a task)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlmodel import Session, col, select

from apps.auth.models import RefreshToken, SocialAccount
from apps.core.db import get_engine
from apps.core.queue import celery_app
from apps.core.settings import get_settings
from apps.core.storage import ObjectMissing, get_s3_client, head_object
from apps.users import service
from apps.users.models import User
from apps.users.tasks import purge_account_task, sweep_deleted_accounts
from apps.waste.models import AnalysisJob, Upload
from tests.support.identity import sign_in
from tests.waste.conftest import image_bytes, upload_photo


def _post_to_storage(slot: dict[str, Any], data: bytes, content_type: str) -> None:
    sent = httpx.post(
        slot["upload_url"], data=slot["upload_fields"], files={"file": ("f", data, content_type)}
    )
    assert sent.status_code in (200, 204), sent.text


def _profile_slot(
    api: httpx.Client, headers: dict[str, str], content_type: str = "image/png"
) -> dict[str, Any]:
    response = api.post(
        "/api/v1/users/me/profile-image", json={"content_type": content_type}, headers=headers
    )
    assert response.status_code == 201, response.text
    slot: dict[str, Any] = response.json()
    return slot


def test_read_and_update_the_profile(api: httpx.Client) -> None:
    signed_in = sign_in(api, "처음 이름")
    me = api.get("/api/v1/users/me", headers=signed_in.headers).json()
    assert me["nickname"] == "처음 이름" and me["providers"] == ["local"] and me["profile_image_url"] is None
    updated = api.patch("/api/v1/users/me", json={"nickname": "새 이름"}, headers=signed_in.headers)
    assert updated.status_code == 200 and updated.json()["nickname"] == "새 이름"
    assert api.patch("/api/v1/users/me", json={"nickname": ""}, headers=signed_in.headers).status_code == 422
    assert (
        api.patch("/api/v1/users/me", json={"id": str(uuid.uuid4())}, headers=signed_in.headers).status_code
        == 422
    )


def test_a_profile_image_goes_through_a_presigned_upload_and_is_checked(api: httpx.Client) -> None:
    signed_in = sign_in(api)
    slot = _profile_slot(api, signed_in.headers)
    assert slot["object_key"].startswith(f"profiles/{signed_in.user_id}/") and slot["object_key"].endswith(
        ".png"
    )
    not_yet = api.patch(
        "/api/v1/users/me", json={"profile_image_key": slot["object_key"]}, headers=signed_in.headers
    )
    assert not_yet.status_code == 422 and "not been uploaded" in not_yet.json()["detail"]

    _post_to_storage(slot, image_bytes("PNG"), "image/png")
    set_image = api.patch(
        "/api/v1/users/me", json={"profile_image_key": slot["object_key"]}, headers=signed_in.headers
    )
    assert set_image.status_code == 200, set_image.text
    url = set_image.json()["profile_image_url"]
    assert url and httpx.get(url).content == image_bytes("PNG")

    junk = _profile_slot(api, signed_in.headers)
    _post_to_storage(junk, b"\x89PNG but not really", "image/png")
    refused = api.patch(
        "/api/v1/users/me", json={"profile_image_key": junk["object_key"]}, headers=signed_in.headers
    )
    assert refused.status_code == 422

    replacement = _profile_slot(api, signed_in.headers, "image/jpeg")
    _post_to_storage(replacement, image_bytes(), "image/jpeg")
    assert (
        api.patch(
            "/api/v1/users/me",
            json={"profile_image_key": replacement["object_key"]},
            headers=signed_in.headers,
        ).status_code
        == 200
    )
    with pytest.raises(ObjectMissing):  # the replaced image is removed
        head_object(get_s3_client(), get_settings().s3_bucket, slot["object_key"])


@pytest.mark.parametrize(
    "key",
    [
        "scans/someone/x.png",
        "profiles/{other}/{uuid}.png",
        "profiles/{me}/../{other}/{uuid}.png",
        "profiles/{me}/x.exe",
    ],
)
def test_only_a_profile_key_of_ones_own_is_accepted(api: httpx.Client, key: str) -> None:
    signed_in = sign_in(api)
    forged = key.format(me=signed_in.user_id, other=uuid.uuid4(), uuid=uuid.uuid4())
    response = api.patch("/api/v1/users/me", json={"profile_image_key": forged}, headers=signed_in.headers)
    assert response.status_code == 422 and "not a profile image upload of yours" in response.json()["detail"]


def _rows(user_id: str) -> dict[str, int]:
    with Session(get_engine()) as session:
        uid = uuid.UUID(user_id)
        return {
            "users": len(session.exec(select(User).where(col(User.id) == uid)).all()),
            "uploads": len(session.exec(select(Upload).where(col(Upload.user_id) == uid)).all()),
            "jobs": len(session.exec(select(AnalysisJob).where(col(AnalysisJob.user_id) == uid)).all()),
            "links": len(session.exec(select(SocialAccount).where(col(SocialAccount.user_id) == uid)).all()),
            "refresh_tokens": len(
                session.exec(select(RefreshToken).where(col(RefreshToken.user_id) == uid)).all()
            ),
        }


def test_deleting_the_account_is_immediate_and_the_task_removes_everything(
    api: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    signed_in = sign_in(api, subject="leaving-person")
    upload_id = upload_photo(api, signed_in.headers, image_bytes())
    job = api.post("/api/v1/waste/analyses", json={"upload_id": upload_id}, headers=signed_in.headers)
    assert job.status_code == 202
    upload_photo(api, signed_in.headers, image_bytes())  # an upload never analysed
    avatar = _profile_slot(api, signed_in.headers)
    _post_to_storage(avatar, image_bytes("PNG"), "image/png")
    api.patch("/api/v1/users/me", json={"profile_image_key": avatar["object_key"]}, headers=signed_in.headers)
    with Session(get_engine()) as session:
        keys = list(
            session.exec(select(Upload.object_key).where(col(Upload.user_id) == uuid.UUID(signed_in.user_id)))
        )

    enqueued: list[tuple[str, list[str], bool]] = []

    def send_task(name: str, args: list[str], **_: Any) -> None:
        with Session(get_engine()) as session:  # enqueued only after the deletion is committed
            user = session.get(User, uuid.UUID(args[0]))
            enqueued.append((name, args, user is not None and user.deleted_at is not None))

    monkeypatch.setattr(celery_app, "send_task", send_task)
    deleted = api.delete("/api/v1/users/me", headers=signed_in.headers)
    assert deleted.status_code == 202 and deleted.json() == {"status": "deleting"}
    assert enqueued == [("users.purge_account", [signed_in.user_id], True)]

    gone = api.get("/api/v1/users/me", headers=signed_in.headers)
    assert gone.status_code == 401 and gone.json()["detail"] == "token revoked"
    assert (
        api.post(
            "/api/v1/waste/uploads", json={"content_type": "image/jpeg"}, headers=signed_in.headers
        ).status_code
        == 401
    )
    assert (
        api.post("/api/v1/auth/refresh", json={"refresh_token": signed_in.refresh_token}).status_code == 401
    )
    assert _rows(signed_in.user_id)["links"] == 0
    again = sign_in(api, subject="leaving-person")  # the same person may sign up again, as a new user
    assert again.user_id != signed_in.user_id

    purge_account_task(signed_in.user_id)
    assert _rows(signed_in.user_id) == dict.fromkeys(
        ["users", "uploads", "jobs", "links", "refresh_tokens"], 0
    )
    for key in [*keys, avatar["object_key"]]:
        with pytest.raises(ObjectMissing):
            head_object(get_s3_client(), get_settings().s3_bucket, key)
    purge_account_task(signed_in.user_id)  # a redelivered purge is harmless


def test_a_deletion_whose_purge_was_never_published_is_swept(
    api: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kombu.exceptions import OperationalError

    signed_in = sign_in(api)

    def broker_down(*_: Any, **__: Any) -> None:
        raise OperationalError("broker unreachable")

    monkeypatch.setattr(celery_app, "send_task", broker_down)
    assert api.delete("/api/v1/users/me", headers=signed_in.headers).status_code == 202
    assert _rows(signed_in.user_id)["users"] == 1
    monkeypatch.setattr("apps.users.tasks.PURGE_GRACE", __import__("datetime").timedelta(0))
    assert sweep_deleted_accounts() >= 1
    assert _rows(signed_in.user_id)["users"] == 0


def test_deleting_needs_redis_to_revoke_the_tokens_first(
    api: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    import redis

    signed_in = sign_in(api)

    def redis_down(*_: Any) -> None:
        raise redis.ConnectionError("redis unreachable")

    monkeypatch.setattr(service, "revoke_user", redis_down)
    response = api.delete("/api/v1/users/me", headers=signed_in.headers)
    assert response.status_code == 503 and response.headers["retry-after"] == "1"
    assert _rows(signed_in.user_id)["links"] == 1  # nothing changed
    assert api.get("/api/v1/users/me", headers=signed_in.headers).status_code == 200
