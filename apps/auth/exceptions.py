"""Errors of sign-in, sessions and accounts; one handler maps each to its status and a clear message."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse


class IdentityError(Exception):
    status_code = 400
    code = "identity_error"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    def headers(self) -> dict[str, str]:
        return {}


class ProviderNotAvailable(IdentityError):
    status_code = 404
    code = "provider_not_available"


class SignInRejected(IdentityError):
    """The sign-in attempt is invalid: state, code, PKCE, id_token or the provider's own error."""

    code = "sign_in_rejected"


class ProviderUnavailable(IdentityError):
    status_code = 502
    code = "provider_unavailable"


class AccountConflict(IdentityError):
    status_code = 409
    code = "account_conflict"


class SessionRejected(IdentityError):
    """A refresh token that is unknown, expired, revoked or reused (the last one revokes its session)."""

    status_code = 401
    code = "session_rejected"

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": "Bearer"}


class RateLimited(IdentityError):
    status_code = 429
    code = "rate_limited"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class StateUnavailable(IdentityError):
    """Redis could not record or check a one-time value: refuse rather than allow a replay."""

    status_code = 503
    code = "temporarily_unavailable"

    def headers(self) -> dict[str, str]:
        return {"Retry-After": "1"}


async def identity_error_handler(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, IdentityError)
    return JSONResponse(
        status_code=error.status_code,
        content={"detail": error.detail, "code": error.code},
        headers=error.headers(),
    )
