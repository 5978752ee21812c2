from __future__ import annotations

from sqlmodel import Session

from apps.users.models import User


def create_user(session: Session, display_name: str) -> User:
    user = User(display_name=display_name)
    session.add(user)
    session.commit()
    return user
