"""The OpenAPI contract is true: schemathesis generates requests for every operation of the running gateway
(valid and invalid, with a real bearer token) and checks every response against the documented statuses,
headers and body schemas, and that no request causes a server error."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import BaseSchema, CheckFunction, GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

pytestmark = pytest.mark.slow

MAX_EXAMPLES = 25
# Rules a JSON schema cannot state, answered with a documented 422: schema-valid requests may be refused.
SEMANTIC_RULES = {
    ("GET", "/api/v1/recycling/items/search"): "q must contain a letter or digit",
    ("GET", "/api/v1/locations/nearby"): "category must be a key of the taxonomy",
}


@pytest.fixture
def gateway_schema(api: httpx.Client) -> BaseSchema:
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
    excluded: list[CheckFunction] = [positive_data_acceptance] if operation in SEMANTIC_RULES else []
    case.call_and_validate(headers={"Authorization": f"Bearer {user_token}"}, excluded_checks=excluded)
