"""Signed bearer tokens (HS256 JWT). The identity service will issue these after provider login."""

from __future__ import annotations

import uuid
from datetime import timedelta

import jwt

from apps.core.settings import Settings
from apps.core.time import utcnow

ALGORITHM = "HS256"
AUDIENCE = "eco2-api"


class InvalidToken(Exception):
    """The bearer token is missing, malformed, expired or not signed by us."""


def issue_access_token(user_id: uuid.UUID, settings: Settings) -> str:
    now = utcnow()
    claims = {
        "sub": str(user_id),
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + timedelta(seconds=settings.token_ttl_seconds),
    }
    return jwt.encode(claims, settings.token_secret.get_secret_value(), algorithm=ALGORITHM)


def read_access_token(token: str, settings: Settings) -> uuid.UUID:
    """Return the user id the token was issued to, or raise InvalidToken with the reason."""
    try:
        claims = jwt.decode(
            token,
            settings.token_secret.get_secret_value(),
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            options={"require": ["sub", "exp", "aud"]},
        )
        return uuid.UUID(claims["sub"])
    except jwt.ExpiredSignatureError as error:
        raise InvalidToken("token expired") from error
    except (jwt.InvalidTokenError, ValueError) as error:
        raise InvalidToken("invalid token") from error
