"""Token issuance. Until Kakao/Naver/Google login lands, local and test environments mint tokens directly."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status

from apps.auth.schemas import DevTokenRequest, TokenResponse
from apps.auth.tokens import issue_access_token
from apps.core.db import SessionDep
from apps.core.dependencies import SettingsDep
from apps.users.service import create_user

router = APIRouter(tags=["auth"])


@router.post("/dev-token", response_model=TokenResponse, status_code=status.HTTP_201_CREATED)
def issue_dev_token(body: DevTokenRequest, session: SessionDep, settings: SettingsDep) -> TokenResponse:
    """Create a user and return a token for it. Disabled outside local and test environments."""
    if settings.environment not in {"local", "test"}:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="Not Found")
    user = create_user(session, body.display_name)
    return TokenResponse(
        access_token=issue_access_token(user.id, settings), expires_in=settings.token_ttl_seconds
    )
