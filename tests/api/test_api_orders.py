"""Orders over the in-process app: idempotent creation, reads, pagination, events, hostile input, limits."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import anyio.to_thread
import httpx
import pytest
import sqlalchemy as sa
import structlog
from fastapi.testclient import TestClient

from ingest_api.app import create_app
from ingest_api.deps import ConnectionSlots


def _body(buyer: str, seller: str, **fields: object) -> dict[str, object]:
    return {
        "buyer_id": buyer,
        "seller_id": seller,
        "listing_id": "lst_9",
        "amount_paise": 49_900,
        "currency": "INR",
        **fields,
    }


@pytest.fixture
def parties(make_user) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    return make_user("buyer")["user_id"], make_user("seller")["user_id"]


def _count(engine: sa.Engine, sql: str, **params: object) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text(sql), params).scalar_one())


def test_create_replay_and_conflict(client, client_headers, parties, engine) -> None:  # type: ignore[no-untyped-def]
    headers = {**client_headers, "Idempotency-Key": uuid.uuid4().hex}
    first = client.post("/v1/orders", json=_body(*parties, title="Blue kurta, size M"), headers=headers)
    assert first.status_code == 201
    order = first.json()
    assert (order["status"], order["amount_paise"], order["currency"], order["title"]) == (
        "created",
        49_900,
        "INR",
        "Blue kurta, size M",
    )
    replay = client.post("/v1/orders", json=_body(*parties, title="Blue kurta, size M"), headers=headers)
    assert (replay.status_code, replay.json(), replay.headers["Idempotent-Replayed"]) == (201, order, "true")
    conflict = client.post("/v1/orders", json=_body(*parties, amount_paise=50_000), headers=headers)
    assert (conflict.status_code, conflict.json()["error"]["code"]) == (409, "idempotency_conflict")
    assert _count(engine, "SELECT count(*) FROM orders WHERE buyer_id = :b", b=parties[0]) == 1
    other_key = client.post(
        "/v1/orders", json=_body(*parties), headers={**client_headers, "Idempotency-Key": uuid.uuid4().hex}
    )
    assert other_key.status_code == 201 and other_key.json()["order_id"] != order["order_id"]


def test_connection_lost_under_order_creation_is_a_503_then_recovers(  # type: ignore[no-untyped-def]
    settings, client_headers, parties, engine
) -> None:
    app = create_app(settings)
    client = TestClient(app)
    headers = {**client_headers, "Idempotency-Key": uuid.uuid4().hex}
    assert client.post("/v1/orders", json=_body(*parties), headers=headers).status_code == 201
    raw = app.state.autocommit_engine.raw_connection()  # the one pooled connection the request used
    with raw.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    raw.close()
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar_one()
    lost = client.post("/v1/orders", json=_body(*parties), headers={**client_headers, "Idempotency-Key": "lost-1"})
    assert (lost.status_code, lost.json()["error"]["code"], lost.headers["Retry-After"]) == (
        503,
        "database_unavailable",
        "1",
    )
    assert "psycopg2" not in lost.text and "terminat" not in lost.text
    retried = client.post("/v1/orders", json=_body(*parties), headers={**client_headers, "Idempotency-Key": "lost-1"})
    assert retried.status_code == 201
    assert _count(engine, "SELECT count(*) FROM orders WHERE idempotency_key = 'lost-1'") == 1


def test_no_free_connection_is_a_503_and_opens_no_extra_backend(  # type: ignore[no-untyped-def]
    settings, client_headers, parties, engine
) -> None:
    app = create_app(settings.model_copy(update={"api_db_pool_size": 1}))
    client = TestClient(app)
    held = app.state.autocommit_engine.raw_connection()  # the pool's only connection, busy elsewhere
    try:
        headers = {**client_headers, "Idempotency-Key": uuid.uuid4().hex}
        busy = client.post("/v1/orders", json=_body(*parties), headers=headers)
        assert (busy.status_code, busy.json()["error"]["code"], busy.headers["Retry-After"]) == (
            503,
            "database_unavailable",
            "1",
        )
        assert app.state.autocommit_engine.pool.checkedout() == 1
        sql = "SELECT count(*) FROM orders WHERE idempotency_key = :k"
        assert _count(engine, sql, k=headers["Idempotency-Key"]) == 0
    finally:
        held.close()
    assert client.post("/v1/orders", json=_body(*parties), headers=headers).status_code == 201


def test_more_transactions_than_worker_threads_all_commit(asgi_client, settings, client_headers) -> None:  # type: ignore[no-untyped-def]
    """Requests wait for a connection slot on the event loop, not in a worker thread, so the threads
    never all wait for the pool while the transactions holding it need one to commit."""
    app = create_app(settings.model_copy(update={"api_db_pool_size": 2}))

    async def burst() -> list[int]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = 3
        async with asgi_client(app) as http:
            responses = await asyncio.gather(
                *(http.get("/v1/orders?limit=1", headers=client_headers) for _ in range(12))
            )
        return [response.status_code for response in responses]

    assert asyncio.run(burst()) == [200] * 12
    assert app.state.engine.pool.checkedout() == 0


def test_no_free_transaction_slot_is_a_503(asgi_client, settings, client_headers) -> None:  # type: ignore[no-untyped-def]
    app = create_app(settings)
    app.state.connection_slots = ConnectionSlots(1, timeout_s=0.2)

    async def while_the_only_slot_is_taken() -> tuple[httpx.Response, httpx.Response]:
        async with asgi_client(app) as http:
            slot = await app.state.connection_slots.take()
            busy = await http.get("/v1/orders?limit=1", headers=client_headers)
            slot.release()
            return busy, await http.get("/v1/orders?limit=1", headers=client_headers)

    busy, after = asyncio.run(while_the_only_slot_is_taken())
    assert (busy.status_code, busy.json()["error"]["code"], busy.headers["Retry-After"]) == (
        503,
        "database_unavailable",
        "1",
    )
    assert after.status_code == 200


@pytest.mark.parametrize("key", [None, "", "x" * 129, "has space", "tab\there"])
def test_idempotency_key_is_required(client, client_headers, parties, key) -> None:  # type: ignore[no-untyped-def]
    headers = dict(client_headers) if key is None else {**client_headers, "Idempotency-Key": key}
    response = client.post("/v1/orders", json=_body(*parties), headers=headers)
    assert (response.status_code, response.json()["error"]["code"]) == (400, "idempotency_key_required")


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"amount_paise": 99}, "amount_out_of_range"),
        ({"amount_paise": 100_000_001}, "amount_out_of_range"),
        ({"amount_paise": 10**30}, "validation_error"),
        ({"amount_paise": 0}, "validation_error"),
        ({"amount_paise": 100.5}, "validation_error"),
        ({"amount_paise": "100"}, "validation_error"),
        ({"amount_paise": True}, "validation_error"),
        ({"currency": "USD"}, "validation_error"),
        ({"title": "x" * 201}, "validation_error"),
        ({"title": "line\nbreak"}, "validation_error"),
        ({"title": "<img src=x onerror=alert(1)>"}, "validation_error"),
        ({"listing_id": "1' OR '1'='1"}, "validation_error"),
        ({"buyer_id": "usr_missing"}, "buyer_invalid"),
        ({"seller_id": "usr_missing"}, "seller_invalid"),
        ({"extra": "field"}, "validation_error"),
    ],
)
def test_invalid_orders(client, client_headers, parties, engine, change, code) -> None:  # type: ignore[no-untyped-def]
    from ingest_api.errors import ERROR_CODES

    before = _count(engine, "SELECT count(*) FROM orders")
    response = client.post(
        "/v1/orders", json=_body(*parties, **change), headers={**client_headers, "Idempotency-Key": uuid.uuid4().hex}
    )
    assert (response.status_code, response.json()["error"]["code"]) == (ERROR_CODES[code][0], code)
    assert "Traceback" not in response.text and "INSERT" not in response.text and "psycopg2" not in response.text
    assert _count(engine, "SELECT count(*) FROM orders") == before


def test_roles_and_status_of_parties(client, client_headers, make_user, engine) -> None:  # type: ignore[no-untyped-def]
    buyer, seller = make_user("buyer")["user_id"], make_user("seller")["user_id"]

    def post(b: str, s: str) -> str:
        response = client.post(
            "/v1/orders", json=_body(b, s), headers={**client_headers, "Idempotency-Key": uuid.uuid4().hex}
        )
        return response.json()["error"]["code"]

    assert post(seller, buyer) == "buyer_invalid"
    assert post(buyer, buyer) == "buyer_is_seller"
    assert post(buyer, make_user("buyer")["user_id"]) == "seller_invalid"
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE users SET status = 'suspended' WHERE user_id = :s"), {"s": seller})
    assert post(buyer, seller) == "seller_invalid"


@pytest.mark.parametrize(
    "raw",
    [b'{"buyer_id": ', b"[1, 2", b'{"amount_paise": ' + b"9" * 5000 + b"}", b"\xff\xfe", b"NaN"],
)
def test_malformed_bodies(client, client_headers, raw) -> None:  # type: ignore[no-untyped-def]
    headers = {**client_headers, "Idempotency-Key": uuid.uuid4().hex, "Content-Type": "application/json"}
    response = client.post("/v1/orders", content=raw, headers=headers)
    assert 400 <= response.status_code < 500
    assert response.json()["error"]["code"] in ("malformed_json", "validation_error")


def test_get_and_list_with_cursor(client, client_headers, make_user) -> None:  # type: ignore[no-untyped-def]
    buyer, seller = make_user("buyer")["user_id"], make_user("seller")["user_id"]
    ids = []
    for amount in (1000, 2000, 3000, 4000, 5000):
        response = client.post(
            "/v1/orders",
            json=_body(buyer, seller, amount_paise=amount),
            headers={**client_headers, "Idempotency-Key": uuid.uuid4().hex},
        )
        ids.append(response.json()["order_id"])
    one = client.get(f"/v1/orders/{ids[0]}", headers=client_headers).json()
    assert (one["order_id"], one["amount_paise"], one["status"], one["paid_at"]) == (ids[0], 1000, "created", None)
    seen, cursor = [], None
    while True:
        params = {"seller_id": seller, "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get("/v1/orders", params=params, headers=client_headers).json()
        seen += [item["order_id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(ids))
    by_buyer = client.get("/v1/orders", params={"buyer_id": buyer, "status": "created"}, headers=client_headers).json()
    assert len(by_buyer["items"]) == 5
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    assert (
        client.get("/v1/orders", params={"buyer_id": buyer, "created_from": future}, headers=client_headers).json()[
            "items"
        ]
        == []
    )
    assert (
        len(
            client.get("/v1/orders", params={"buyer_id": buyer, "created_to": future}, headers=client_headers).json()[
                "items"
            ]
        )
        == 5
    )
    for bad in ({"cursor": "bm9wZQ=="}, {"cursor": "***"}):
        response = client.get("/v1/orders", params=bad, headers=client_headers)
        assert (response.status_code, response.json()["error"]["code"]) == (400, "invalid_cursor")
    assert (
        client.get("/v1/orders", params={"status": "lost"}, headers=client_headers).json()["error"]["code"]
        == "validation_error"
    )
    missing = client.get("/v1/orders/ord_missing", headers=client_headers)
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "order_not_found")


def test_events_follow_the_lifecycle_and_write_the_outbox(client, client_headers, make_order, engine) -> None:  # type: ignore[no-untyped-def]
    order = make_order()
    url = f"/v1/orders/{order['order_id']}/events"

    def post(body: dict[str, str], order_url: str = url):  # type: ignore[no-untyped-def]
        return client.post(order_url, json=body, headers={**client_headers, "Idempotency-Key": uuid.uuid4().hex})

    early = post({"event": "delivered"})
    assert (early.status_code, early.json()["error"]["code"]) == (409, "illegal_transition")
    cancelled = post({"event": "cancelled"})
    assert (cancelled.status_code, cancelled.json()["status"]) == (200, "cancelled")
    assert cancelled.json()["cancelled_at"] is not None
    again = post({"event": "cancelled"})
    assert (again.status_code, again.json()["status"]) == (200, "cancelled")
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT dedupe_key, event_type, user_id, payload FROM notifications WHERE dedupe_key LIKE :k"),
            {"k": f"order_status:{order['order_id']}:%"},
        ).all()
    assert [(r.dedupe_key, r.event_type, r.user_id) for r in rows] == [
        (f"order_status:{order['order_id']}:cancelled", "order_status_changed", order["buyer_id"])
    ]
    assert rows[0].payload == {"order_id": order["order_id"], "previous_status": "created", "status": "cancelled"}
    bad = post({"event": "shipped"})
    assert bad.json()["error"]["code"] == "validation_error"
    missing = post({"event": "cancelled"}, "/v1/orders/ord_missing/events")
    assert missing.json()["error"]["code"] == "order_not_found"


def test_body_limit_with_and_without_content_length(client, client_headers) -> None:  # type: ignore[no-untyped-def]
    headers = {**client_headers, "Idempotency-Key": "big", "Content-Type": "application/json"}
    declared = client.post("/v1/orders", content=b"{" + b" " * 70_000 + b"}", headers=headers)
    assert (declared.status_code, declared.json()["error"]["code"]) == (413, "payload_too_large")

    def chunks():  # type: ignore[no-untyped-def]
        for _ in range(20):
            yield b" " * 4096

    chunked = client.post("/v1/orders", content=chunks(), headers=headers)
    assert (chunked.status_code, chunked.json()["error"]["code"]) == (413, "payload_too_large")


def test_rate_limit_per_key_with_retry_after(settings, new_key) -> None:  # type: ignore[no-untyped-def]
    app = create_app(settings.model_copy(update={"rate_limit_per_key_per_minute": 3}))
    client = TestClient(app)
    headers = {"Authorization": f"Bearer {new_key()}"}
    statuses = [client.get("/v1/orders/ord_x", headers=headers).status_code for _ in range(3)]
    limited = client.get("/v1/orders/ord_x", headers=headers)
    assert statuses == [404, 404, 404]
    assert (limited.status_code, limited.json()["error"]["code"]) == (429, "rate_limited")
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    other = TestClient(create_app(settings.model_copy(update={"rate_limit_per_key_per_minute": 3})))
    assert other.get("/v1/orders/ord_x", headers=headers).status_code == 429  # the count is shared, not per process


def test_metrics_and_access_log(client, client_headers, make_order) -> None:  # type: ignore[no-untyped-def]
    make_order()
    with structlog.testing.capture_logs() as logs:
        client.get("/v1/orders/ord_missing", headers={**client_headers, "X-Request-ID": "trace-me"})
    (line,) = (entry for entry in logs if entry.get("request_id") == "trace-me")
    assert (line["route"], line["status"], line["method"]) == ("/v1/orders/{order_id}", 404, "GET")
    assert line["key_name"].startswith("test-client-")
    assert client_headers["Authorization"][7:] not in repr(line)
    text = client.get("/metrics").text
    assert 'ingest_requests_total{method="POST",route="/v1/orders",status="201"}' in text
    assert "ingest_request_duration_seconds_bucket" in text
    assert 'ingest_orders_per_insert_bucket{le="1.0"}' in text
