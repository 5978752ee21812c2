from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel


class UserRead(BaseModel):
    id: uuid.UUID
    display_name: str
    created_at: datetime
