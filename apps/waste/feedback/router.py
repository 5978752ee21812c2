from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from apps.core.db import SessionDep
from apps.core.errors import error_responses
from apps.users.dependencies import CurrentUser
from apps.waste.feedback import service
from apps.waste.feedback.schemas import FeedbackCreate, FeedbackRead

router = APIRouter(tags=["waste"])


@router.post(
    "/analyses/{job_id}/feedback",
    response_model=FeedbackRead,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(404, 409),
)
def give_feedback(
    job_id: uuid.UUID, body: FeedbackCreate, user: CurrentUser, session: SessionDep
) -> FeedbackRead:
    """Confirm the answer of your finished analysis, or give the right category. Once per analysis (a second
    feedback is 409); someone else's analysis is 404. Confirmed scans teach the classifier's next head."""
    return service.submit_feedback(session, user.id, job_id, body)
