"""Errors of the users domain (the one identity error handler maps them)."""

from __future__ import annotations

from apps.auth.exceptions import IdentityError


class UserNotFound(IdentityError):
    status_code = 404
    code = "user_not_found"


class ProfileImageRejected(IdentityError):
    status_code = 422
    code = "profile_image_rejected"


class InvalidCursor(IdentityError):
    code = "invalid_cursor"
