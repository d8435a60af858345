"""Webhooks over the in-process app: verification, storage of every attempt, dedupe, anomalies."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from tests.api import webhook_payloads as payloads


def _events(engine: sa.Engine, source: str, raw: bytes) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT verdict, reason FROM webhook_events WHERE source = :s AND raw_body = :r "
                "ORDER BY webhook_event_id"
            ),
            {"s": source, "r": raw},
        )
        return [(row.verdict, row.reason) for row in rows]


def _order(engine: sa.Engine, order_id: str) -> sa.Row:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT * FROM orders WHERE order_id = :o"), {"o": order_id}).one()


def _outbox(engine: sa.Engine, order_id: str) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT dedupe_key, event_type FROM notifications WHERE payload->>'order_id' = :o "
                "ORDER BY notification_id"
            ),
            {"o": order_id},
        )
        return [(row.dedupe_key, row.event_type) for row in rows]


def test_v2_payment_marks_order_paid_once(client, settings, make_order, engine) -> None:  # type: ignore[no-untyped-def]
    order = make_order(25_000)
    raw, headers = payloads.phonepe_v2(settings, order["order_id"], 25_000)
    first = client.post("/v1/webhooks/phonepe", content=raw, headers=headers)
    assert (first.status_code, first.json()["status"], first.json()["reason"]) == (200, "accepted", "applied")
    second = client.post("/v1/webhooks/phonepe", content=raw, headers=headers)
    assert (second.status_code, second.json()["status"]) == (200, "duplicate")
    row = _order(engine, order["order_id"])
    assert (row.status, row.gateway_order_id, row.gateway_transaction_id, row.payment_mode) == (
        "paid",
        "OMO123",
        "OM456",
        "UPI_QR",
    )
    assert row.paid_at.timestamp() == 1_764_000_000
    assert _events(engine, "phonepe", raw) == [("accepted", "applied"), ("duplicate", "already_accepted")]
    oid = order["order_id"]
    assert _outbox(engine, oid) == [
        (f"order_status:{oid}:paid", "order_status_changed"),
        (f"payment:{oid}:succeeded", "payment_succeeded"),
    ]
    delivered = client.post(
        f"/v1/orders/{oid}/events",
        json={"event": "delivered"},
        headers={"Authorization": headers["Authorization"], "Idempotency-Key": "delivered-1"},
    )
    assert delivered.status_code == 401  # a webhook credential is not an API key


def test_v1_callback_and_failed_payment(client, settings, make_order, engine) -> None:  # type: ignore[no-untyped-def]
    paid, failed = make_order(1500), make_order(2500)
    raw, headers = payloads.phonepe_v1(settings, paid["order_id"], 1500)
    assert client.post("/v1/webhooks/phonepe", content=raw, headers=headers).json()["status"] == "accepted"
    assert (_order(engine, paid["order_id"]).status, _order(engine, paid["order_id"]).payment_mode) == ("paid", "UPI")
    raw, headers = payloads.phonepe_v2(settings, failed["order_id"], 2500, "checkout.order.failed")
    assert client.post("/v1/webhooks/phonepe", content=raw, headers=headers).json()["reason"] == "applied"
    row = _order(engine, failed["order_id"])
    assert (row.status, row.paid_at is None, row.payment_failed_at is not None) == ("payment_failed", True, True)
    oid = failed["order_id"]
    assert _outbox(engine, oid) == [
        (f"order_status:{oid}:payment_failed", "order_status_changed"),
        (f"payment:{oid}:failed", "payment_failed"),
    ]
    late, headers = payloads.phonepe_v2(settings, oid, 2500)
    assert client.post("/v1/webhooks/phonepe", content=late, headers=headers).json() | {"webhook_event_id": 0} == {
        "status": "anomaly",
        "reason": "paid_after_failure",
        "webhook_event_id": 0,
    }
    assert _order(engine, oid).status == "payment_failed"
    with engine.connect() as conn:  # reported, to be refunded if the gateway confirmed the failure
        stray = conn.execute(sa.text("SELECT status, reported_amount_paise FROM stray_payments WHERE order_id = :o"),
                             {"o": oid}).one()  # fmt: skip
    assert tuple(stray) == ("reported", 2500)


def test_amount_mismatch_is_an_anomaly(client, settings, make_order, engine) -> None:  # type: ignore[no-untyped-def]
    order = make_order(10_000)
    raw, headers = payloads.phonepe_v2(settings, order["order_id"], 9_999)
    response = client.post("/v1/webhooks/phonepe", content=raw, headers=headers)
    assert (response.json()["status"], response.json()["reason"]) == ("anomaly", "amount_mismatch")
    assert _order(engine, order["order_id"]).status == "created"
    assert _events(engine, "phonepe", raw) == [("anomaly", "amount_mismatch")]
    assert client.post("/v1/webhooks/phonepe", content=raw, headers=headers).json()["status"] == "duplicate"
    with engine.connect() as conn:
        finance = conn.execute(
            sa.text("SELECT audience, event_type FROM notifications WHERE dedupe_key = :k"),
            {"k": f"webhook_anomaly:{response.json()['webhook_event_id']}"},
        ).one()
    assert tuple(finance) == ("finance", "payment_anomaly")


def test_unknown_order_and_refund_events(client, settings, engine) -> None:  # type: ignore[no-untyped-def]
    raw, headers = payloads.phonepe_v2(settings, f"ord_{uuid.uuid4().hex}", 100)
    assert client.post("/v1/webhooks/phonepe", content=raw, headers=headers).json()["reason"] == "unknown_order"
    raw, headers = payloads.phonepe_refund(settings, "ord_x", f"rf_{uuid.uuid4().hex}", 100)
    response = client.post("/v1/webhooks/phonepe", content=raw, headers=headers)
    assert (response.json()["status"], response.json()["reason"]) == ("accepted", "stored_for_refund_pipeline")
    with engine.connect() as conn:
        row = conn.execute(
            sa.text("SELECT event_type, processed_at FROM webhook_events WHERE raw_body = :r"), {"r": raw}
        ).one()
    assert (row.event_type, row.processed_at) == ("pg.refund.completed", None)


def test_rejections_are_stored_and_change_nothing(client, settings, make_order, engine) -> None:  # type: ignore[no-untyped-def]
    order = make_order(10_000)
    raw, headers = payloads.phonepe_v2(settings, order["order_id"], 10_000)
    cases = [
        ({"Authorization": "0" * 64}, raw, "bad_signature"),
        ({}, raw, "missing_signature"),
        ({"X-VERIFY": "abc###1"}, b'{"response": "bm90IGpzb24="}', "malformed_body"),
        (headers, b'{"event": "something.else", "payload": {}}', "unknown_event"),
    ]
    for sent_headers, body, reason in cases:
        response = client.post("/v1/webhooks/phonepe", content=body, headers=sent_headers)
        assert (response.status_code, response.json()["error"]["code"]) == (401, "webhook_rejected")
        assert reason in response.json()["error"]["message"]
        assert ("rejected", reason) in _events(engine, "phonepe", body)
    assert _order(engine, order["order_id"]).status == "created"
    with engine.connect() as conn:
        stored = conn.execute(
            sa.text(
                "SELECT headers, source_address FROM webhook_events WHERE raw_body = :r AND reason = 'bad_signature'"
            ),
            {"r": raw},
        ).one()
    assert stored.headers["authorization"] == "[present]"
    assert "0" * 64 not in str(stored.headers)


def test_razorpayx_verified_stored_and_deduplicated(client, settings, engine) -> None:  # type: ignore[no-untyped-def]
    event_id = f"evt_{uuid.uuid4().hex}"
    raw, headers = payloads.razorpayx(settings, event_id)
    first = client.post("/v1/webhooks/razorpayx", content=raw, headers=headers)
    assert (first.status_code, first.json()["reason"]) == (200, "stored_for_payout_pipeline")
    assert client.post("/v1/webhooks/razorpayx", content=raw, headers=headers).json()["status"] == "duplicate"
    forged = client.post("/v1/webhooks/razorpayx", content=raw, headers={**headers, "X-Razorpay-Signature": "ab" * 32})
    assert (forged.status_code, forged.json()["error"]["code"]) == (401, "webhook_rejected")
    no_id = client.post(
        "/v1/webhooks/razorpayx", content=raw, headers={k: v for k, v in headers.items() if k != "X-Razorpay-Event-Id"}
    )
    assert no_id.status_code == 401 and "missing_event_id" in no_id.json()["error"]["message"]
    assert _events(engine, "razorpayx", raw) == [
        ("accepted", "stored_for_payout_pipeline"),
        ("duplicate", "already_accepted"),
        ("rejected", "bad_signature"),
        ("rejected", "missing_event_id"),
    ]
    metrics = client.get("/metrics").text
    assert 'ingest_webhook_verdicts_total{reason="bad_signature",source="razorpayx",verdict="rejected"}' in metrics
