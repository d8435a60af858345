"""The sandbox's fault matrix against the submission job, the webhook route and the status job:
timeouts, 5xx, 429 with Retry-After, dropped responses, duplicate and out-of-order webhooks. Whatever
happens, the sandbox's records show one payout per payout and the books balance.
"""

from __future__ import annotations

import datetime as dt
import time

import pytest
import sqlalchemy as sa

from domain.payouts import store as payout_store
from domain.payouts.submission import create_batch
from domain.users.tables import users
from tests.scenarios.books import Books, assert_books_sound, ist
from tests.scenarios.payouts import api, payouts, settle_status, submit, witness

D = dt.date(2026, 11, 10)


def _prepare(books: Books, sellers: int, vpa: str = "okaxis") -> list[str]:
    buyer = books.user("buyer")
    ids = [books.user("seller") for _ in range(sellers)]
    for n, seller in enumerate(ids):
        books.paid_order(buyer, seller, 20_000 + n, ist(D, 9), delivered_at=ist(D, 10))
    assert books.settle(D).success
    with books.engine.begin() as conn:
        for seller in ids:
            destination = {"type": "vpa", "vpa": f"{seller[-10:]}@{vpa}"}
            conn.execute(sa.update(users).where(users.c.user_id == seller).values(payout_destination=destination))
        create_batch(conn, D, settled_funds_only=False)
    return ids


def _submit_until_done(books: Books, **options: object) -> None:
    deadline = time.monotonic() + 60
    while books.one("SELECT count(*) AS n FROM payouts WHERE status = 'pending'").n:
        assert time.monotonic() < deadline, "payouts still pending"
        submit(books, **options)
        time.sleep(0.05)


@pytest.mark.parametrize(
    ("faults", "read_timeout_s"),
    [
        ({"timeout_rate": 0.5, "timeout_ms": 1_500}, 0.3),
        ({"error_rate": 0.5, "error_status": 503}, 5.0),
        ({"error_rate": 0.3, "error_status": 500, "drop_response_rate": 0.4}, 5.0),
    ],
    ids=["timeouts", "5xx", "5xx-and-dropped-responses"],
)
def test_fault_matrix_pays_each_payout_exactly_once(
    books: Books, faults: dict[str, object], read_timeout_s: float
) -> None:
    _prepare(books, 8)
    books.sandbox.set_faults({"payout_create": faults}, seed=11)
    _submit_until_done(books, read_timeout_s=read_timeout_s, max_attempts=20)
    books.sandbox.set_faults({})
    settle_status(books)
    made = witness(books)
    rows = payouts(books)
    assert len(rows) == len(made) == 8
    for row in rows:
        [gateway_payout] = made[row.payout_id]
        assert (row.status, gateway_payout["amount"]) == ("completed", row.amount_paise)
    outcomes = {a.outcome for a in books.rows("SELECT outcome FROM payout_attempts")}
    assert outcomes - {"accepted", "retriable", "found", "not_found", "unknown"} == set()
    assert outcomes & {"retriable", "found", "unknown"}  # the faults really happened
    assert_books_sound(books)


def test_429_retry_after_is_honoured(books: Books) -> None:
    _prepare(books, 1)
    books.sandbox.set_faults({"payout_create": {"rate_limit_rate": 1.0, "retry_after_s": 2, "limit": 1}})
    submit(books)
    [payout] = payouts(books)
    attempt = books.one("SELECT * FROM payout_attempts")
    assert (payout.status, attempt.outcome, attempt.http_status) == ("pending", "retriable", 429)
    assert (payout.next_attempt_at - attempt.started_at).total_seconds() >= 2  # backoff base is 0.01 s
    submit(books)
    assert payouts(books)[0].attempt_count == 1  # not due yet: nothing sent
    time.sleep(2.1)
    submit(books)
    settle_status(books)
    assert payouts(books)[0].status == "completed"
    assert [p["create_calls"] for p in witness(books)[payout.payout_id]] == [1]


