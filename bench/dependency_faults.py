"""What a black-holed Redis or RabbitMQ costs the API's calls (issue 10: a read ≤ +50 ms, a publish ≤ 1 s).

    .venv/bin/python -m bench.dependency_faults

Through a TCP proxy that can black-hole (accept connections, answer nothing; tests/support/tcp_proxy.py): the
finished-job cache write and the rate-limit check (Redis), and `apps.core.queue.publish_task` (RabbitMQ, a
throwaway vhost), first healthy, then black-holed: each call's latency in order, so the circuit breaker's
effect shows. Prints a Markdown table.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Sequence

from tests.support import provisioning
from tests.support.tcp_proxy import TcpProxy

REDIS_PROXY = TcpProxy(target_port=6379)
BROKER_PROXY = TcpProxy(target_port=5672)
VHOST = f"eco2_bench_faults_{secrets.token_hex(4)}"
# Before any `apps` import: the module-level Celery app and its circuit breaker read these once.
os.environ["ECO2_BROKER_URL"] = f"amqp://guest:guest@127.0.0.1:{BROKER_PROXY.port}/{VHOST}"
os.environ["ECO2_REDIS_URL"] = f"redis://127.0.0.1:{REDIS_PROXY.port}/14"


def timings_ms(call: Callable[[], object], count: int) -> list[float]:
    measured = []
    for _ in range(count):
        started = time.perf_counter()
        with contextlib.suppress(Exception):  # the failure is the point; its cost is what we measure
            call()
        measured.append((time.perf_counter() - started) * 1000)
    return measured


def row(name: str, healthy: Sequence[float], holed: Sequence[float]) -> str:
    first = ", ".join(f"{value:.1f}" for value in holed[:3])
    return (
        f"| {name} | {statistics.median(healthy):.2f} | {first} | "
        f"{statistics.median(holed[3:]):.3f} | {max(holed):.1f} |"
    )


def main(argv: Sequence[str] | None = None) -> int:
    from apps.core.cache import make_async_redis
    from apps.core.queue import celery_app, declare_topology, publish_task
    from apps.core.queue_table import QueueName
    from apps.core.rate_limit import Limit, RequestLimiter
    from apps.core.settings import get_settings
    from apps.waste.cache import FinishedJobCache
    from apps.waste.models import JobStatus

    loop = asyncio.new_event_loop()  # the cache is written on an event loop, as the poll writes it
    REDIS_PROXY.start()
    BROKER_PROXY.start()
    provisioning.create_vhost(VHOST)
    try:
        with celery_app.connection_for_write() as connection:
            declare_topology(connection)
        redis = make_async_redis(get_settings().redis_url)  # one client for both, as the API's lifespan makes
        cache, limiter = FinishedJobCache(redis), RequestLimiter(redis)
        namespace = f"bench-faults-{uuid.uuid4()}"
        job_id, user_id = uuid.uuid4(), uuid.uuid4()
        limit = Limit("bench:ip", 10_000_000, 10_000)

        def write() -> None:
            loop.run_until_complete(cache.put(job_id, JobStatus.FAILED, user_id, b"{}"))

        def check() -> object:
            return loop.run_until_complete(limiter.try_acquire(namespace, [(limit, "10.0.0.1")]))

        def publish() -> None:
            publish_task("waste.sweep_stuck_jobs", [0], QueueName.LOW_PRIORITY)

        healthy = {
            "write": timings_ms(write, 200),
            "check": timings_ms(check, 200),
            "publish": timings_ms(publish, 50),
        }
        REDIS_PROXY.black_hole()
        BROKER_PROXY.black_hole()
        holed = {
            "write": timings_ms(write, 20),
            "check": timings_ms(check, 20),
            "publish": timings_ms(publish, 10),
        }
    finally:
        loop.close()
        REDIS_PROXY.restore()
        BROKER_PROXY.restore()
        REDIS_PROXY.cut()
        BROKER_PROXY.cut()
        provisioning.delete_vhost(VHOST)
    print("| call | healthy p50 ms | black-holed: first 3 calls, ms | then p50 ms | worst ms |")
    print("|---|---|---|---|---|")
    print(row("finished-job cache write (Redis)", healthy["write"], holed["write"]))
    print(row("rate-limit check (Redis)", healthy["check"], holed["check"]))
    print(row("publish with confirm (RabbitMQ)", healthy["publish"], holed["publish"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
