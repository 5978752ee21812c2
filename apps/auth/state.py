"""The OAuth `state` kept without server storage: a short-lived JWT signed with our key, in an HttpOnly cookie
scoped to the provider's callback path. It carries the PKCE verifier and nonce; each state is usable once
(a Redis SET NX), so a replayed callback is refused before the provider is asked again."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import jwt
import redis

from apps.auth.exceptions import SignInRejected, StateUnavailable
from apps.auth.providers.base import Authorization
from apps.core.access_tokens import KeyRing
from apps.core.time import utcnow

STATE_TTL_SECONDS = 600
_AUDIENCE = "eco2-oauth-state"
_TYPE = "eco2-oauth-state+jwt"
_USED_STATE = "eco2:auth:used-state:{}"


@dataclass(frozen=True)
class PendingSignIn:
    provider: str
    attempt: Authorization
    link_user_id: uuid.UUID | None
    return_to: str | None


def cookie_name(provider: str) -> str:
    return f"eco2_oauth_{provider}"


def seal(pending: PendingSignIn, ring: KeyRing, issuer: str) -> str:
    now = utcnow()
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": _AUDIENCE,
        "iat": now,
        "exp": now + timedelta(seconds=STATE_TTL_SECONDS),
        "provider": pending.provider,
        "state": pending.attempt.state,
        "verifier": pending.attempt.code_verifier,
        "nonce": pending.attempt.nonce,
        "redirect_uri": pending.attempt.redirect_uri,
        "link": str(pending.link_user_id) if pending.link_user_id else None,
        "return_to": pending.return_to,
    }
    header = {"kid": ring.current.kid, "typ": _TYPE}
    return jwt.encode(claims, ring.signing_key, algorithm=ring.current.algorithm, headers=header)


def unseal(cookie: str | None, state: str | None, provider: str, ring: KeyRing, issuer: str) -> PendingSignIn:
    """The pending sign-in this browser started with this provider, if `state` is the one it was sent."""
    if not cookie:
        raise SignInRejected("no sign-in is pending in this browser (or it expired); start again")
    try:
        header = jwt.get_unverified_header(cookie)
        key = ring.find(header.get("kid"))
        if key is None or header.get("typ") != _TYPE:
            raise jwt.InvalidTokenError("not a state cookie of ours")
        claims = jwt.decode(
            cookie, key.public_key, algorithms=[key.algorithm], audience=_AUDIENCE, issuer=issuer
        )
    except jwt.InvalidTokenError as error:
        raise SignInRejected("the pending sign-in is invalid or expired; start again") from error
    if claims.get("provider") != provider:
        raise SignInRejected("the pending sign-in was started with another provider; start again")
    if not state or not hmac.compare_digest(str(claims["state"]), state):
        raise SignInRejected("the state parameter does not match this browser's sign-in; start again")
    attempt = Authorization(claims["state"], claims["verifier"], claims["nonce"], claims["redirect_uri"])
    link = uuid.UUID(claims["link"]) if claims.get("link") else None
    return PendingSignIn(provider, attempt, link, claims.get("return_to"))


def use_once(redis_client: redis.Redis, state: str) -> None:
    """Mark the state used; a second callback with it (a replayed code) is refused."""
    key = _USED_STATE.format(hashlib.sha256(state.encode()).hexdigest())
    try:
        first = redis_client.set(key, "1", nx=True, ex=STATE_TTL_SECONDS)
    except redis.RedisError as error:
        raise StateUnavailable("cannot record the sign-in attempt right now; retry shortly") from error
    if not first:
        raise SignInRejected("this sign-in attempt was already used; start again")
