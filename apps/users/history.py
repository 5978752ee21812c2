"""A user's scan history (cursor-paged, newest first) and stats, read from the scan flow's job rows."""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, or_, tuple_
from sqlmodel import Session, col, select

from apps.core.time import utcnow
from apps.users.exceptions import InvalidCursor
from apps.waste.models import AnalysisJob, JobStatus

SEOUL = ZoneInfo("Asia/Seoul")
RECYCLABLE = "recyclable"
# How many distinct scan days the streak looks back over at most.
STREAK_LOOKBACK_DAYS = 3660

_RESULT = AnalysisJob.__table__.c.result  # type: ignore[attr-defined]
CATEGORY = _RESULT["answer"]["classification"]["category"].astext


@dataclass(frozen=True)
class HistoryPage:
    jobs: list[AnalysisJob]
    next_cursor: str | None


@dataclass(frozen=True)
class Stats:
    scans: int
    by_category: dict[str, int]
    recyclable_share: float | None
    current_streak_days: int


def encode_cursor(job: AnalysisJob) -> str:
    return base64.urlsafe_b64encode(f"{job.created_at.isoformat()}|{job.id}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        created_at, job_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        return datetime.fromisoformat(created_at), uuid.UUID(job_id)
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidCursor("the cursor is not one this API returned") from error


def _in_category(category: str) -> ColumnElement[bool]:
    """A taxonomy key and everything under it (`recyclable` also matches `recyclable/paper`)."""
    return or_(category == CATEGORY, CATEGORY.like(category.replace("%", r"\%").replace("_", r"\_") + "/%"))


def scan_history(
    session: Session, user_id: uuid.UUID, cursor: str | None, limit: int, category: str | None
) -> HistoryPage:
    query = select(AnalysisJob).where(col(AnalysisJob.user_id) == user_id)
    if category:
        query = query.where(_in_category(category))
    if cursor:
        created_at, job_id = decode_cursor(cursor)
        query = query.where(
            tuple_(col(AnalysisJob.created_at), col(AnalysisJob.id)) < tuple_(created_at, job_id)
        )
    query = query.order_by(col(AnalysisJob.created_at).desc(), col(AnalysisJob.id).desc()).limit(limit + 1)
    jobs = list(session.exec(query).all())
    session.commit()
    page, more = jobs[:limit], len(jobs) > limit
    return HistoryPage(page, encode_cursor(page[-1]) if more else None)


def current_streak(scan_days: list[date], today: date) -> int:
    """Consecutive days with a scan ending today, or yesterday while today has none yet."""
    days = set(scan_days)
    day = today if today in days else today - timedelta(days=1)
    streak = 0
    while day in days:
        streak += 1
        day -= timedelta(days=1)
    return streak


def scan_stats(session: Session, user_id: uuid.UUID, now: datetime | None = None) -> Stats:
    mine = col(AnalysisJob.user_id) == user_id
    scans = session.exec(select(func.count()).select_from(AnalysisJob).where(mine)).one()
    rows: list[Any] = list(
        session.exec(
            select(CATEGORY, func.count())
            .where(mine, col(AnalysisJob.status) == JobStatus.SUCCEEDED.value)
            .group_by(CATEGORY)
        ).all()
    )
    by_category = {(category or "uncertain"): count for category, count in rows}
    known = sum(count for category, count in rows if category)
    recyclable = sum(count for category, count in rows if category and (category.split("/")[0] == RECYCLABLE))
    local_day = func.date(func.timezone(SEOUL.key, col(AnalysisJob.created_at)))
    days = session.exec(
        select(local_day)
        .where(mine)
        .group_by(local_day)
        .order_by(local_day.desc())
        .limit(STREAK_LOOKBACK_DAYS)
    ).all()
    session.commit()
    today = (now or utcnow()).astimezone(SEOUL).date()
    return Stats(
        scans=scans,
        by_category=by_category,
        recyclable_share=round(recyclable / known, 4) if known else None,
        current_streak_days=current_streak(list(days), today),
    )
