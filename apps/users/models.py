from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Column, DateTime
from sqlmodel import Field, SQLModel

from apps.core.time import utcnow


class User(SQLModel, table=True):
    """A person. Deleting the account sets `deleted_at` at once; the purge task then removes the row."""

    __tablename__ = "users"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    nickname: str = Field(max_length=100)
    # Server-chosen key under profiles/{user_id}/, verified as an image before it is set.
    profile_image_key: str | None = Field(default=None, max_length=300)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    deleted_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
