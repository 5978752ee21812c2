"""Who a provider identity is here: find the linked account, create a user for a new one, or link it to the
signed-in user. (provider, provider user id) is unique, and a user links at most one account per provider."""

from __future__ import annotations

import uuid

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from apps.auth.exceptions import AccountConflict
from apps.auth.models import SocialAccount
from apps.auth.providers.base import ProviderIdentity
from apps.users.service import create_user, get_active_user

DEFAULT_NICKNAME = "이코에코 사용자"


def _account(session: Session, identity: ProviderIdentity) -> SocialAccount | None:
    return session.exec(
        select(SocialAccount).where(
            col(SocialAccount.provider) == identity.provider,
            col(SocialAccount.provider_user_id) == identity.subject,
        )
    ).first()


def sign_in(session: Session, identity: ProviderIdentity) -> uuid.UUID:
    """The user this identity signs in as; a first sign-in creates the user and links the account."""
    account = _account(session, identity)
    if account is not None:
        return account.user_id
    user = create_user(session, (identity.nickname or DEFAULT_NICKNAME)[:100])
    session.add(SocialAccount(user_id=user.id, provider=identity.provider, provider_user_id=identity.subject))
    try:
        session.commit()
    except IntegrityError:  # the same first sign-in, concurrently: the other request created the user
        session.rollback()
        account = _account(session, identity)
        if account is None:
            raise
        return account.user_id
    return user.id


def link(session: Session, user_id: uuid.UUID, identity: ProviderIdentity) -> None:
    """Link the identity to the signed-in user. Linking the same account again is a no-op."""
    get_active_user(session, user_id)
    account = _account(session, identity)
    if account is not None:
        if account.user_id != user_id:
            raise AccountConflict(f"this {identity.provider} account already belongs to another user")
        return
    existing = session.exec(
        select(SocialAccount).where(
            col(SocialAccount.user_id) == user_id, col(SocialAccount.provider) == identity.provider
        )
    ).first()
    if existing is not None:
        raise AccountConflict(f"another {identity.provider} account is already linked to this user")
    session.add(SocialAccount(user_id=user_id, provider=identity.provider, provider_user_id=identity.subject))
    try:
        session.commit()
    except IntegrityError as error:
        session.rollback()
        raise AccountConflict(f"this {identity.provider} account was just linked elsewhere") from error


def linked_providers(session: Session, user_id: uuid.UUID) -> list[str]:
    return sorted(
        session.exec(select(SocialAccount.provider).where(col(SocialAccount.user_id) == user_id)).all()
    )
