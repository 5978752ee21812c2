from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from tests.fakes.oauth_providers import FakeProvider, FakeUser
from tests.support.identity import CLIENTS, PROVIDER_PORTS


@pytest.fixture(scope="session")
def fake_providers() -> Iterator[dict[str, FakeProvider]]:
    fakes = {kind: FakeProvider(kind, *CLIENTS[kind], port=port) for kind, port in PROVIDER_PORTS.items()}
    servers = [fake.serve() for fake in fakes.values()]
    for server in servers:
        server.__enter__()
    yield fakes
    for server in servers:
        server.__exit__(None, None, None)


@pytest.fixture
def providers(fake_providers: dict[str, FakeProvider]) -> dict[str, FakeProvider]:
    """The fakes, reset: a fresh provider user per test, no denial, no forged claims."""
    for fake in fake_providers.values():
        fake.signed_in_as = FakeUser(str(10**11 + secrets.randbelow(10**11)), f"{fake.kind} 사용자")
        fake.deny_next = False
        fake.id_token_overrides = {}
    return fake_providers
