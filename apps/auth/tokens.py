"""Sessions: short-lived access JWTs and rotating refresh tokens (one family per session, stored hashed).

Refreshing uses a token once and hands out its successor. A rotated token presented again was copied by
someone: the whole family is revoked, in Redis first (so its access tokens stop at once) and then in the
database. Logout does the same for the caller's own session.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt
import redis
from sqlalchemy import update
from sqlmodel import Session, col, select

from apps.auth.exceptions import SessionRejected, StateUnavailable
from apps.auth.models import RefreshToken
from apps.core.access_tokens import AUDIENCE, TOKEN_TYPE, KeyRing, csrf_hash, revoke_session
from apps.core.settings import Settings
from apps.core.time import utcnow


@dataclass(frozen=True)
class IssuedTokens:
    user_id: uuid.UUID
    session_id: uuid.UUID
    access_token: str
    access_expires_at: datetime
    refresh_token: str
    refresh_expires_at: datetime
    csrf_token: str | None  # browser sessions only


def hash_refresh_token(token: str) -> str:
    """Refresh tokens are 256 random bits: a plain SHA-256 is enough to make a leaked table useless."""
    return hashlib.sha256(token.encode()).hexdigest()


def sign_access_token(
    ring: KeyRing, settings: Settings, user_id: uuid.UUID, session_id: uuid.UUID, csrf_token: str | None
) -> tuple[str, datetime]:
    now = utcnow()
    expires_at = now + timedelta(seconds=settings.access_token_ttl_seconds)
    claims: dict[str, object] = {
        "iss": settings.token_issuer,
        "aud": AUDIENCE,
        "sub": str(user_id),
        "sid": str(session_id),
        "jti": secrets.token_urlsafe(12),
        "iat": now,
        "exp": expires_at,
    }
    if csrf_token is not None:
        claims["csrf"] = csrf_hash(csrf_token)
    header = {"kid": ring.current.kid, "typ": TOKEN_TYPE}
    return jwt.encode(claims, ring.signing_key, algorithm=ring.current.algorithm, headers=header), expires_at


def _issue(
    session: Session,
    ring: KeyRing,
    settings: Settings,
    user_id: uuid.UUID,
    family_id: uuid.UUID,
    browser: bool,
) -> IssuedTokens:
    """Add the family's next refresh token (the caller commits) and sign an access token for it."""
    refresh_token = secrets.token_urlsafe(32)
    row = RefreshToken(
        family_id=family_id,
        user_id=user_id,
        token_hash=hash_refresh_token(refresh_token),
        expires_at=utcnow() + timedelta(seconds=settings.refresh_token_ttl_seconds),
    )
    session.add(row)
    csrf_token = secrets.token_urlsafe(32) if browser else None
    access_token, access_expires_at = sign_access_token(ring, settings, user_id, family_id, csrf_token)
    return IssuedTokens(
        user_id, family_id, access_token, access_expires_at, refresh_token, row.expires_at, csrf_token
    )


def start_session(
    session: Session, ring: KeyRing, settings: Settings, user_id: uuid.UUID, browser: bool
) -> IssuedTokens:
    issued = _issue(session, ring, settings, user_id, uuid.uuid4(), browser)
    session.commit()
    return issued


def _revoke_family(
    session: Session, redis_client: redis.Redis, settings: Settings, family_id: uuid.UUID
) -> None:
    """Redis first: if it cannot record the revocation, nothing changes and the caller gets a 503 to retry."""
    try:
        revoke_session(redis_client, family_id, settings)
    except redis.RedisError as error:
        raise StateUnavailable("cannot revoke the session right now; retry shortly") from error
    session.execute(
        update(RefreshToken)
        .where(col(RefreshToken.family_id) == family_id, col(RefreshToken.revoked_at).is_(None))
        .values(revoked_at=utcnow())
    )
    session.commit()


def rotate(
    session: Session,
    redis_client: redis.Redis,
    ring: KeyRing,
    settings: Settings,
    refresh_token: str,
    browser: bool,
) -> IssuedTokens:
    row = session.exec(
        select(RefreshToken)
        .where(col(RefreshToken.token_hash) == hash_refresh_token(refresh_token))
        .with_for_update()  # concurrent refreshes of one token: the second sees it rotated
    ).first()
    if row is None or row.expires_at < utcnow():
        session.rollback()
        raise SessionRejected("unknown or expired refresh token; sign in again")
    if row.revoked_at is not None:
        session.rollback()
        raise SessionRejected("this session has ended; sign in again")
    if row.rotated_at is not None:
        session.rollback()
        _revoke_family(session, redis_client, settings, row.family_id)
        raise SessionRejected("this refresh token was already used; the session is revoked, sign in again")
    row.rotated_at = utcnow()
    session.add(row)
    issued = _issue(session, ring, settings, row.user_id, row.family_id, browser)
    session.commit()
    return issued


def end_session(
    session: Session, redis_client: redis.Redis, settings: Settings, family_id: uuid.UUID
) -> None:
    _revoke_family(session, redis_client, settings, family_id)


def revoke_user_refresh_tokens(session: Session, user_id: uuid.UUID) -> None:
    """Every session of the user (account deletion). The caller commits."""
    session.execute(
        update(RefreshToken)
        .where(col(RefreshToken.user_id) == user_id, col(RefreshToken.revoked_at).is_(None))
        .values(revoked_at=utcnow())
    )
