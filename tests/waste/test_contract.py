"""The OpenAPI contract is true: schemathesis generates requests for every operation of the running gateway
(valid and invalid, with a real bearer token) and checks every response against the documented statuses,
headers and body schemas, and that no request causes a server error."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import BaseSchema, CheckFunction, GenerationMode
from schemathesis.specs.openapi.checks import allow_header_conformance, positive_data_acceptance

from tests.fakes.oauth_providers import FakeProvider
from tests.support.identity import CLIENTS, PROVIDER_PORTS

pytestmark = pytest.mark.slow

MAX_EXAMPLES = 25
# Rules a JSON schema cannot state, answered with a documented 4xx: schema-valid requests may be refused.
SEMANTIC_RULES = {
    ("GET", "/api/v1/recycling/items/search"): "q must contain a letter or digit",
    ("GET", "/api/v1/locations/nearby"): "category must be a key of the taxonomy",
    ("GET", "/api/v1/auth/{provider}/authorize"): "return_to must be a path on this site",
    ("GET", "/api/v1/auth/{provider}/callback"): "code and state must be those of a sign-in attempt",
    ("POST", "/api/v1/auth/{provider}/token"): "the credentials must be the provider's",
}


@pytest.fixture(scope="module")
def reachable_providers() -> Iterator[None]:
    """The fake Google, Kakao and Naver servers the test settings point at (a provider that cannot be
    reached is a documented 502, but a server error all the same)."""
    with contextlib.ExitStack() as servers:
        for kind, port in PROVIDER_PORTS.items():
            with contextlib.suppress(OSError):  # tests/auth's session fixture already serves them
                servers.enter_context(FakeProvider(kind, *CLIENTS[kind], port=port).serve())
        yield


@pytest.fixture
def gateway_schema(api: httpx.Client, reachable_providers: None) -> BaseSchema:
    loaded = schemathesis.openapi.from_url(f"{api.base_url}/openapi.json")
    # Valid and invalid requests both: invalid ones must be refused with a documented error.
    loaded.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
    return loaded


schema = schemathesis.pytest.from_fixture("gateway_schema")


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.filter_too_much,
        HealthCheck.too_slow,
    ],
)
def test_every_operation_keeps_its_contract(case: schemathesis.Case[Any], user_token: str) -> None:
    operation = (case.operation.method.upper(), case.operation.path)
    # Starlette answers an unsupported method with the Allow of the first route on the path only (GET, PATCH
    # and DELETE /users/me are three routes): a framework limit, so that one check is off everywhere.
    excluded: list[CheckFunction] = [allow_header_conformance]
    if operation in SEMANTIC_RULES:
        excluded.append(positive_data_acceptance)
    # A valid token, except where a negative case left the header out on purpose (it must then be refused).
    negative = case.meta is not None and case.meta.generation.mode is GenerationMode.NEGATIVE
    headers = {} if negative else {"Authorization": f"Bearer {user_token}"}
    case.call_and_validate(headers=headers, excluded_checks=excluded)
