"""Celery tasks of the users domain: finishing account deletions."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from sqlmodel import Session, col, select

from apps.core.db import get_engine
from apps.core.queue import celery_app
from apps.core.settings import get_settings
from apps.core.storage import get_s3_client
from apps.core.time import utcnow
from apps.users.models import User
from apps.users.service import PURGE_TASK, purge_account

logger = logging.getLogger(__name__)

# A deletion older than this whose purge has not run (its message never reached the broker) is swept.
PURGE_GRACE = timedelta(minutes=5)


@celery_app.task(name=PURGE_TASK)
def purge_account_task(user_id: str) -> None:
    """A failure (storage or database) raises: the message dead-letters and the sweeper retries later."""
    with Session(get_engine(), expire_on_commit=False) as session:
        purged = purge_account(session, get_s3_client(), get_settings(), uuid.UUID(user_id))
    logger.info("account %s %s", user_id, "purged" if purged else "was not pending deletion")


@celery_app.task(name="users.sweep_deleted_accounts")
def sweep_deleted_accounts() -> int:
    with Session(get_engine(), expire_on_commit=False) as session:
        pending = session.exec(
            select(User.id).where(
                col(User.deleted_at).is_not(None), col(User.deleted_at) < utcnow() - PURGE_GRACE
            )
        ).all()
        for user_id in pending:
            purge_account(session, get_s3_client(), get_settings(), user_id)
    return len(pending)
