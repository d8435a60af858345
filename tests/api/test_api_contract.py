"""What the OpenAPI schema publishes and what the API then does at its edges: `Allow` on a 405, the body
errors of every JSON operation, amount bounds, the recruiter change's "exactly one", query dates, cursors,
the media type and the API key scheme. `test_api_schemathesis` checks the same contract by generation."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from ingest_api.pagination import parse_time_cursor, time_cursor

IST = dt.timezone(dt.timedelta(hours=5, minutes=30))


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
    assert len(with_body) == 13  # PATCH /v1/users/{id} and PATCH /v1/admin/users/{id} are the 12th and 13th
    lacking = [
        (method, path, sorted({"400", "413", "415", "422"} - set(op["responses"])))
        for path, method, op in with_body
        if {"400", "413", "415", "422"} - set(op["responses"])
    ]
    assert lacking == []


def test_the_api_key_scheme_is_published_on_every_route_that_needs_one(openapi) -> None:  # type: ignore[no-untyped-def]
    assert openapi["components"]["securitySchemes"] == {
        "ApiKey": {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key: `Authorization: Bearer <key>`; admin routes need role admin.",
        }
    }
    security = {f"{method} {path}": op.get("security") for path, method, op in _operations(openapi)}
    public = {"get /healthz", "get /readyz", "post /v1/webhooks/phonepe", "post /v1/webhooks/razorpayx"}
    assert {operation for operation, required in security.items() if required is None} == public
    keyed = {operation: required for operation, required in security.items() if operation not in public}
    assert (len(keyed), [op for op, required in keyed.items() if required != [{"ApiKey": []}]]) == (
        29,
        [],
    )  # 4 notification routes; GET and PATCH /v1/users/{id}, PATCH /v1/admin/users/{id},
    # GET /v1/admin/payees/held-back; the payee statement


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
    response = client.post("/v1/users", json=body, headers={**client_headers, "Idempotency-Key": uuid.uuid4().hex})
    assert (response.status_code, response.json()["error"]["message"].split("; ")[0]) == (422, message)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"created_from": "0.5"}, "created_from"),
        ({"created_to": "2026-01-01T00:00:00"}, "created_to"),
        ({"created_to": "2026-01-01"}, "created_to"),
    ],
)
def test_query_times_are_rfc3339_with_an_offset(client, client_headers, params, field) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/v1/orders", params=params, headers=client_headers)
    assert (response.status_code, response.json()["error"]["message"]) == (
        422,
        f"Invalid request: {field}: Value error, not an RFC 3339 date or date-time (a date-time needs its UTC offset)",
    )


@pytest.mark.parametrize("batch_date", ["0", "20260101", "2026-02-30"])
def test_batch_dates_are_rfc3339_full_dates(client, admin_headers, batch_date) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/v1/admin/payouts", params={"batch_date": batch_date}, headers=admin_headers)
    assert (response.status_code, response.json()["error"]["code"]) == (422, "validation_error")


def test_query_times_beyond_the_utc_range_filter_like_its_ends(client, client_headers, make_order) -> None:  # type: ignore[no-untyped-def]
    buyer = make_order()["buyer_id"]
    earliest, latest = "0001-01-01T00:00:00+05:30", "9999-12-31T23:00:00-05:00"
    counts = [
        len(client.get("/v1/orders", params={"buyer_id": buyer, bound: at}, headers=client_headers).json()["items"])
        for bound in ("created_from", "created_to")
        for at in (earliest, latest)
    ]
    assert counts == [1, 0, 0, 1]


def test_a_time_cursor_is_the_exact_position() -> None:
    at = dt.datetime(2026, 3, 1, 9, 30, 15, 123_456, tzinfo=IST)
    cursor = time_cursor(at, "ord_0190abc")
    assert (cursor, parse_time_cursor(cursor)) == ("1772337615123456.ord_0190abc", (at, "ord_0190abc"))


@pytest.mark.parametrize(
    ("path", "cursor"),
    [("/v1/orders", "0.ord_none"), ("/v1/orders", "99999999999999999.ord_z"), ("/v1/admin/payouts", "pay_0")],
)
def test_any_cursor_in_the_published_format_is_a_position(client, admin_headers, path, cursor) -> None:  # type: ignore[no-untyped-def]
    response = client.get(path, params={"cursor": cursor, "limit": 1}, headers=admin_headers)
    assert response.status_code == 200
    if not cursor.startswith("9"):
        assert response.json() == {"items": [], "next_cursor": None}


@pytest.mark.parametrize(
    ("path", "cursor"),
    [
        ("/v1/orders", "bm9wZQ=="),
        ("/v1/orders", "1.2.3"),
        ("/v1/orders", "123456789012345678.ord_1"),
        ("/v1/orders", "pay_0"),
        ("/v1/admin/payouts", "0.pay_0"),
    ],
)
def test_a_cursor_in_another_format_is_invalid(client, admin_headers, path, cursor) -> None:  # type: ignore[no-untyped-def]
    response = client.get(path, params={"cursor": cursor}, headers=admin_headers)
    assert (response.status_code, response.json()["error"]["code"]) == (400, "invalid_cursor")


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_a_body_that_is_not_json_is_a_415(client, client_headers, content_type) -> None:  # type: ignore[no-untyped-def]
    headers = {**client_headers, "Idempotency-Key": uuid.uuid4().hex}
    headers |= {"Content-Type": content_type} if content_type else {}
    response = client.post("/v1/users", content=b"role=buyer", headers=headers)
    assert (response.status_code, response.json()["error"]["code"]) == (415, "unsupported_media_type")
