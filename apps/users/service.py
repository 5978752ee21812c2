"""Profiles and account deletion. Deletion is immediate for the person (tokens revoked, links gone, the row
marked) and completed by the `users.purge_account` task (photos, jobs, uploads, sessions, the row itself)."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import redis
from kombu.exceptions import OperationalError
from sqlalchemy import delete
from sqlmodel import Session, col

from apps.auth.exceptions import StateUnavailable
from apps.auth.models import RefreshToken, SocialAccount
from apps.auth.tokens import revoke_user_refresh_tokens
from apps.core.access_tokens import revoke_user
from apps.core.images import EXTENSION_BY_CONTENT_TYPE, InvalidImage, decode_image
from apps.core.queue import publish_task
from apps.core.queue_table import TASK_QUEUES
from apps.core.settings import Settings
from apps.core.storage import (
    ObjectMissing,
    PresignedUpload,
    delete_all_objects,
    head_object,
    list_keys,
    presign_get,
    presign_upload,
    read_object,
)
from apps.core.time import utcnow
from apps.users.exceptions import ProfileImageRejected, UserNotFound
from apps.users.models import User
from apps.waste.service import delete_user_scans

logger = logging.getLogger(__name__)

PURGE_TASK = "users.purge_account"
PROFILE_IMAGE_URL_TTL_SECONDS = 3600
CONTENT_TYPE_BY_EXTENSION = {
    extension: content_type for content_type, extension in EXTENSION_BY_CONTENT_TYPE.items()
}


def create_user(session: Session, nickname: str) -> User:
    """Insert a user (flushed, so rows referring to it can follow); the caller commits."""
    user = User(nickname=nickname)
    session.add(user)
    session.flush()
    return user


def get_active_user(session: Session, user_id: uuid.UUID) -> User:
    user = session.get(User, user_id)
    if user is None or user.deleted_at is not None:
        raise UserNotFound("no such user")
    return user


def profile_prefix(user_id: uuid.UUID) -> str:
    return f"profiles/{user_id}/"


def profile_image_url(s3: Any, settings: Settings, user: User) -> str | None:
    if user.profile_image_key is None:
        return None
    return presign_get(s3, settings.s3_bucket, user.profile_image_key, PROFILE_IMAGE_URL_TTL_SECONDS)


@dataclass(frozen=True)
class ProfileImageSlot:
    object_key: str
    presigned: PresignedUpload
    expires_at: datetime


def reserve_profile_image(
    s3: Any, settings: Settings, user_id: uuid.UUID, content_type: str, size_bytes: int | None
) -> ProfileImageSlot:
    """A presigned POST for a server-chosen key under the user's own prefix (as for scan photos)."""
    if size_bytes is not None and size_bytes > settings.upload_max_bytes:
        raise ProfileImageRejected(
            f"the image is {size_bytes} bytes; the limit is {settings.upload_max_bytes}"
        )
    key = f"{profile_prefix(user_id)}{uuid.uuid4()}.{EXTENSION_BY_CONTENT_TYPE[content_type]}"
    presigned = presign_upload(
        s3, settings.s3_bucket, key, content_type, settings.upload_max_bytes, settings.upload_url_ttl_seconds
    )
    return ProfileImageSlot(key, presigned, utcnow() + timedelta(seconds=settings.upload_url_ttl_seconds))


def _verify_profile_image(s3: Any, settings: Settings, user_id: uuid.UUID, key: str) -> None:
    """Only a key we handed this user, holding a real image within the limits (storage enforces nothing)."""
    name = key.removeprefix(profile_prefix(user_id))
    stem, _, extension = name.rpartition(".")
    if name == key or "/" in name or extension not in CONTENT_TYPE_BY_EXTENSION:
        raise ProfileImageRejected("this is not a profile image upload of yours")
    try:
        uuid.UUID(stem)
        stored = head_object(s3, settings.s3_bucket, key)
    except ValueError as error:
        raise ProfileImageRejected("this is not a profile image upload of yours") from error
    except ObjectMissing as error:
        raise ProfileImageRejected("the image has not been uploaded yet") from error
    content_type = CONTENT_TYPE_BY_EXTENSION[extension]
    if stored.size > settings.upload_max_bytes or stored.content_type != content_type:
        raise ProfileImageRejected(
            f"the stored image must be {content_type} of at most {settings.upload_max_bytes} bytes"
        )
    try:
        decode_image(read_object(s3, settings.s3_bucket, key), content_type, settings.image_max_pixels)
    except InvalidImage as error:
        raise ProfileImageRejected(str(error)) from error


def update_profile(
    session: Session,
    s3: Any,
    settings: Settings,
    user_id: uuid.UUID,
    nickname: str | None,
    profile_image_key: str | None,
) -> User:
    user = get_active_user(session, user_id)
    session.commit()  # no connection held during the storage checks
    replaced = None
    if profile_image_key is not None and profile_image_key != user.profile_image_key:
        _verify_profile_image(s3, settings, user_id, profile_image_key)
        replaced, user.profile_image_key = user.profile_image_key, profile_image_key
    if nickname is not None:
        user.nickname = nickname
    session.add(user)
    session.commit()
    if replaced is not None:
        try:
            delete_all_objects(s3, settings.s3_bucket, [replaced])
        except Exception as error:  # an orphan under the user's prefix; the account purge removes it
            logger.warning("could not delete the replaced profile image %s: %s", replaced, error)
    return user


def delete_account(
    session: Session, redis_client: redis.Redis, settings: Settings, user_id: uuid.UUID
) -> None:
    """Revoke every token at once (Redis, checked per request), drop the links and sessions, mark the row,
    commit, then enqueue the purge. If the broker is down the purge sweeper finishes the job later."""
    user = get_active_user(session, user_id)
    try:
        revoke_user(redis_client, user_id, settings)
    except redis.RedisError as error:
        raise StateUnavailable("cannot delete the account right now; retry shortly") from error
    user.deleted_at = utcnow()
    session.add(user)
    session.execute(delete(SocialAccount).where(col(SocialAccount.user_id) == user_id))
    revoke_user_refresh_tokens(session, user_id)
    session.commit()
    enqueue_purge(user_id)


def enqueue_purge(user_id: uuid.UUID) -> bool:
    try:
        publish_task(PURGE_TASK, [str(user_id)], TASK_QUEUES[PURGE_TASK])
    except OperationalError as error:
        logger.warning("broker unavailable; the sweeper will purge account %s: %s", user_id, error)
        return False
    return True


def purge_account(session: Session, s3: Any, settings: Settings, user_id: uuid.UUID) -> bool:
    """Remove everything of a deleted account. Idempotent; False if the user is not (or no longer) deleted."""
    user = session.get(User, user_id)
    if user is None or user.deleted_at is None:
        session.rollback()
        return False
    session.commit()
    delete_user_scans(session, s3, settings.s3_bucket, user_id)
    delete_all_objects(s3, settings.s3_bucket, list_keys(s3, settings.s3_bucket, profile_prefix(user_id)))
    session.execute(delete(RefreshToken).where(col(RefreshToken.user_id) == user_id))
    session.execute(delete(SocialAccount).where(col(SocialAccount.user_id) == user_id))
    session.execute(delete(User).where(col(User.id) == user_id))
    session.commit()
    return True
