from __future__ import annotations

from apps.core.dependencies import CurrentUser
from apps.core.storage import S3Dep

__all__ = ["CurrentUser", "S3Dep"]
