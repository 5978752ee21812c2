"""Errors of sign-in, sessions and accounts: `Eco2Error`s, rendered by the one handler with their `code`."""

from __future__ import annotations

from apps.core.errors import Eco2Error


class IdentityError(Eco2Error):
    status_code = 400
    code = "identity_error"


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

    def __init__(self, detail: str) -> None:
        super().__init__(detail, {"WWW-Authenticate": "Bearer"})


class RateLimited(IdentityError):
    status_code = 429
    code = "rate_limited"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail, {"Retry-After": str(retry_after)})
        self.retry_after = retry_after


class StateUnavailable(IdentityError):
    """Redis could not record or check a one-time value: refuse rather than allow a replay."""

    status_code = 503
    code = "temporarily_unavailable"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, {"Retry-After": "1"})
