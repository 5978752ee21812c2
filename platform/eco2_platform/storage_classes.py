"""Storage classes the platform provides; the data services' PersistentVolumeClaims name them from here."""

from __future__ import annotations

DEFAULT_STORAGE_CLASS = "gp3"
"""EBS gp3 through the AWS EBS CSI driver: encrypted, WaitForFirstConsumer, expansion allowed."""
