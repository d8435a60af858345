"""What the OpenAPI schema publishes and what the API then does at its edges: `Allow` on a 405, the body
errors every JSON operation documents, and the media type."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(scope="module")
def openapi(client) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return client.get("/openapi.json").json()  # type: ignore[no-any-return]


def _operations(openapi: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, method, op) for path, item in openapi["paths"].items() for method, op in item.items()]


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("TRACE", "/v1/orders", "GET, POST"),
        ("DELETE", "/v1/orders/ord_x", "GET"),
        ("OPTIONS", "/v1/admin/users/usr_x/recruiter", "PATCH"),
        ("PUT", "/healthz", "GET"),
        ("POST", "/openapi.json", "GET, HEAD"),
    ],
)
def test_a_405_allows_every_method_of_the_path(client, method, path, allow) -> None:  # type: ignore[no-untyped-def]
    response = client.request(method, path)
    assert (response.status_code, response.headers["Allow"], response.json()["error"]["code"]) == (
        405,
        allow,
        "method_not_allowed",
    )


def test_every_json_body_operation_documents_its_body_errors(openapi) -> None:  # type: ignore[no-untyped-def]
    with_body = [(path, method, op) for path, method, op in _operations(openapi) if "requestBody" in op]
    assert len(with_body) == 6
    lacking = [
        (method, path, sorted({"400", "413", "415", "422"} - set(op["responses"])))
        for path, method, op in with_body
        if {"400", "413", "415", "422"} - set(op["responses"])
    ]
    assert lacking == []


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_a_body_that_is_not_json_is_a_415(client, client_headers, content_type) -> None:  # type: ignore[no-untyped-def]
    headers = {**client_headers, **({"Content-Type": content_type} if content_type else {})}
    response = client.post("/v1/users", content=b"role=buyer", headers=headers)
    assert (response.status_code, response.json()["error"]["code"]) == (415, "unsupported_media_type")
