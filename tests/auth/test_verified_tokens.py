"""Each key ring remembers the tokens it verified: a repeat skips the signature, never the expiry."""

from __future__ import annotations

import types
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from apps.auth.tokens import sign_access_token
from apps.core import access_tokens
from apps.core.access_tokens import (
    LEEWAY_SECONDS,
    InvalidToken,
    KeyRing,
    VerificationKey,
    thumbprint,
    verify_access_token,
)
from apps.core.settings import get_settings

ISSUER = get_settings().token_issuer


def ring_of(key: ed25519.Ed25519PrivateKey) -> KeyRing:
    public = key.public_key()
    current = VerificationKey(thumbprint(public), "EdDSA", public)
    return KeyRing(key, current, (current,))


def token_for(ring: KeyRing) -> tuple[str, uuid.UUID, int]:
    user_id = uuid.uuid4()
    token, expires_at = sign_access_token(ring, get_settings(), user_id, uuid.uuid4(), None)
    return token, user_id, int(expires_at.timestamp())


def test_a_repeated_token_is_not_verified_again(monkeypatch: pytest.MonkeyPatch) -> None:
    ring = ring_of(ed25519.Ed25519PrivateKey.generate())
    token, user_id, _ = token_for(ring)
    decoded: list[str] = []
    decode = jwt.decode

    def counting_decode(*args: object, **kwargs: object) -> object:
        decoded.append("decode")
        return decode(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(jwt, "decode", counting_decode)
    assert [verify_access_token(token, ring, ISSUER).id for _ in range(3)] == [user_id] * 3
    assert decoded == ["decode"]


def clock_at(monkeypatch: pytest.MonkeyPatch, now: float) -> None:
    """Set the clock `verify_access_token` reads, and only that one."""
    monkeypatch.setattr(access_tokens, "time", types.SimpleNamespace(time=lambda: now))


def test_a_remembered_token_is_refused_once_it_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    ring = ring_of(ed25519.Ed25519PrivateKey.generate())
    token, user_id, expires_at = token_for(ring)
    assert verify_access_token(token, ring, ISSUER).id == user_id
    clock_at(monkeypatch, expires_at + LEEWAY_SECONDS)
    assert verify_access_token(token, ring, ISSUER).id == user_id, "within the leeway"
    clock_at(monkeypatch, expires_at + LEEWAY_SECONDS + 1)
    with pytest.raises(InvalidToken, match="expired"):
        verify_access_token(token, ring, ISSUER)


def test_a_ring_without_the_key_refuses_a_token_another_ring_verified() -> None:
    """A rotation that drops a key builds a new ring: what the old one remembered does not carry over."""
    old = ring_of(ed25519.Ed25519PrivateKey.generate())
    token, user_id, _ = token_for(old)
    assert verify_access_token(token, old, ISSUER).id == user_id
    with pytest.raises(InvalidToken, match="unknown key"):
        verify_access_token(token, ring_of(ed25519.Ed25519PrivateKey.generate()), ISSUER)


def test_a_token_for_another_issuer_is_refused_even_after_it_was_verified_for_ours() -> None:
    ring = ring_of(ed25519.Ed25519PrivateKey.generate())
    token, _, _ = token_for(ring)
    verify_access_token(token, ring, ISSUER)
    with pytest.raises(InvalidToken):
        verify_access_token(token, ring, "https://someone-else.example")
