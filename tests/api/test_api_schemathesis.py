"""Property-based run over the published OpenAPI schema: no 5xx, and every response matches the schema.

Every operation gets a bounded number of generated requests (valid and invalid), sent with a valid
client API key unless the case brings its own Authorization header.
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

EXAMPLES_PER_OPERATION = 60
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def test_api_conforms_to_its_schema(api_app, client_headers) -> None:  # type: ignore[no-untyped-def]
    schema = schemathesis.openapi.from_asgi("/openapi.json", api_app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 9
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
        )
        def run(case):  # type: ignore[no-untyped-def]
            headers = dict(case.headers or {})
            headers.setdefault("Authorization", client_headers["Authorization"])
            case.headers = headers
            case.validate_response(case.call(), checks=CHECKS)

        run()
