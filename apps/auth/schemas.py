from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, Field

from apps.core.request_limits import NO_NUL_PATTERN

TOKEN_PATTERN = r"^[!-~]+$"  # noqa: S105 (a pattern, not a secret)


class NativeSignIn(BaseModel):
    """What the app got from the provider's SDK: Google and Kakao an `id_token` (and the `nonce` the app
    sent), Naver an `access_token`. The local provider takes a `subject` (and a `nickname`)."""

    model_config = ConfigDict(extra="forbid")

    # Tokens travel in HTTP headers and JWTs: visible ASCII only, so a malformed one is a 422 here rather
    # than a request to the provider that cannot even be sent.
    id_token: str | None = Field(default=None, min_length=1, max_length=8192, pattern=TOKEN_PATTERN)
    access_token: str | None = Field(default=None, min_length=1, max_length=4096, pattern=TOKEN_PATTERN)
    nonce: str | None = Field(default=None, max_length=200)
    subject: str | None = Field(default=None, max_length=100)
    nickname: str | None = Field(default=None, max_length=100, pattern=NO_NUL_PATTERN)


class TokenResponse(BaseModel):
    user_id: uuid.UUID
    access_token: str
    token_type: str = "bearer"  # noqa: S105 (the OAuth token type, not a secret)
    expires_in: int
    refresh_token: str
    refresh_expires_in: int


class RefreshRequest(BaseModel):
    """API clients send the refresh token; browsers send nothing (the refresh cookie and the CSRF header)."""

    model_config = ConfigDict(extra="forbid")

    refresh_token: str | None = Field(default=None, max_length=200)


class SessionResponse(BaseModel):
    """A browser session lives in HttpOnly cookies; the CSRF token goes in `X-CSRF-Token` on writes."""

    user_id: uuid.UUID
    expires_in: int
    csrf_token: str


class LinkResponse(BaseModel):
    provider: str
    linked: bool = True


class ProvidersResponse(BaseModel):
    providers: list[str]