def test_duplicate_and_out_of_order_webhooks(books: Books) -> None:
    ids = _prepare(books, 2)
    with books.engine.begin() as conn:  # the second payee's bank returns the money after paying it
        conn.execute(
            sa.update(users)
            .where(users.c.user_id == ids[1])
            .values(payout_destination={"type": "vpa", "vpa": "reverse.me@okaxis"})
        )
        conn.execute(sa.text("UPDATE payouts SET destination = '{\"vpa\": \"reverse.me@okaxis\"}' WHERE payee_id = :p"),
                     {"p": ids[1]})  # fmt: skip
    books.sandbox.configure(webhook_duplicate_rate=1.0, webhook_out_of_order=True)
    submit(books)
    books.sandbox.flush()
    hooks = books.sandbox.receiver.for_path("/razorpayx")
    assert len(hooks) == 6  # processed x2, then reversed x2 and processed x2 for the second, newest first
    settle_status(books)
    by_payee = {row.payee_id: row for row in payouts(books)}
    assert (by_payee[ids[0]].status, by_payee[ids[1]].status) == ("completed", "reversed")
    events = books.rows("SELECT verdict, count(*) AS n FROM webhook_events GROUP BY verdict ORDER BY verdict")
    assert [tuple(e) for e in events] == [("accepted", 3), ("duplicate", 3)]
    entries = books.rows("SELECT entry_type FROM journal_entries WHERE reference_id = :p ORDER BY entry_id",
                         p=by_payee[ids[1]].payout_id)  # fmt: skip
    assert [e.entry_type for e in entries] == ["payout_sent", "payout_completed", "payout_reversed"]
    assert books.balances()[f"seller_payable:{ids[1]}"] == -by_payee[ids[1]].amount_paise  # owed again
    assert_books_sound(books)


def test_admin_api_lists_retries_and_cancels_with_audit(books: Books) -> None:
    ids = _prepare(books, 3)
    client, admin = api(books)
    page = client.get("/v1/admin/payouts", params={"status": "pending", "limit": 2}, headers=admin).json()
    assert len(page["items"]) == 2 and page["next_cursor"]
    rest = client.get("/v1/admin/payouts", params={"status": "pending", "cursor": page["next_cursor"]}, headers=admin)
    assert len(rest.json()["items"]) == 1 and rest.json()["next_cursor"] is None
    target = rest.json()["items"][0]

    cancelled = client.post(f"/v1/admin/payouts/{target['payout_id']}/cancel", json={"reason": "fraud review"},
                            headers=admin)  # fmt: skip
    assert (cancelled.status_code, cancelled.json()["payout"]["status"]) == (200, "cancelled")
    again = client.post(f"/v1/admin/payouts/{target['payout_id']}/cancel", headers=admin)
    assert (again.status_code, again.json()["error"]["code"]) == (409, "illegal_payout_transition")
    missing = client.post("/v1/admin/payouts/pay_nope/retry", headers=admin)
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "payout_not_found")
    balance = client.get(f"/v1/payees/{target['payee_id']}/balance", headers=admin).json()
    assert (balance["available_paise"], balance["in_flight_paise"]) == (target["amount_paise"], 0)

    held = next(payee for payee in ids if payee != target["payee_id"])
    with books.engine.begin() as conn:
        payout_store.hold_payee(conn, held, "kyc", "finance@test")
    submit(books)
    statuses = {row.payee_id: row.status for row in payouts(books)}
    assert statuses[held] == "pending"  # on hold: not submitted
    assert sum(1 for s in statuses.values() if s in ("processing", "completed")) == 1
    audit = books.rows("SELECT action FROM audit_log ORDER BY audit_id")
    assert [a.action for a in audit] == ["payout.cancel", "payee.hold"]
    assert_books_sound(books)


def test_scout_withdrawal_api_refusals(books: Books) -> None:
    scout = books.user("scout")
    client, admin = api(books)

    def withdraw(scout_id: str, amount_paise: int):  # type: ignore[no-untyped-def]
        headers = {**admin, "Idempotency-Key": f"withdraw-{scout_id}-{amount_paise}"}
        return client.post(
            f"/v1/scouts/{scout_id}/payout-requests", json={"amount_paise": amount_paise}, headers=headers
        )

    low = withdraw(scout, 5_000)
    assert (low.status_code, low.json()["error"]["code"]) == (422, "payout_below_minimum")
    broke = withdraw(scout, 10_000)
    assert (broke.status_code, broke.json()["error"]["code"]) == (422, "insufficient_balance")
    seller = books.user("seller")
    wrong = withdraw(seller, 10_000)
    assert (wrong.status_code, wrong.json()["error"]["code"]) == (422, "not_an_active_scout")
    assert books.rows("SELECT * FROM scout_payout_requests") == []
