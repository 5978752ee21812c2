from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends

from apps.core.dependencies import CurrentUser
from apps.core.storage import get_s3_client

S3Dep = Annotated[Any, Depends(get_s3_client)]

__all__ = ["CurrentUser", "S3Dep"]
