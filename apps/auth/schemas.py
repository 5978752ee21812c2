from __future__ import annotations

from pydantic import BaseModel, Field

from apps.core.request_limits import NO_NUL_PATTERN


class DevTokenRequest(BaseModel):
    display_name: str = Field(min_length=1, max_length=100, pattern=NO_NUL_PATTERN)


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 (the OAuth token type, not a secret)
    expires_in: int
