"""Metrics, structured logs and request ids, shared by the API processes and the Celery workers.

Domain code only increments metrics and logs; the wiring (the HTTP middleware, the ``/metrics`` endpoint, the
worker's metrics server and Celery signals) lives here. See docs/observability.md.
"""
