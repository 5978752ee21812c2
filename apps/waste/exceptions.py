"""Domain errors of the scan flow: each is one HTTP status with a clear message (rendered by the one
`Eco2Error` handler of apps/core/errors.py)."""

from __future__ import annotations

from apps.core.errors import Eco2Error


class ScanError(Eco2Error):
    status_code = 400


class UnknownCaller(ScanError):
    """A valid token whose user no longer exists."""

    status_code = 401

    def __init__(self, detail: str) -> None:
        super().__init__(detail, {"WWW-Authenticate": "Bearer"})


class UploadNotFound(ScanError):
    status_code = 404


class UploadAlreadyUsed(ScanError):
    status_code = 409


class UploadNotReceived(ScanError):
    status_code = 409


class UploadExpired(ScanError):
    status_code = 410


class UploadTooLarge(ScanError):
    status_code = 413


class UploadRejected(ScanError):
    """The stored object is not an acceptable image (wrong type, undecodable, too many pixels)."""

    status_code = 422


class IdempotencyKeyReused(ScanError):
    status_code = 422


class JobNotFound(ScanError):
    status_code = 404


class TooManyPendingUploads(ScanError):
    """The user holds the maximum of reserved, unused uploads; one frees up when it is used or expires."""

    status_code = 429

    def __init__(self, detail: str, retry_after_seconds: int) -> None:
        super().__init__(detail, {"Retry-After": str(max(1, retry_after_seconds))})
