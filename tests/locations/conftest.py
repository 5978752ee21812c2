from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from apps.core.request_rate import search_rate_limit
from apps.locations.hours import SEOUL
from apps.locations.router import router, seoul_now
from apps.locations.settings import LocationsSettings, request_locations_settings
from tests.locations.fake_kakao import FakeKakao
from tests.support.asgi_server import ThreadedServer

# Tuesday 2026-11-24, 12:30 in Seoul: an ordinary working day (not a public holiday).
TUESDAY_NOON = datetime(2026, 11, 24, 12, 30, tzinfo=SEOUL)


@pytest.fixture(scope="session")
def _kakao_server() -> Iterator[tuple[FakeKakao, str]]:
    fake = FakeKakao()
    with ThreadedServer(fake.app(), lifespan="off", name="fake-kakao") as server:
        yield fake, server.url


@pytest.fixture
def fake_kakao(_kakao_server: tuple[FakeKakao, str]) -> Iterator[FakeKakao]:
    fake, _ = _kakao_server
    fake.reset()
    yield fake
    fake.reset()


@pytest.fixture
def fake_kakao_url(_kakao_server: tuple[FakeKakao, str]) -> str:
    return _kakao_server[1]


ClientFactory = Callable[[LocationsSettings], TestClient]


@pytest.fixture
def make_client() -> ClientFactory:
    """A throwaway app with the locations router mounted as in production, fixed clock, given settings, and
    no request limits (they need the gateway's Redis clients; tests/waste/test_hardening.py covers them)."""

    def build(settings: LocationsSettings) -> TestClient:
        app = FastAPI()
        app.include_router(router, prefix="/api/v1/locations")
        app.dependency_overrides[request_locations_settings] = lambda: settings
        app.dependency_overrides[seoul_now] = lambda: TUESDAY_NOON
        app.dependency_overrides[search_rate_limit] = lambda: None
        return TestClient(app)

    return build


@pytest.fixture
def offline_client(make_client: ClientFactory) -> TestClient:
    """No Kakao key: the embedded KECO data only."""
    return make_client(LocationsSettings(kakao_rest_api_key=None))
