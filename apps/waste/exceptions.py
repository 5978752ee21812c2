"""Domain errors of the scan flow; the router maps each to one HTTP status with a clear message."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse


class ScanError(Exception):
    status_code = 400

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


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


async def scan_error_handler(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ScanError)
    return JSONResponse(status_code=error.status_code, content={"detail": error.detail})
