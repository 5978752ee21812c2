"""The running stack for API tests (a pytest plugin, registered in tests/conftest.py): real PostgreSQL (fresh,
migrated database), RabbitMQ (fresh vhost), embedded S3, and the gateway served by uvicorn on a real port."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from moto.server import ThreadedMotoServer

from tests.support import services
from tests.support.asgi_server import ThreadedServer


@pytest.fixture(scope="session")
def database() -> Iterator[str]:
    from apps.core.migrate import upgrade
    from apps.core.settings import get_settings

    services.create_database()
    upgrade(get_settings().database_url)
    yield get_settings().database_url
    from apps.core.db import get_engine

    get_engine().dispose()
    services.drop_database()


@pytest.fixture(scope="session")
def vhost() -> Iterator[str]:
    services.create_vhost()
    services.BROKER_PROXY.start()
    yield services.VHOST
    services.BROKER_PROXY.cut()
    services.delete_vhost()


@pytest.fixture(scope="session")
def s3() -> Iterator[Any]:
    from apps.core.settings import get_settings
    from apps.core.storage import ensure_bucket, get_s3_client

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=services.S3_PORT, verbose=False)
    server.start()
    settings = get_settings()
    client = get_s3_client()
    ensure_bucket(client, settings.s3_bucket, settings.s3_region, ["http://localhost:5173"])
    yield client
    server.stop()


@pytest.fixture(scope="session")
def api(database: str, vhost: str, s3: Any) -> Iterator[httpx.Client]:
    from apps.main import create_gateway

    with (
        ThreadedServer(create_gateway(), name="eco2-gateway") as server,
        httpx.Client(base_url=server.url, timeout=30) as client,
    ):
        yield client
