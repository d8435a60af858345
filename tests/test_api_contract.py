"""What the OpenAPI schema publishes and what the API then does at its edges: `Allow` on a 405, the body
errors of every JSON operation, amount bounds, the recruiter change's "exactly one", a buyer's payout
destination and the media type."""

from __future__ import annotations

import uuid
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


@pytest.mark.parametrize("model", ["OrderCreate", "WithdrawalRequest"])
def test_amounts_are_integers_every_json_parser_reads_exactly(openapi, model) -> None:  # type: ignore[no-untyped-def]
    amount = openapi["components"]["schemas"][model]["properties"]["amount_paise"]
    assert (amount["type"], amount["minimum"], amount["maximum"]) == ("integer", 1, 2**53 - 1)


def test_an_integral_amount_written_as_a_float_is_the_integer(client, client_headers, make_user) -> None:  # type: ignore[no-untyped-def]
    """JSON Schema's `integer` includes 1.0 and 1e4, so the API takes them; 1.5 is no integer."""
    body = {"buyer_id": make_user("buyer")["user_id"], "seller_id": make_user("seller")["user_id"]}
    body |= {"listing_id": "lst_1", "currency": "INR"}
    responses = [
        client.post(
            "/v1/orders",
            json={**body, "amount_paise": amount},
            headers={**client_headers, "Idempotency-Key": uuid.uuid4().hex},
        )
        for amount in (10_000.0, 1e4, 1.5)
    ]
    assert [(r.status_code, r.json().get("amount_paise")) for r in responses[:2]] == [(201, 10_000), (201, 10_000)]
    assert (responses[2].status_code, responses[2].json()["error"]["code"]) == (422, "validation_error")


def test_a_recruiter_change_takes_exactly_one_field(openapi, client, admin_headers, make_user) -> None:  # type: ignore[no-untyped-def]
    schema = openapi["components"]["schemas"]["RecruiterChange"]
    assert (schema["minProperties"], schema["maxProperties"], schema["additionalProperties"]) == (1, 1, False)
    url = f"/v1/admin/users/{make_user('buyer')['user_id']}/recruiter"
    empty = client.patch(url, json={}, headers=admin_headers)
    assert (empty.status_code, empty.json()["error"]["code"]) == (422, "validation_error")


def test_a_buyer_without_payout_destination_is_published(openapi) -> None:  # type: ignore[no-untyped-def]
    schema = openapi["components"]["schemas"]["UserCreate"]
    assert (schema["if"], schema["then"]) == (
        {"properties": {"role": {"const": "buyer"}}},
        {"properties": {"payout_destination": {"type": "null"}}},
    )


@pytest.mark.parametrize(
    ("destination", "message"),
    [
        ([], "Invalid request: payout_destination: give either vpa, or account_number, ifsc and account_name"),
        ({"vpa": 7}, "Invalid request: payout_destination.vpa.vpa: Input should be a valid string"),
        ({"ifsc": "HDFC0000001"}, "Invalid request: payout_destination.bank_account.account_number: Field required"),
    ],
)
def test_destination_errors_name_the_kind_not_the_model(client, client_headers, destination, message) -> None:  # type: ignore[no-untyped-def]
    body = {"role": "seller", "name": "Asha", "email": "a@example.in", "payout_destination": destination}
    response = client.post("/v1/users", json=body, headers=client_headers)
    assert (response.status_code, response.json()["error"]["message"].split("; ")[0]) == (422, message)


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_a_body_that_is_not_json_is_a_415(client, client_headers, content_type) -> None:  # type: ignore[no-untyped-def]
    headers = {**client_headers, **({"Content-Type": content_type} if content_type else {})}
    response = client.post("/v1/users", content=b"role=buyer", headers=headers)
    assert (response.status_code, response.json()["error"]["code"]) == (415, "unsupported_media_type")
