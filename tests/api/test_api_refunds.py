"""Refund routes: requests and their policy codes, idempotency, reads, and finance's decisions."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
import sqlalchemy as sa

from tests import factories


def _paid(engine: sa.Engine, make_user, amount_paise: int, *, hours_ago: float = 1.0) -> str:  # type: ignore[no-untyped-def]
    buyer, seller = make_user("buyer")["user_id"], make_user("seller")["user_id"]
    paid_at = dt.datetime.now(dt.UTC) - dt.timedelta(hours=hours_ago)
    return factories.paid_order(engine, buyer, seller, amount_paise, paid_at)


def _request(client, headers, order_id: str, body: dict[str, Any], key: str | None = "fresh"):  # type: ignore[no-untyped-def]
    extra = {"Idempotency-Key": uuid.uuid4().hex if key == "fresh" else key} if key else {}
    return client.post(f"/v1/orders/{order_id}/refunds", json=body, headers={**headers, **extra})


def _refund_count(engine: sa.Engine, order_id: str) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(sa.text("SELECT count(*) FROM refunds WHERE order_id = :o"), {"o": order_id}).scalar_one()
        )


def test_request_replay_and_reads(client, client_headers, make_user, engine) -> None:  # type: ignore[no-untyped-def]
    order = _paid(engine, make_user, 50_000)
    body = {"amount_paise": 20_000, "reason": "item_damaged", "note": "box crushed"}
    first = _request(client, client_headers, order, body, key="refund-1")
    assert first.status_code == 201, first.text
    refund = first.json()
    expected = {"order_id": order, "kind": "order", "amount_paise": 20_000, "reason": "item_damaged",
                "note": "box crushed", "status": "approved", "approval_reasons": []}  # fmt: skip
    assert {name: refund[name] for name in expected} == expected
    assert refund["refund_id"].startswith("rfd_") and len(refund["refund_id"]) <= 63

    replay = _request(client, client_headers, order, body, key="refund-1")
    assert (replay.status_code, replay.json(), replay.headers.get("Idempotent-Replayed")) == (201, refund, "true")
    conflict = _request(client, client_headers, order, {**body, "amount_paise": 20_001}, key="refund-1")
    assert (conflict.status_code, conflict.json()["error"]["code"]) == (409, "idempotency_conflict")
    assert _refund_count(engine, order) == 1

    got = client.get(f"/v1/refunds/{refund['refund_id']}", headers=client_headers)
    assert (got.status_code, got.json()) == (200, refund)
    listed = client.get(f"/v1/orders/{order}/refunds", headers=client_headers)
    assert (listed.status_code, [r["refund_id"] for r in listed.json()["items"]]) == (200, [refund["refund_id"]])
    with engine.connect() as conn:
        audit = conn.execute(
            sa.text("SELECT actor, action FROM audit_log WHERE target_id = :r"), {"r": refund["refund_id"]}
        ).all()
        notices = conn.execute(
            sa.text("SELECT event_type, user_id FROM notifications WHERE dedupe_key LIKE :k"),
            {"k": f"refund:{refund['refund_id']}:%"},
        ).all()
    assert [row.action for row in audit] == ["refund.request"] and audit[0].actor.startswith("test-client-")
    assert [row.event_type for row in notices] == ["refund_requested"]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"amount_paise": 50_001, "reason": "other"}, 409, "refund_exceeds_refundable"),
        ({"amount_paise": 0, "reason": "other"}, 422, "refund_amount_not_positive"),
        ({"amount_paise": -100, "reason": "other"}, 422, "refund_amount_not_positive"),
        ({"amount_paise": 99, "reason": "other"}, 422, "refund_below_minimum"),
        ({"amount_paise": 1_000, "reason": "changed_my_mind"}, 422, "validation_error"),
        ({"amount_paise": "1000", "reason": "other"}, 422, "validation_error"),
        ({"amount_paise": 1_000, "reason": "other", "extra": 1}, 422, "validation_error"),
        ({"amount_paise": 1_000, "reason": "other", "note": "<script>"}, 422, "validation_error"),
    ],
)
def test_refusals_change_nothing(client, client_headers, make_user, engine, body, status, code) -> None:  # type: ignore[no-untyped-def]
    order = _paid(engine, make_user, 50_000)
    response = _request(client, client_headers, order, body)
    assert (response.status_code, response.json()["error"]["code"]) == (status, code), response.text
    assert _refund_count(engine, order) == 0


def test_order_refusals(client, client_headers, make_user, make_order, engine) -> None:  # type: ignore[no-untyped-def]
    body = {"amount_paise": 1_000, "reason": "customer_request"}
    unpaid = make_order(5_000)["order_id"]
    assert _request(client, client_headers, unpaid, body).json()["error"]["code"] == "refund_order_not_paid"
    missing = _request(client, client_headers, "ord_nope", body)
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "order_not_found")
    old = _paid(engine, make_user, 5_000, hours_ago=31 * 24)
    closed = _request(client, client_headers, old, body)
    assert (closed.status_code, closed.json()["error"]["code"]) == (409, "refund_window_closed")
    order = _paid(engine, make_user, 5_000)
    no_key = _request(client, client_headers, order, body, key=None)
    assert (no_key.status_code, no_key.json()["error"]["code"]) == (400, "idempotency_key_required")
    bad_key = _request(client, client_headers, order, body, key="has space")
    assert (bad_key.status_code, bad_key.json()["error"]["code"]) == (400, "idempotency_key_required")
    assert client.get("/v1/refunds/rfd_nope", headers=client_headers).json()["error"]["code"] == "refund_not_found"
    assert (
        client.get("/v1/orders/ord_nope/refunds", headers=client_headers).json()["error"]["code"] == "order_not_found"
    )
    assert _refund_count(engine, order) == _refund_count(engine, old) == 0


def test_finance_approves_rejects_and_lists(client, client_headers, admin_headers, make_user, engine) -> None:  # type: ignore[no-untyped-def]
    order = _paid(engine, make_user, 900_000)
    big = _request(client, client_headers, order, {"amount_paise": 600_000, "reason": "wrong_item"}).json()
    assert (big["status"], big["approval_reasons"]) == ("requested", ["above_threshold"])
    other = _request(client, client_headers, order, {"amount_paise": 250_000, "reason": "wrong_item"}).json()
    assert other["status"] == "approved"
    over = _request(client, client_headers, order, {"amount_paise": 50_001, "reason": "other"})
    assert over.json()["error"]["code"] == "refund_exceeds_refundable"  # 900_000 - 600_000 - 250_000 in flight

    forbidden = client.post(f"/v1/admin/refunds/{big['refund_id']}/approve", headers=client_headers)
    assert (forbidden.status_code, forbidden.json()["error"]["code"]) == (403, "forbidden")
    no_reason = client.post(f"/v1/admin/refunds/{big['refund_id']}/reject", json={}, headers=admin_headers)
    assert (no_reason.status_code, no_reason.json()["error"]["code"]) == (422, "validation_error")
    rejected = client.post(f"/v1/admin/refunds/{big['refund_id']}/reject", json={"reason": "not eligible"},
                           headers=admin_headers)  # fmt: skip
    assert rejected.status_code == 200, rejected.text
    assert (rejected.json()["status"], rejected.json()["decision_note"]) == ("rejected", "not eligible")
    assert rejected.json()["decided_by"].startswith("test-admin-")
    again = client.post(f"/v1/admin/refunds/{big['refund_id']}/approve", headers=admin_headers)
    assert (again.status_code, again.json()["error"]["code"]) == (409, "refund_not_awaiting_approval")
    retry = client.post(f"/v1/admin/refunds/{other['refund_id']}/retry", headers=admin_headers)
    assert (retry.status_code, retry.json()["error"]["code"]) == (409, "refund_not_retryable")
    missing = client.post("/v1/admin/refunds/rfd_nope/approve", headers=admin_headers)
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "refund_not_found")

    page = client.get("/v1/admin/refunds", params={"order_id": order, "limit": 1}, headers=admin_headers).json()
    assert [r["refund_id"] for r in page["items"]] == [other["refund_id"]]  # newest first
    rest = client.get("/v1/admin/refunds", params={"order_id": order, "cursor": page["next_cursor"]},
                      headers=admin_headers).json()  # fmt: skip
    assert ([r["refund_id"] for r in rest["items"]], rest["next_cursor"]) == ([big["refund_id"]], None)
    by_status = client.get("/v1/admin/refunds", params={"order_id": order, "status": "rejected"}, headers=admin_headers)
    assert [r["refund_id"] for r in by_status.json()["items"]] == [big["refund_id"]]
    bad = client.get("/v1/admin/refunds", params={"cursor": "not a cursor"}, headers=admin_headers)
    assert (bad.status_code, bad.json()["error"]["code"]) == (400, "invalid_cursor")
    assert client.get("/v1/admin/refunds", headers=client_headers).status_code == 403
    with engine.connect() as conn:
        actions = (
            conn.execute(
                sa.text("SELECT action FROM audit_log WHERE target_id = :r ORDER BY audit_id"), {"r": big["refund_id"]}
            )
            .scalars()
            .all()
        )
    assert actions == ["refund.request", "refund.reject"]
