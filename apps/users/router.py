"""The signed-in user's own account: profile, profile image, deletion, scan history and stats."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status

from apps.auth.cookies import clear_session_cookies
from apps.auth.service import linked_providers
from apps.core.db import SessionDep
from apps.core.dependencies import RedisDep, SettingsDep
from apps.core.settings import Settings
from apps.users import history, service
from apps.users.dependencies import CurrentUser, S3Dep
from apps.users.models import User
from apps.users.schemas import (
    AccountDeletion,
    ProfileImageUploadCreate,
    ProfileImageUploadCreated,
    ScanHistory,
    ScanStats,
    ScanSummary,
    UserRead,
    UserUpdate,
)
from apps.waste.models import AnalysisJob

router = APIRouter(tags=["users"])


def _read(session: SessionDep, s3: Any, settings: Settings, user: User) -> UserRead:
    providers = linked_providers(session, user.id)
    session.commit()
    return UserRead(
        id=user.id,
        nickname=user.nickname,
        profile_image_url=service.profile_image_url(s3, settings, user),
        providers=providers,
        created_at=user.created_at,
    )


@router.get("/me", response_model=UserRead)
def read_me(user: CurrentUser, session: SessionDep, s3: S3Dep, settings: SettingsDep) -> UserRead:
    return _read(session, s3, settings, service.get_active_user(session, user.id))


@router.patch("/me", response_model=UserRead)
def update_me(
    body: UserUpdate, user: CurrentUser, session: SessionDep, s3: S3Dep, settings: SettingsDep
) -> UserRead:
    updated = service.update_profile(session, s3, settings, user.id, body.nickname, body.profile_image_key)
    return _read(session, s3, settings, updated)


@router.post(
    "/me/profile-image", response_model=ProfileImageUploadCreated, status_code=status.HTTP_201_CREATED
)
def reserve_profile_image(
    body: ProfileImageUploadCreate, user: CurrentUser, s3: S3Dep, settings: SettingsDep
) -> ProfileImageUploadCreated:
    """A presigned POST; then `PATCH /me {"profile_image_key": object_key}` checks the image and sets it."""
    slot = service.reserve_profile_image(s3, settings, user.id, body.content_type, body.size_bytes)
    return ProfileImageUploadCreated(
        object_key=slot.object_key,
        upload_url=slot.presigned.url,
        upload_fields=slot.presigned.fields,
        max_bytes=settings.upload_max_bytes,
        expires_at=slot.expires_at,
    )


@router.delete("/me", response_model=AccountDeletion, status_code=status.HTTP_202_ACCEPTED)
def delete_me(
    user: CurrentUser, session: SessionDep, redis_client: RedisDep, settings: SettingsDep, response: Response
) -> AccountDeletion:
    """Immediate: every token stops working and the sign-in links are gone. A task removes the rest."""
    service.delete_account(session, redis_client, settings, user.id)
    clear_session_cookies(response, settings)
    return AccountDeletion()


def _summary(job: AnalysisJob) -> ScanSummary:
    answer = (job.result or {}).get("answer") or {}
    classification = answer.get("classification") or {}
    return ScanSummary(
        job_id=job.id,
        status=job.status,
        created_at=job.created_at,
        category=classification.get("category"),
        category_label=answer.get("category_label"),
        confidence=classification.get("confidence"),
    )


@router.get("/me/scans", response_model=ScanHistory)
def my_scans(
    user: CurrentUser,
    session: SessionDep,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    category: Annotated[
        str | None, Query(max_length=100, description="e.g. recyclable or recyclable/paper")
    ] = None,
) -> ScanHistory:
    page = history.scan_history(session, user.id, cursor, limit, category)
    return ScanHistory(items=[_summary(job) for job in page.jobs], next_cursor=page.next_cursor)


@router.get("/me/stats", response_model=ScanStats)
def my_stats(user: CurrentUser, session: SessionDep) -> ScanStats:
    stats = history.scan_stats(session, user.id)
    return ScanStats(
        scans=stats.scans,
        by_category=stats.by_category,
        recyclable_share=stats.recyclable_share,
        current_streak_days=stats.current_streak_days,
    )
