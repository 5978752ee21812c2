"""The one place that decides who the caller is. Swap the token source here when provider login lands."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from apps.auth.tokens import InvalidToken, read_access_token
from apps.core.db import SessionDep
from apps.core.dependencies import SettingsDep
from apps.users.models import User

bearer_scheme = HTTPBearer(auto_error=False)


def get_current_user(
    session: SessionDep,
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> User:
    def unauthorized(reason: str) -> HTTPException:
        return HTTPException(
            status.HTTP_401_UNAUTHORIZED, detail=reason, headers={"WWW-Authenticate": "Bearer"}
        )

    if credentials is None:
        raise unauthorized("missing bearer token")
    try:
        user_id = read_access_token(credentials.credentials, settings)
    except InvalidToken as error:
        raise unauthorized(str(error)) from error
    user = session.get(User, user_id)
    # End the read transaction so its connection goes back to the pool before the endpoint waits for a
    # worker thread: holding it across that wait can exhaust the pool and deadlock under load.
    session.commit()
    if user is None:
        raise unauthorized("unknown user")
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]
