"""The one table of queues and which task serves which queue, free of Celery and kombu.

The broker topology (apps/core/queue.py) and the cluster layer (the Celery worker Deployments in
platform/eco2_platform/workloads) both read it; the Pulumi program imports it without Celery installed.
"""

from __future__ import annotations

from enum import StrEnum

DELIVERY_LIMIT = 5
"""Deliveries of one message before its quorum queue dead-letters it (``x-delivery-limit``)."""


class QueueName(StrEnum):
    HIGH_PRIORITY = "high_priority"
    DEFAULT = "default"
    LOW_PRIORITY = "low_priority"
    EXTERNAL_API = "external_api"
    DEAD_LETTER = "dead_letter"


# The analysis task that consumes each analysis queue; a job row records its queue.
ANALYSIS_TASK_BY_QUEUE = {
    QueueName.HIGH_PRIORITY: "waste.analyze",
    QueueName.EXTERNAL_API: "waste.analyze_external",
}
TASK_QUEUES = {
    **{task: queue for queue, task in ANALYSIS_TASK_BY_QUEUE.items()},
    "waste.sweep_stuck_jobs": QueueName.LOW_PRIORITY,
    "users.purge_account": QueueName.LOW_PRIORITY,
    "users.sweep_deleted_accounts": QueueName.LOW_PRIORITY,
    "waste.cleanup_expired_uploads": QueueName.LOW_PRIORITY,
}
WORK_QUEUE_NAMES = tuple(name for name in QueueName if name is not QueueName.DEAD_LETTER)
"""Queues that Celery workers consume with ``-Q``; ``dead_letter`` is drained by a consumer bootstep."""
