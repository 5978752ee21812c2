"""Per-run isolation on the machine's real PostgreSQL, RabbitMQ and Redis, plus an embedded S3 server.

Imported by tests/conftest.py before any `apps` module so every setting points at this run's resources:
a fresh database, a fresh RabbitMQ vhost, a Redis database number, and a moto S3 server on a free port.
"""

from __future__ import annotations

import os
import secrets

from tests.support import provisioning
from tests.support.identity import provider_environment
from tests.support.provisioning import free_port
from tests.support.tcp_proxy import TcpProxy

RUN_ID = secrets.token_hex(4)
DATABASE_NAME = f"eco2_test_{RUN_ID}"
VHOST = f"eco2_test_{RUN_ID}"

S3_PORT = free_port()
# The API reaches RabbitMQ through a proxy a test can cut; workers connect directly (DIRECT_BROKER_URL).
BROKER_PROXY = TcpProxy(target_port=5672)
DIRECT_BROKER_URL = f"amqp://guest:guest@127.0.0.1:5672/{VHOST}"

TEST_ENVIRONMENT = {
    "ECO2_ENVIRONMENT": "test",
    "ECO2_DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:5432/{DATABASE_NAME}",
    "ECO2_BROKER_URL": f"amqp://guest:guest@127.0.0.1:{BROKER_PROXY.port}/{VHOST}",
    "ECO2_REDIS_URL": "redis://127.0.0.1:6379/15",
    "ECO2_S3_ENDPOINT_URL": f"http://127.0.0.1:{S3_PORT}",
    "ECO2_S3_BUCKET": "eco2-test-images",
    "ECO2_OPENAI_API_KEY": "",
    "ECO2_ANALYZER": "embedded",
    "ECO2_S3_ACCESS_KEY_ID": "local",
    "ECO2_S3_SECRET_ACCESS_KEY": "local-secret",
    **provider_environment(),
    # Rate limits keyed by this run: test runs share one Redis and every request comes from 127.0.0.1.
    "ECO2_RATE_LIMIT_NAMESPACE": f"eco2-test-{RUN_ID}",
    "ECO2_RATE_LIMIT_IP_FACTOR": "1000",
}


def apply_test_environment() -> None:
    os.environ.update(TEST_ENVIRONMENT)


def create_database() -> None:
    provisioning.create_database(DATABASE_NAME)


def drop_database() -> None:
    provisioning.drop_database(DATABASE_NAME)


def create_vhost() -> None:
    provisioning.create_vhost(VHOST)


def delete_vhost() -> None:
    provisioning.delete_vhost(VHOST)
