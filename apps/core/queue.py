"""Celery on RabbitMQ: one topic exchange, quorum queues that dead-letter into `dead_letter`.

Messages are acknowledged late and requeued when a worker dies; a task that raises is rejected without
requeue, so RabbitMQ dead-letters it. Publishers and workers both declare the whole topology at start-up:
a missing dead-letter queue would silently drop dead-lettered messages.
"""

from __future__ import annotations

from typing import Any

from amqp.exceptions import AMQPError
from celery import Celery
from kombu import Connection, Exchange, Queue
from kombu.exceptions import OperationalError

from apps.core.circuit import CircuitBreaker
from apps.core.queue_table import DELIVERY_LIMIT, TASK_QUEUES, WORK_QUEUE_NAMES, QueueName
from apps.core.settings import Settings, get_settings

TASK_EXCHANGE = Exchange("eco2.tasks", type="topic", durable=True)
DEAD_LETTER_EXCHANGE = Exchange("eco2.dead_letter", type="topic", durable=True)


def _work_queue(name: QueueName) -> Queue:
    return Queue(
        name.value,
        exchange=TASK_EXCHANGE,
        routing_key=name.value,
        durable=True,
        queue_arguments={
            "x-queue-type": "quorum",
            "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE.name,
            "x-delivery-limit": DELIVERY_LIMIT,
        },
    )


WORK_QUEUES = tuple(_work_queue(name) for name in WORK_QUEUE_NAMES)
DEAD_LETTER_QUEUE = Queue(
    QueueName.DEAD_LETTER.value,
    exchange=DEAD_LETTER_EXCHANGE,
    routing_key="#",
    durable=True,
    queue_arguments={"x-queue-type": "quorum"},
)


def declare_topology(connection: Connection) -> None:
    """Declare exchanges and every queue, the dead-letter queue included. Idempotent."""
    channel = connection.default_channel
    for queue in (*WORK_QUEUES, DEAD_LETTER_QUEUE):
        queue.bind(channel).declare()


def create_celery(settings: Settings) -> Celery:
    app = Celery("eco2", broker=settings.broker_url, include=["apps.waste.tasks", "apps.users.tasks"])
    app.conf.update(
        task_queues=WORK_QUEUES,
        task_default_queue=QueueName.DEFAULT.value,
        task_default_exchange=TASK_EXCHANGE.name,
        task_default_exchange_type="topic",
        task_default_routing_key=QueueName.DEFAULT.value,
        task_create_missing_queues=False,
        # Routed by task name, so retries and delayed re-publishes return to the queue they came from.
        task_routes={task: {"queue": queue.value} for task, queue in TASK_QUEUES.items()},
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_acks_on_failure_or_timeout=False,
        worker_prefetch_multiplier=1,
        worker_detect_quorum_queues=True,
        worker_hijack_root_logger=False,
        broker_transport_options={"confirm_publish": True},
        # Connect and handshake within this; a publish waits at most this for its confirm.
        broker_connection_timeout=settings.broker_timeout_seconds,
        broker_connection_retry_on_startup=True,
        broker_heartbeat=30,
    )
    return app


celery_app = create_celery(get_settings())
# One failed publish opens the circuit: for a while publishes fail at once and the sweeper delivers later.
broker_breaker = CircuitBreaker(
    "RabbitMQ", failure_threshold=1, reset_seconds=get_settings().dependency_breaker_reset_seconds
)


def publish_options(queue: QueueName) -> dict[str, Any]:
    """apply_async options: route to `queue`, and fail fast when the broker is unreachable (one reconnect,
    each step bounded by the broker timeout)."""
    timeout = get_settings().broker_timeout_seconds
    return {
        "queue": queue.value,
        "exchange": TASK_EXCHANGE.name,
        "routing_key": queue.value,
        "timeout": timeout,
        "confirm_timeout": timeout,
        "retry": True,
        "retry_policy": {"max_retries": 1, "interval_start": 0, "interval_step": 0.1, "interval_max": 0.1},
    }


def publish_task(task_name: str, args: list[Any], queue: QueueName) -> None:
    """Publish by task name with a publisher confirm; OperationalError when the broker is unreachable or
    its circuit is open (then no time is spent trying)."""
    if not broker_breaker.allow():
        raise OperationalError("RabbitMQ circuit open")
    try:
        celery_app.send_task(task_name, args=args, **publish_options(queue))
    except (OperationalError, OSError, AMQPError) as error:  # a confirm timeout surfaces as socket.timeout
        broker_breaker.record_failure()
        if isinstance(error, OperationalError):
            raise
        raise OperationalError(f"publish failed: {type(error).__name__}") from error
    broker_breaker.record_success()
