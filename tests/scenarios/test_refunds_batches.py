"""Refund submission a batch at a time, watched from another connection at each gateway call: the
batch's attempts are committed before its first create, its refunds stay locked until its answers
commit together, and a batch mixing every kind of answer records each as it would alone."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from domain.refunds import store, submission
from tests.scenarios import refunds
from tests.scenarios.books import Books, assert_books_sound, ist

D = dt.date(2026, 11, 10)


def _orders(books: Books, count: int) -> list[str]:
    buyer, seller = books.user("buyer"), books.user("seller")
    return [books.paid_order(buyer, seller, 20_000, ist(D, 9)) for _ in range(count)]


def _seen_from_outside(books: Books, refund_ids: list[str]) -> dict[str, Any]:
    """What another transaction sees while the submission makes a call: committed attempts, each
    refund's status, and which refunds it could not lock."""
    with books.engine.connect() as conn, conn.begin():
        locked = [rid for rid in refund_ids if store.lock_refund(conn, rid, skip_locked=True) is None]
        conn.rollback()
    statuses = {row.refund_id: row.status for row in books.rows("SELECT refund_id, status FROM refunds")}
    attempts = books.one("SELECT count(*) AS n FROM refund_attempts").n
    return {"attempts": attempts, "statuses": [statuses[rid] for rid in refund_ids], "locked": locked}


def test_a_batch_commits_its_attempts_before_its_first_call_and_its_answers_together(books: Books) -> None:
    ids = [refunds.request(books, order, 5_000, ist(D, 12)).refund_id for order in _orders(books, 5)]
    seen: list[dict[str, Any]] = []

    def watch(point: str, refund_id: str) -> None:
        if point == "gateway_call":
            seen.append({"refund_id": refund_id, **_seen_from_outside(books, ids)})

    client = books.sandbox.phonepe_client()
    try:
        options = refunds.options(books, concurrency=1, batch_size=3)
        summary = submission.submit_due(books.engine, client, options, now=ist(D, 12), hook=watch, rng=random.Random(7))
    finally:
        client.close()

    assert dict(summary.outcomes) == {"submitted": 5} and summary.gateway_calls == 5
    first, second = ids[:3], ids[3:]
    assert [s["refund_id"] for s in seen] == ids  # oldest due first
    for call in seen[:3]:  # the first batch: its three attempts committed, its refunds locked, none answered
        assert (call["attempts"], call["locked"], call["statuses"]) == (3, first, ["approved"] * 5)
    for call in seen[3:]:  # the second: the first batch's answers committed together, before it began
        assert (call["attempts"], call["locked"]) == (5, second)
        assert call["statuses"] == ["submitted"] * 3 + ["approved"] * 2
    made = refunds.witness(books)
    assert all(len(made[rid]) == 1 and made[rid][0]["create_calls"] == 1 for rid in ids)


def test_a_batch_mixing_every_answer_records_each_refund_as_it_would_alone(books: Books) -> None:
    buyer, seller = books.user("buyer"), books.user("seller")
    lost, fresh = _orders(books, 2)
    unpaid_at_gateway = books.paid_order(buyer, seller, 20_000, ist(D, 9), gateway=None)
    lost_answer = refunds.request(books, lost, 5_000, ist(D, 12)).refund_id
    books.sandbox.set_faults({"refund_create": {"timeout_rate": 1.0, "timeout_ms": 3_000, "limit": 1}})
    assert refunds.submit(books, ist(D, 12), read_timeout_s=0.5).outcomes == {"outcome_unknown": 1}
    books.sandbox.set_faults({})
    books.sandbox.flush()  # the lost create's refund completes at the gateway
    pending = refunds.request(books, fresh, 5_000, ist(D, 12)).refund_id
    books.sandbox.configure(refund_outcomes={pending: "PENDING"})
    refused = refunds.request(books, unpaid_at_gateway, 5_000, ist(D, 12)).refund_id

    summary = refunds.submit(books, ist(D, 13), concurrency=1)  # one batch: all three
    assert dict(summary.outcomes) == {"resolved_completed": 1, "submitted": 1, "rejected": 1}
    assert summary.gateway_calls == 2
    rows = {r.refund_id: r for r in books.rows("SELECT * FROM refunds")}
    attempts = books.rows("SELECT refund_id, outcome, http_status FROM refund_attempts ORDER BY refund_attempt_id")
    by_refund = {rid: [(a.outcome, a.http_status) for a in attempts if a.refund_id == rid] for rid in rows}
    assert by_refund == {
        lost_answer: [("found", 200)],
        pending: [("accepted", 200)],
        refused: [("rejected", 400)],
    }
    assert [(rows[r].status, rows[r].attempt_count) for r in (lost_answer, pending, refused)] == [
        ("completed", 1), ("submitted", 1), ("failed", 1),
    ]  # fmt: skip
    assert (rows[pending].gateway_state, rows[pending].next_check_at is not None) == ("PENDING", True)
    assert rows[pending].gateway_refund_id == refunds.witness(books)[pending][0]["refundId"]
    assert books.balances()["gateway_clearing"] == -5_000
    assert_books_sound(books)
