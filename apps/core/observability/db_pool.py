"""SQLAlchemy's QueuePool, measured: connections in use, and the checkouts that had to wait for one.

A checkout waits only when every pooled connection is out and the overflow is used up; then it blocks up to
``pool_timeout`` and either gets a returned connection or raises (the API answers 503). Those waits are what
saturation looks like from the inside, before any request fails.
"""

from __future__ import annotations

import time

from sqlalchemy import exc
from sqlalchemy.pool import ConnectionPoolEntry, QueuePool

from apps.core.observability import metrics


class InstrumentedQueuePool(QueuePool):
    def _exhausted(self) -> bool:
        return self._max_overflow > -1 and self._overflow >= self._max_overflow and self._pool.empty()

    def _do_get(self) -> ConnectionPoolEntry:
        if not self._exhausted():
            entry = super()._do_get()
            self._record_in_use()
            return entry
        started = time.perf_counter()
        try:
            entry = super()._do_get()
        except exc.TimeoutError:
            metrics.DB_POOL_WAITS.labels("timeout").inc()
            raise
        finally:
            metrics.DB_POOL_WAIT_DURATION.observe(time.perf_counter() - started)
        metrics.DB_POOL_WAITS.labels("acquired").inc()
        self._record_in_use()
        return entry

    def _do_return_conn(self, record: ConnectionPoolEntry) -> None:
        super()._do_return_conn(record)
        self._record_in_use()

    def _record_in_use(self) -> None:
        metrics.DB_POOL_CONNECTIONS_IN_USE.set(self.checkedout())
