"""Scan history (cursor pages, newest first, category filter) and stats (per category, recyclable share,
streak of days with a scan in Asia/Seoul)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
from sqlmodel import Session

from apps.core.db import get_engine
from apps.users.history import current_streak, scan_stats
from apps.waste.models import AnalysisJob, JobStatus, Upload, UploadStatus
from tests.support.identity import sign_in


def _result(category: str | None) -> dict[str, object]:
    classification = {
        "status": "confident" if category else "uncertain",
        "category": category,
        "confidence": 0.9,
    }
    return {"answer": {"classification": classification, "category_label": category, "reply": "."}}


def _add_scan(
    user_id: str, created_at: datetime, category: str | None, status: JobStatus = JobStatus.SUCCEEDED
) -> str:
    with Session(get_engine()) as session:
        upload = Upload(
            user_id=uuid.UUID(user_id),
            object_key=f"scans/{user_id}/{uuid.uuid4()}.jpg",
            content_type="image/jpeg",
            max_bytes=1,
            expires_at=created_at,
            status=UploadStatus.CONSUMED,
        )
        job = AnalysisJob(
            user_id=upload.user_id,
            upload_id=upload.id,
            queue="high_priority",
            status=status,
            result=_result(category) if status is JobStatus.SUCCEEDED else None,
            created_at=created_at,
        )
        session.add(upload)
        session.flush()
        session.add(job)
        session.commit()
        return str(job.id)


def test_history_pages_newest_first_and_filters_by_category(api: httpx.Client) -> None:
    signed_in = sign_in(api)
    now = datetime.now(UTC)
    categories = ["recyclable/paper", "general", "recyclable/plastic", None, "recyclable/paper"]
    ids = [
        _add_scan(signed_in.user_id, now - timedelta(hours=hour), category)
        for hour, category in enumerate(categories)
    ]
    queued = _add_scan(signed_in.user_id, now + timedelta(minutes=1), None, JobStatus.QUEUED)

    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = api.get("/api/v1/users/me/scans", params=params, headers=signed_in.headers).json()
        seen += [item["job_id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [queued, *ids]

    first = api.get("/api/v1/users/me/scans", headers=signed_in.headers).json()["items"][1]
    assert first == {**first, "status": "succeeded", "category": "recyclable/paper", "confidence": 0.9}

    def filtered(category: str) -> list[str]:
        response = api.get("/api/v1/users/me/scans", params={"category": category}, headers=signed_in.headers)
        return [item["job_id"] for item in response.json()["items"]]

    assert filtered("recyclable") == [ids[0], ids[2], ids[4]]
    assert filtered("recyclable/paper") == [ids[0], ids[4]]
    assert filtered("recyclable/pap") == []
    assert filtered("general") == [ids[1]]


def test_a_cursor_that_is_not_ours_is_a_clear_error(api: httpx.Client) -> None:
    signed_in = sign_in(api)
    response = api.get("/api/v1/users/me/scans", params={"cursor": "bm9wZQ=="}, headers=signed_in.headers)
    assert response.status_code == 400 and response.json()["code"] == "invalid_cursor"
    assert (
        api.get("/api/v1/users/me/scans", params={"limit": 0}, headers=signed_in.headers).status_code == 422
    )


def test_stats_count_categories_share_and_streak(api: httpx.Client) -> None:
    signed_in = sign_in(api)
    empty = api.get("/api/v1/users/me/stats", headers=signed_in.headers).json()
    assert empty == {"scans": 0, "by_category": {}, "recyclable_share": None, "current_streak_days": 0}
    # Days are Seoul days: 2026-06-10 00:00 UTC is 09:00 KST on the 10th, and 2026-06-08 15:30 UTC is already
    # the 9th in Seoul.
    today = datetime(2026, 6, 10, 0, 0, tzinfo=UTC)
    _add_scan(signed_in.user_id, today, "recyclable/paper")
    _add_scan(signed_in.user_id, datetime(2026, 6, 9, 14, 30, tzinfo=UTC), "recyclable/plastic")  # 23:30 KST
    _add_scan(signed_in.user_id, datetime(2026, 6, 8, 15, 30, tzinfo=UTC), "general")  # 00:30 KST on the 9th!
    _add_scan(signed_in.user_id, datetime(2026, 6, 7, 3, 0, tzinfo=UTC), None)
    _add_scan(signed_in.user_id, datetime(2026, 6, 6, 3, 0, tzinfo=UTC), "food")
    _add_scan(signed_in.user_id, datetime(2026, 6, 7, 4, 0, tzinfo=UTC), None, JobStatus.FAILED)
    with Session(get_engine()) as session:
        stats = scan_stats(session, uuid.UUID(signed_in.user_id), now=today + timedelta(hours=3))
    assert stats.scans == 6
    assert stats.by_category == {
        "recyclable/paper": 1,
        "recyclable/plastic": 1,
        "general": 1,
        "food": 1,
        "uncertain": 1,
    }
    assert stats.recyclable_share == 0.5
    # Seoul days with a scan: 10th, 9th (twice), 7th (twice), 6th → the streak from the 10th is 2 days.
    assert stats.current_streak_days == 2
    via_api = api.get("/api/v1/users/me/stats", headers=signed_in.headers).json()
    assert via_api["scans"] == 6 and via_api["recyclable_share"] == 0.5


@pytest.mark.parametrize(
    ("days", "streak"),
    [
        ([], 0),
        ([date(2026, 1, 10)], 1),
        ([date(2026, 1, 9)], 1),  # nothing yet today: yesterday's streak is still alive
        ([date(2026, 1, 8)], 0),
        ([date(2026, 1, 10), date(2026, 1, 9), date(2026, 1, 8), date(2026, 1, 6)], 3),
        ([date(2026, 1, 9), date(2026, 1, 8), date(2026, 1, 7)], 3),
        ([date(2026, 1, 10), date(2026, 1, 8)], 1),
    ],
)
def test_current_streak(days: list[date], streak: int) -> None:
    assert current_streak(days, date(2026, 1, 10)) == streak
