from __future__ import annotations

from fastapi import APIRouter

from apps.users.dependencies import CurrentUser
from apps.users.schemas import UserRead

router = APIRouter(tags=["users"])


@router.get("/me", response_model=UserRead)
def read_me(user: CurrentUser) -> UserRead:
    return UserRead.model_validate(user, from_attributes=True)
